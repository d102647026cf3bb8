// A guardrail decision in words: what the client reads when a rule refuses, and the one-line
// summary `vigil guardrails test` prints.
import type { GuardrailDecision } from './guardrail-policy.ts';

/** What the client reads when a rule denies: `guardrail RULE denied this command (where): message`. */
export function denialText(decision: GuardrailDecision, what: 'statement' | 'command'): string {
  return `guardrail ${decision.rule ?? ''} denied this ${what}${decision.via ? ` (${decision.via})` : ''}${decision.message ? `: ${decision.message}` : ''}`;
}

/** One line for a decision: `deny by rule no-drops: ask the DBA`. */
export function decisionLine(d: GuardrailDecision): string {
  if (d.rowLimit) return `allow under a row limit: rule ${d.rowLimit.rule} lets it change at most ${d.rowLimit.maxRows.toLocaleString('en-US')} rows (past that: ${d.rowLimit.action})`;
  if (d.action === 'allow') return d.rule ? `allow by rule ${d.rule}` : 'allow (no rule matches)';
  const verb = d.action === 'deny' ? 'deny' : 'hold for approval';
  return `${verb} by rule ${d.rule ?? '?'}${d.via ? `, for ${d.via}` : ''}${d.message ? `: ${d.message}` : ''}`;
}
