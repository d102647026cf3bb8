// Guardrails on a PostgreSQL session: the agent reads each Query and Parse before it goes on, and
// a statement a rule denies never reaches the target as written: it is replaced by one the server
// refuses at once, whose error is rewritten to say which rule denied it and why
// (statement-refusals.ts). A string of several statements is denied whole. A fastpath
// FunctionCall (no SQL) counts as a CALL. A write under a `maxRows` rule runs, and its count
// decides (row-limit.ts).
import { denialText } from '../guardrails/decision-text.ts';
import type { GuardrailDecision, GuardrailPolicy, RowLimit } from '../guardrails/guardrail-policy.ts';
import type { ClientMessage } from './protocol/client-messages.ts';
import { StatementRefusals } from './statement-refusals.ts';

const HINT = 'The statement did not run. Ask an approver, or change the statement.';

export interface Denial {
  decision: GuardrailDecision;
  /** The client's message, in place of which the replacement went. */
  sql: string;
}

/** What the gate says of one client message. */
export type Verdict =
  | { kind: 'deny'; replacement: Buffer; denial: Denial }
  /** An `approve` rule: the message waits for approvers (then goes as is, or `refuse`). */
  | { kind: 'hold'; decision: GuardrailDecision; sql: string }
  /** A write a `maxRows` rule limits: it goes on, and its CommandComplete's count decides. */
  | { kind: 'limit'; limit: RowLimit; statement: string }
  | null;

export class GuardrailGate {
  constructor(
    private readonly policy: GuardrailPolicy,
    /** Shared with the session's other refusals: one token, one rewrite on the way back. */
    private readonly refusals: StatementRefusals = new StatementRefusals(),
  ) {}

  /**
   * For a Query, Parse or fastpath FunctionCall a rule denies: what to send instead, and the
   * decision; for one a rule holds, the decision. A FunctionCall is answered like a simple query
   * (an error, then ReadyForQuery), so a failing Query stands in for it.
   */
  review(msg: ClientMessage): Verdict {
    let decision: GuardrailDecision;
    let text: string;
    if (msg.type === 'query' || msg.type === 'parse') {
      decision = this.policy.checkSql(msg.sql);
      text = msg.sql;
    } else if (msg.type === 'function-call') {
      decision = this.policy.checkFunctionCall(msg.functionOid);
      text = decision.statement ?? '';
    } else return null;
    if (decision.action === 'approve') return { kind: 'hold', decision, sql: text };
    if (decision.rowLimit) return { kind: 'limit', limit: decision.rowLimit, statement: decision.statement ?? text };
    if (decision.action !== 'deny') return null;
    const replacement = this.refuse(msg, `Vigil ${denialText(decision, 'statement')}`);
    return { kind: 'deny', replacement, denial: { decision, sql: text } };
  }

  /** What to send instead of a statement that must not run; its error will say `message`. */
  refuse(msg: ClientMessage, message: string): Buffer {
    return this.refusals.refuse(msg, { code: '42501', message, hint: HINT });
  }

  /** The server's error for a replaced statement, saying why instead; null for anything else. */
  rewrite(code: number, message: Buffer): Buffer | null {
    return this.refusals.rewrite(code, message);
  }
}
