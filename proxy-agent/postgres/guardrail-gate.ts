// Guardrails on a PostgreSQL session: the agent reads each Query and Parse before it goes on, and
// a statement a rule denies never reaches the target as written. It is replaced by a statement the
// server itself refuses at once (a table that cannot exist, named with this session's token), so
// the server keeps the protocol's exact state: an error inside a transaction block aborts it,
// messages pipelined after it are skipped until Sync, and ReadyForQuery comes when it should.
// On the way back, the server's error for that name is rewritten into one that says which rule
// denied the statement and why. A string of several statements is denied whole. A fastpath
// FunctionCall (no SQL) counts as a CALL.
import crypto from 'node:crypto';
import type { GuardrailDecision, GuardrailPolicy } from '../guardrails/guardrail-policy.ts';
import { serialize } from './protocol/frontend-messages.ts';
import type { ClientMessage } from './protocol/client-messages.ts';
import { errorResponse } from './protocol/server-messages.ts';

const ERROR_CODE = 0x45; // 'E'
/** Denials awaiting their error, at most (the rest cannot be told apart any more). */
const MAX_PENDING = 1000;

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
  | null;

export class GuardrailGate {
  private readonly token = `vigil_denied_${crypto.randomBytes(6).toString('hex')}`;
  private readonly tokenBytes = Buffer.from(this.token);
  private count = 0;
  /** The error message each replaced statement is to get. */
  private readonly pending = new Map<number, string>();

  constructor(private readonly policy: GuardrailPolicy) {}

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
    if (decision.action !== 'deny') return null;
    const replacement = this.refuse(msg, `Vigil guardrail ${decision.rule ?? ''} denied this statement${decision.message ? `: ${decision.message}` : ''}`);
    return { kind: 'deny', replacement, denial: { decision, sql: text } };
  }

  /** What to send instead of a statement that must not run; its error will say `message`. */
  refuse(msg: ClientMessage, message: string): Buffer {
    const n = ++this.count;
    this.pending.set(n, message);
    if (this.pending.size > MAX_PENDING) this.pending.delete(this.pending.keys().next().value!);
    const sql = `SELECT FROM "${this.token}_${n}"`;
    return msg.type === 'parse' ? serialize.parse({ name: msg.statement, text: sql, types: msg.paramTypes }) : serialize.query(sql);
  }

  /** The server's error for a replaced statement, saying why instead; null for anything else. */
  rewrite(code: number, message: Buffer): Buffer | null {
    if (code !== ERROR_CODE || !message.includes(this.tokenBytes)) return null;
    const m = new RegExp(`${this.token}_(\\d+)`).exec(message.toString('latin1'));
    const n = m ? Number(m[1]) : 0;
    const text = this.pending.get(n);
    this.pending.delete(n);
    return errorResponse({
      severity: 'ERROR',
      code: '42501', // insufficient_privilege
      message: text ?? 'Vigil guardrail denied this statement',
      hint: 'The statement did not run. Ask an approver, or change the statement.',
    });
  }
}
