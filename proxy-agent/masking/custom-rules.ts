// Operator-defined rules from the target's masking.rules. They run on every text (there is no
// prefilter for an arbitrary pattern) and after the built-ins when matches overlap.
import type { MaskRule } from '../../common/config/schema.ts';

export interface CompiledRule {
  name: string;
  re: RegExp;
}

/** Compiles each rule once; a pattern that does not compile is a configuration error naming the rule. */
export function compileRules(rules: readonly MaskRule[]): CompiledRule[] {
  return rules.map((rule, i) => {
    const flags = (rule.flags ?? '').replace(/[gy]/g, '') + 'g';
    try {
      return { name: rule.name, re: new RegExp(rule.pattern, flags) };
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      throw new Error(`masking rule ${rule.name} (rules[${i}]): pattern /${rule.pattern}/${rule.flags ?? ''} does not compile: ${reason}`);
    }
  });
}
