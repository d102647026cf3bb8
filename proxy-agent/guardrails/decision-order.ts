// How guardrail decisions rank, in one place for SQL, commands, typed lines and explanations:
// deny over approve over allow, and at the same level a rule's decision over the default.
import type { Guardrail, GuardrailAction } from '../../common/guardrails.ts';
import type { GuardrailDecision } from './guardrail-policy.ts';

export const SEVERITY: Record<GuardrailAction, number> = { allow: 0, approve: 1, deny: 2 };

/** `d` is to replace `current`: stricter, or as strict and naming a rule where `current` names none. */
export function stricter(d: GuardrailDecision, current: GuardrailDecision): boolean {
  return SEVERITY[d.action] > SEVERITY[current.action] || (SEVERITY[d.action] === SEVERITY[current.action] && !current.rule && !!d.rule);
}

/** The rule whose action what cannot be read gets by default: the first deny rule, else the first approve rule. */
export function strictestRule<T extends Pick<Guardrail, 'action'>>(rules: readonly T[]): T | undefined {
  return rules.find((r) => r.action === 'deny') ?? rules.find((r) => r.action === 'approve');
}
