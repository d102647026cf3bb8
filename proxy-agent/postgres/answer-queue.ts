// What the server still owes a session, in order: one entry per message sent that it answers,
// each ended by the message that completes its answer. It follows the protocol's own rules, as the
// recorder does: pipelined messages are answered in order; an error in the extended protocol makes
// the server skip everything up to the next Sync; a simple Query (or a fastpath call) ends only
// with its ReadyForQuery. That is how the row limiter knows whose answer a message is, what the
// transaction status is once everything sent is answered, and whether the server would ignore a
// message sent now. The agent's own messages are entries like the client's.
import { BackendCode } from './protocol/backend-codes.ts';

export type AnswerKind = 'parse' | 'bind' | 'describe' | 'execute' | 'close' | 'sync' | 'query' | 'function';

/**
 * Reads the messages that answer one entry: null passes a message on as it is, a list goes to
 * the client in its place (empty: nothing).
 */
export type Tap = (code: number, message: Buffer) => Buffer[] | null;

export interface Answer {
  kind: AnswerKind;
  tap?: Tap;
  /** It ended without its own answer: it failed, or the server skipped it after an earlier error. */
  unanswered?: () => void;
}

export type TransactionStatus = 'I' | 'T' | 'E';

/** Entries that only ReadyForQuery ends. */
const ENDED_BY_READY = new Set<AnswerKind>(['sync', 'query', 'function']);

export class AnswerQueue {
  private readonly entries: Answer[] = [];
  private skippingToSync = false;
  private readonly waiters: (() => void)[] = [];
  /** The last ReadyForQuery's (a session starts idle). */
  status: TransactionStatus = 'I';

  get head(): Answer | undefined {
    return this.entries[0];
  }

  /** Everything sent is answered. */
  get idle(): boolean {
    return this.entries.length === 0;
  }

  /** An extended-protocol message failed and no Sync was sent since: the server reads and ignores all but a Sync. */
  get skipping(): boolean {
    return this.skippingToSync;
  }

  /** A message the server answers goes out. False: the server will ignore it (skipping to a Sync). */
  push(answer: Answer): boolean {
    if (answer.kind === 'sync') this.skippingToSync = false;
    else if (this.skippingToSync) return false;
    this.entries.push(answer);
    return true;
  }

  /** Resolves once everything sent so far (and since) is answered. */
  drained(): Promise<void> {
    if (this.idle) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** One server message, after the head's tap has read it. */
  consume(code: number, message: Buffer): void {
    const head = this.entries[0];
    switch (code) {
      case BackendCode.ReadyForQuery: {
        this.status = String.fromCharCode(message[5]) as TransactionStatus;
        const at = this.entries.findIndex((e) => ENDED_BY_READY.has(e.kind));
        this.end(at < 0 ? this.entries.length : at, at >= 0);
        break;
      }
      case BackendCode.ErrorResponse: {
        // A simple Query's (or a call's) error: its ReadyForQuery still comes. No entry: a FATAL.
        if (!head || head.kind === 'query' || head.kind === 'function') break;
        const sync = this.entries.findIndex((e) => e.kind === 'sync');
        this.end(sync < 0 ? this.entries.length : sync, false);
        if (sync < 0) this.skippingToSync = true;
        break;
      }
      case BackendCode.ParseComplete:
        this.endIf(head, 'parse');
        break;
      case BackendCode.BindComplete:
        this.endIf(head, 'bind');
        break;
      case BackendCode.CloseComplete:
        this.endIf(head, 'close');
        break;
      case BackendCode.NoData:
      case BackendCode.RowDescription:
        // A RowDescription answers a Describe, or heads the rows of a query or an Execute.
        this.endIf(head, 'describe');
        break;
      case BackendCode.CommandComplete:
      case BackendCode.EmptyQuery:
      case BackendCode.PortalSuspended:
        // A simple Query's string may have several statements: only ReadyForQuery ends it.
        this.endIf(head, 'execute');
        break;
      default:
        break;
    }
  }

  private endIf(head: Answer | undefined, kind: AnswerKind): void {
    if (head?.kind === kind) this.end(0, true);
  }

  /**
   * The first `unanswered` entries got no answer of their own (the latest first, so each restores
   * what the one before it left); with `answered`, the one after them is answered.
   */
  private end(unanswered: number, answered: boolean): void {
    const gone = this.entries.splice(0, unanswered + (answered ? 1 : 0));
    for (let i = unanswered - 1; i >= 0; i--) gone[i].unanswered?.();
    if (this.entries.length === 0) for (const wake of this.waiters.splice(0)) wake();
  }
}
