// One write under a `maxRows` rule, from the moment it is sent until its count is decided. The
// count is in its CommandComplete; the write must still be undoable when it arrives:
//   wrapped:  a simple Query outside a transaction block would commit before its CommandComplete,
//             so the agent opens one (BEGIN, its answers swallowed) and ends it itself: COMMIT under
//             the limit (the client then gets the CommandComplete, or COMMIT's error in its place),
//             ROLLBACK past it (the client gets the refusal); the client reads ReadyForQuery 'I'
//             as for the plain statement.
//   block:    inside the client's own transaction block: past the limit the CommandComplete is
//             swallowed and the server is made to fail a refusal in its place, so the block is
//             aborted as by a failed write.
//   extended: an Execute is not committed before Sync (or COMMIT): past the limit a refusal Parse
//             fails in place of the CommandComplete and the server skips to the client's Sync,
//             rolling the implicit transaction back (or aborting the block).
// An `approve` rule holds the write open (its transaction, locks and all) while approvers decide,
// within the approval's hold timeout. What the client reads is what the server would have
// answered had the write failed: the recorder reads the same messages.
import type { RowLimit } from '../guardrails/guardrail-policy.ts';
import type { Answer, Tap } from './answer-queue.ts';
import type { ClientMessage } from './protocol/client-messages.ts';
import { BackendCode } from './protocol/backend-codes.ts';
import { errorResponse } from './protocol/server-messages.ts';
import type { Refusal } from './statement-refusals.ts';
import { commandTag, countOf, notApprovedMessage, overLimitMessage, ROW_LIMIT_HINT } from './row-count.ts';
import { serialize } from './protocol/frontend-messages.ts';

export const FLUSH = serialize.flush();
const BEGIN = serialize.query('BEGIN');
const COMMIT = serialize.query('COMMIT');
const ROLLBACK = serialize.query('ROLLBACK');

/** The code of a refusal (as for every guardrail refusal: a policy said no, the server could have). */
export const REFUSAL_CODE = '42501';

/** A statement a `maxRows` rule limits, as the rule matched it. */
export interface LimitedStatement {
  limit: RowLimit;
  /** The statement's text the rule matched (recorded masked). */
  statement: string;
}

export interface WriteHost {
  /** The agent's own messages go upstream; `answers` are what the server owes for them. */
  send(bytes: Buffer, ...answers: Answer[]): void;
  /** Messages for the client outside a server chunk (after approvers decided). */
  deliver(messages: Buffer[]): void;
  /** A refusal the server itself fails (statement-refusals.ts), its error rewritten on the way back. */
  refuse(msg: ClientMessage, refusal: Refusal): Buffer;
  /** The statement the agent's refusal Parse is sent under (never one of the client's). */
  refusalName(): string;
  /** The count passed the limit (the recording's guardrail.hit). */
  hit(action: 'deny' | 'approve', rows: number): void;
  /** Asks approvers; null when approved, else why not. */
  approve(rows: number): Promise<string | null>;
  /** The count is decided: the client's next messages may go. */
  done(): void;
}

export type WriteMode = 'wrapped' | 'block' | 'extended';

export class LimitedWrite {
  /** The server asked for COPY data: the client's CopyData goes on while the rest waits. */
  copyIn = false;
  /** The statement's CommandComplete, held until it is decided. */
  private result: Buffer | null = null;
  private rows: number | null = null;
  private failed = false;
  private finished = false;

  constructor(private readonly host: WriteHost, private readonly limit: RowLimit, readonly mode: WriteMode) {}

  private get over(): boolean {
    return this.rows !== null && this.rows > this.limit.maxRows;
  }

  /** Wrapped: what goes first (BEGIN) and what the server owes for it; the client's Query follows once the block is open. */
  begin(query: Buffer): { bytes: Buffer; answer: Answer } {
    const tap: Tap = (code, message) => {
      if (code !== BackendCode.ReadyForQuery) return [];
      if (message[5] === 0x54 /* T */) this.host.send(query, { kind: 'query', tap: this.statementTap });
      else this.refuseQuery('Vigil could not open a transaction to count the rows this write changes; it did not run');
      return [];
    };
    return { bytes: BEGIN, answer: { kind: 'query', tap } };
  }

