// What a target's guardrails would do with a statement, a command line or a request, and why, in
// lines a policy writer reads (`vigil guardrails test`): each statement with what it does, what
// its bodies run and where, what could not be read, and the decision with its rule. Nothing
// connects anywhere: this is the agent's own reading, the one it applies on the data path.
import type { Guardrail } from '../../common/guardrails.ts';
import { RequestRules } from '../http/request-rules.ts';
import { stricter } from './decision-order.ts';
import { decisionLine } from './decision-text.ts';
import { type GuardrailDecision, GuardrailPolicy, type PolicyOptions } from './guardrail-policy.ts';
import { classify } from './statement-classifier.ts';

export interface Explanation {
  /** The decision for the whole input (the strictest of its parts). */
  decision: GuardrailDecision;
  lines: string[];
}

/**
 * SQL: statement by statement, in order, as one session would send them (a routine created by
 * one statement is known to the next).
 */
export function explainSql(rules: readonly Guardrail[], options: PolicyOptions, sql: string): Explanation {
  const policy = new GuardrailPolicy(rules, options);
  const statements = classify(sql);
  const lines: string[] = [];
  let decision: GuardrailDecision = { action: 'allow' };
  statements.forEach((s, i) => {
    lines.push(`statement ${i + 1}: ${oneLine(s.text)}`);
    lines.push(`  does: ${[...s.kinds].join(', ')}`);
    for (const inner of s.inner ?? []) lines.push(`  runs: ${oneLine(inner.text)} (${inner.where}): ${[...inner.kinds].join(', ')}`);
    for (const reason of s.unknown ?? []) lines.push(`  cannot read: ${reason}`);
    for (const r of s.defines ?? []) lines.push(`  creates: ${r.name}(), whose calls count as ${r.kinds.size ? [...r.kinds].join(', ') : 'nothing a rule names'}${r.unknown ? ' and unknown' : ''}`);
    const d = policy.checkSql(s.text);
    lines.push(`  decision: ${decisionLine(d)}`);
    if (stricter(d, decision)) decision = d;
  });
  if (statements.length === 0) lines.push('no statement');
  if (statements.length > 1) {
    // The agent decides a string of several statements whole: the strictest part decides.
    const whole = policy.checkSql(sql);
    if (whole.action !== decision.action) decision = whole;
    lines.push(`sent as one string: ${decisionLine(whole)}`);
  }
  return { decision, lines };
}

/** HTTP: `METHOD /path`. */
export function explainRequest(rules: readonly Guardrail[], request: string): Explanation {
  const m = /^([A-Za-z]+)\s+(\S+)$/.exec(request.trim());
  if (!m) throw new Error(`expected METHOD /path, e.g. 'DELETE /admin/users/7', not ${JSON.stringify(request)}`);
  const d = new RequestRules(rules).decide(m[1].toUpperCase(), m[2]);
  const decision: GuardrailDecision = d ? { action: d.action, rule: d.rule, ...(d.message ? { message: d.message } : {}), statement: d.request } : { action: 'allow' };
  return { decision, lines: [`request: ${d?.request ?? `${m[1].toUpperCase()} ${m[2]}`}`, `  decision: ${decisionLine(decision)}`] };
}

function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 160 ? `${flat.slice(0, 157)}...` : flat;
}
