// Statements the agent refuses without the target running them (a guardrail's denial, a COPY the
// client masking could not mask). A refused statement is replaced by one the server itself refuses
// at once (a table that cannot exist, named with this session's token), so the server keeps the
// protocol's exact state: an error inside a transaction block aborts it, messages pipelined after
// it are skipped until Sync, and ReadyForQuery comes when it should. On the way back, the server's
// error for that name is rewritten into the refusal's own (SQLSTATE, message, hint).
import crypto from 'node:crypto';
import { serialize } from './protocol/frontend-messages.ts';
import type { ClientMessage } from './protocol/client-messages.ts';
import { errorResponse } from './protocol/server-messages.ts';

const ERROR_CODE = 0x45; // 'E'
/** Refusals awaiting their error, at most (the rest cannot be told apart any more). */
const MAX_PENDING = 1000;

export interface Refusal {
  /** SQLSTATE; default 42501 insufficient_privilege. */
  code?: string;
  message: string;
  hint?: string;
}

const DEFAULT_REFUSAL: Refusal = { message: 'Vigil refused this statement' };

export class StatementRefusals {
  private readonly token = `vigil_denied_${crypto.randomBytes(6).toString('hex')}`;
  private readonly tokenBytes = Buffer.from(this.token);
  private count = 0;
  /** The error each replaced statement is to get. */
  private readonly pending = new Map<number, Refusal>();

  /**
   * What to send instead of a statement that must not run (a Query, or a Parse keeping its name
   * and parameter types); its error will be `refusal`. A FunctionCall is answered like a simple
   * query (an error, then ReadyForQuery), so a failing Query stands in for it.
   */
  refuse(msg: ClientMessage, refusal: Refusal): Buffer {
    const n = ++this.count;
    this.pending.set(n, refusal);
    if (this.pending.size > MAX_PENDING) this.pending.delete(this.pending.keys().next().value!);
    const sql = `SELECT FROM "${this.token}_${n}"`;
    return msg.type === 'parse' ? serialize.parse({ name: msg.statement, text: sql, types: msg.paramTypes }) : serialize.query(sql);
  }

  /** The server's error for a replaced statement, saying why instead; null for anything else. */
  rewrite(code: number, message: Buffer): Buffer | null {
    if (code !== ERROR_CODE || !message.includes(this.tokenBytes)) return null;
    const m = new RegExp(`${this.token}_(\\d+)`).exec(message.toString('latin1'));
    const n = m ? Number(m[1]) : 0;
    const refusal = this.pending.get(n) ?? DEFAULT_REFUSAL;
    this.pending.delete(n);
    return errorResponse({
      severity: 'ERROR',
      code: refusal.code ?? '42501', // insufficient_privilege
      message: refusal.message,
      ...(refusal.hint !== undefined ? { hint: refusal.hint } : {}),
    });
  }
}