  /** A simple Query's messages, wrapped or in the client's block. */
  readonly statementTap: Tap = (code, message) => {
    switch (code) {
      case BackendCode.CopyInResponse:
        this.copyIn = true;
        return null;
      case BackendCode.CommandComplete:
        this.copyIn = false;
        this.rows = countOf(commandTag(message), this.limit.kind);
        if (this.mode === 'block' && !this.over) {
          this.finish();
          return null;
        }
        this.result = Buffer.from(message);
        return [];
      case BackendCode.ErrorResponse:
        this.copyIn = false;
        this.failed = true;
        if (this.mode === 'block') this.finish();
        return null;
      case BackendCode.ReadyForQuery:
        if (this.mode === 'block') return this.over ? this.decideInBlock(Buffer.from(message)) : null;
        this.decideWrapped();
        return [];
      default:
        return null;
    }
  };

  /** An Execute's messages (a Flush follows it, so its answer comes before the client's Sync). */
  readonly executeTap: Tap = (code, message) => {
    if (this.finished) return null;
    switch (code) {
      case BackendCode.CopyInResponse:
        this.copyIn = true;
        return null;
      case BackendCode.CommandComplete: {
        this.copyIn = false;
        this.rows = countOf(commandTag(message), this.limit.kind);
        if (!this.over) {
          this.finish();
          return null;
        }
        const result = Buffer.from(message);
        this.decide(() => {
          this.host.deliver([result]);
          this.finish();
        }, (text) => this.refuseExtended(text));
        return [];
      }
      case BackendCode.ErrorResponse:
      case BackendCode.EmptyQuery:
      case BackendCode.PortalSuspended:
        this.finish();
        return null;
      default:
        return null;
    }
  };

  /** The Execute failed or was skipped: there is nothing to count. */
  readonly unanswered = (): void => this.finish();

  private decideWrapped(): void {
    if (this.failed) return this.rollback(null);
    if (!this.over) return this.commit();
    this.decide(() => this.commit(), (text) => this.rollback(errorResponse({ severity: 'ERROR', code: REFUSAL_CODE, message: text, hint: ROW_LIMIT_HINT })));
  }

  private decideInBlock(ready: Buffer): Buffer[] {
    const result = this.result!;
    this.decide(() => {
      this.host.deliver([result, ready]);
      this.finish();
    }, (text) => this.refuseQuery(text));
    return [];
  }

  /** Past the limit: deny at once, or ask approvers (the write stays open meanwhile). */
  private decide(pass: () => void, refuse: (message: string) => void): void {
    const rows = this.rows!;
    if (this.limit.action === 'deny') {
      this.host.hit('deny', rows);
      return refuse(overLimitMessage(this.limit, rows));
    }
    this.host.hit('approve', rows);
    void this.host.approve(rows).then(
      (why) => (why === null ? pass() : refuse(notApprovedMessage(this.limit, rows, why))),
      (err: Error) => refuse(notApprovedMessage(this.limit, rows, `approvers could not be asked (${err.message})`)),
    );
  }

  /** COMMIT answers for the statement: its CommandComplete when it commits, its error when it does not. */
  private commit(): void {
    let failed = false;
    const tap: Tap = (code, message) => {
      switch (code) {
        case BackendCode.ErrorResponse:
          failed = true;
          return null;
        case BackendCode.NoticeResponse:
          return null; // a deferred trigger's, which the plain statement would have raised too
        case BackendCode.ReadyForQuery:
          return failed || !this.result ? null : [this.result, message];
        default:
          return [];
      }
    };
    this.host.send(COMMIT, { kind: 'query', tap });
    this.finish();
  }

  /** ROLLBACK's answers are the agent's: the client reads `error` (if any) and ReadyForQuery. */
  private rollback(error: Buffer | null): void {
    const tap: Tap = (code, message) => {
      if (code !== BackendCode.ReadyForQuery) return [];
      return error ? [error, message] : null;
    };
    this.host.send(ROLLBACK, { kind: 'query', tap });
    this.finish();
  }

  /** A Query the server fails in the statement's place: its error and ReadyForQuery (in a block, 'E') are the client's. */
  private refuseQuery(message: string): void {
    this.host.send(this.host.refuse({ type: 'query', sql: '' }, { code: REFUSAL_CODE, message, hint: ROW_LIMIT_HINT }), { kind: 'query' });
    this.finish();
  }

  /** A Parse the server fails: it skips the client's messages up to Sync, as after a failed Execute. */
  private refuseExtended(message: string): void {
    const parse = this.host.refuse({ type: 'parse', statement: this.host.refusalName(), sql: '', paramTypes: [] }, { code: REFUSAL_CODE, message, hint: ROW_LIMIT_HINT });
    this.host.send(Buffer.concat([parse, FLUSH]), { kind: 'parse' });
    this.finish();
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.copyIn = false;
    this.host.done();
  }
}
