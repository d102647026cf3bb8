// An SSH target's guardrails on command lines: every command the line would run (shell-reading.ts:
// pipelines, lists, subshells, substitutions, `sh -c` strings, after sudo, env, xargs...) is held
// against the rules (command-pattern.ts). For each command the first rule that matches decides; a
// rule that could match only once the line runs (a variable among its words) makes the command
// unknown, as does anything the line runs that cannot be read (eval, `| sh`, a name in a
// variable). The line gets the strictest of its commands' decisions.
import type { Guardrail, GuardrailAction } from '../../common/guardrails.ts';
import { SEVERITY, stricter, strictestRule } from './decision-order.ts';
import { CommandPattern } from '../../common/command-pattern.ts';
import { decisionLine } from './decision-text.ts';
import type { GuardrailDecision } from './guardrail-policy.ts';
import { readShellLine, type ShellCommand, type ShellReading } from './shell-reading.ts';
import { readShellLineOffThread } from './shell-reading-offload.ts';

interface CommandRule {
  rule: Guardrail;
  pattern: CommandPattern;
}

/** What the unreadable gets: the configured action, or undefined for "the strictest rule that could apply". */
export interface UnknownSetting {
  configured?: GuardrailAction;
}

export class CommandRules {
  private readonly rules: CommandRule[];

  constructor(guardrails: readonly Guardrail[], private readonly unknown: UnknownSetting) {
    this.rules = guardrails.filter((g) => g.command).map((rule) => ({ rule, pattern: CommandPattern.parse(rule.command!) }));
  }

  get empty(): boolean {
    return this.rules.length === 0;
  }

  /** Long lines are read off the event loop (shell-reading-offload.ts). */
  async check(line: string): Promise<GuardrailDecision> {
    if (this.rules.length === 0) return { action: 'allow' };
    return this.decide(line, await readShellLineOffThread(line));
  }

  /** Lines for `vigil guardrails test`: each command, where it stands, and what decides. */
  explain(line: string): { decision: GuardrailDecision; lines: string[] } {
    const reading = readShellLine(line);
    const lines: string[] = [];
    reading.commands.forEach((c, i) => {
      const argv = c.argv.map((w) => (w === null ? '<run time>' : JSON.stringify(w))).join(' ');
      lines.push(`command ${i + 1}: ${c.text}${c.via.length ? `, in ${c.via.join(' > ')}` : ''}`);
      lines.push(`  words: ${argv}`);
      lines.push(`  decision: ${decisionLine(this.forCommand(c, line))}`);
    });
    for (const reason of reading.unknown) lines.push(`cannot read: ${reason}`);
    if (reading.incomplete) lines.push('the line is not complete: a shell would ask for more (checked whole at the last Enter)');
    const decision = this.decide(line, reading);
    if (reading.commands.length !== 1 || reading.unknown.length) lines.push(`the line: ${decisionLine(decision)}`);
    return { decision, lines };
  }

  private decide(line: string, reading: ShellReading): GuardrailDecision {
    if (this.rules.length === 0) return { action: 'allow' };
    if (reading.incomplete) return { action: 'allow', incomplete: true };
    let decision: GuardrailDecision = { action: 'allow' };
    for (const command of reading.commands) {
      const d = this.forCommand(command, line);
      if (stricter(d, decision)) decision = d;
    }
    if (reading.unknown.length > 0) {
      // Anything could run: every rule could apply.
      const d = this.unreadable(this.rules, reading.unknown[0]);
      if (SEVERITY[d.action] > SEVERITY[decision.action]) decision = d;
    }
    return decision.action === 'allow' && !decision.rule ? { action: 'allow' } : { ...decision, statement: line };
  }

  private forCommand(command: ShellCommand, line: string): GuardrailDecision {
    // Where it stood, when that is not simply the whole line.
    const whole = command.via.length === 0 && command.text.trim() === line.trim();
    const via = whole ? {} : {
      via: `${command.text}${command.via.length ? `, in ${command.via.join(' > ')}` : ''}`,
      ...(command.via.length ? { form: `in ${command.via.join(' > ')}` } : {}),
    };
    const could: CommandRule[] = [];
    let decided: GuardrailDecision = { action: 'allow' };
    for (const r of this.rules) {
      const match = r.pattern.match(command.argv);
      if (match === 'no') continue;
      if (match === 'maybe') {
        if (r.rule.action !== 'allow') could.push(r);
        continue;
      }
      decided = {
        action: r.rule.action,
        rule: r.rule.name,
        ...(r.rule.message ? { message: r.rule.message } : {}),
        ...via,
      };
      break;
    }
    if (could.length === 0) return decided;
    const unknown = this.unreadable(could, `words of ${command.text} are known only when it runs, and ${could.map((r) => r.pattern.describe()).join(' or ')} could match`);
    return SEVERITY[unknown.action] > SEVERITY[decided.action] ? unknown : decided;
  }

  /** What a command that could match `rules` gets: the target's setting, else the strictest of them. */
  private unreadable(rules: readonly CommandRule[], why: string): GuardrailDecision {
    const message = `it runs what the guardrails cannot read: ${why}`;
    if (this.unknown.configured) return { action: this.unknown.configured, rule: 'guardrail-unknown', message };
    const strictest = strictestRule(rules.map((r) => r.rule));
    return strictest ? { action: strictest.action, rule: strictest.name, message } : { action: 'allow' };
  }
}
