// Pairs each db.query with what answered it (its db.result events, or its db.error) into one
// statement index entry. The agent's recorder follows the protocol's FIFO (postgres-recorder.ts):
// every db.result and db.error names the db.query it answers (`querySeq`), and the server answers
// in the order it was asked, so once something answers query q, every query before q has had all
// the answers it will get. That holds under pipelining and the extended protocol:
//
// - an Execute (extended) gets one db.result (or "SUSPENDED" at its row limit; the next Execute on
//   the portal is a new db.query), so its first result completes it;
// - a simple Query may hold several statements (`BEGIN; UPDATE ...; COMMIT`): one db.result each,
//   with nothing saying which is the last, so it completes when a later query is answered, on an
//   error (the server skips the rest), or when the session ends; its entry sums the row counts and
//   lists every command tag;
// - an error in Parse/Bind names the Execute queued after it; Executes skipped after an error until
//   Sync, and function calls (whose answer is not recorded), complete unanswered: no tag, no error.
//
// Pending entries are the only state. They hold their SQL until answered, bounded: past
// MAX_PENDING entries or MAX_PENDING_CHARS of SQL (a client pipelining thousands of statements
// ahead of their answers), the oldest goes out unanswered.
import { z } from 'zod';
import type { EventOf } from '../../../common/events/index.ts';

export const MAX_PENDING = 256;
export const MAX_PENDING_CHARS = 256 * 1024;
/** Command tags kept per entry (a simple query of many statements lists the first ones). */
export const MAX_TAGS = 16;

export const PendingStatement = z.object({
  seq: z.number().int().positive(),
  time: z.string(),
  protocol: z.enum(['simple', 'extended', 'function']),
  sql: z.string(),
  results: z.number().int().nonnegative(),
  rowCount: z.number().int().nonnegative(),
  tags: z.array(z.string()).max(MAX_TAGS),
  durationUs: z.number().nonnegative(),
  endSeq: z.number().int().positive().nullable(),
});
export type PendingStatement = z.infer<typeof PendingStatement>;

export interface StatementError {
  code: string;
  message: string;
}

/** One statement as the index keeps it. */
export interface StatementEntry {
  sessionId: string;
  /** The db.query's seq and time. */
  seq: number;
  time: string;
  /** The last event that answered it (its last db.result, or its db.error); null if none did. */
  endSeq: number | null;
  protocol: 'simple' | 'extended' | 'function';
  sql: string;
  /** Rows returned or affected, summed over its results; null without a result. */
  rowCount: number | null;
  error: StatementError | null;
  /**
   * The server's time for its results (their durationUs, summed); for a failed statement the
   * time from the db.query to the db.error as the agent stamped them (ms precision). Null when
   * nothing answered.
   */
  durationMs: number | null;
  /** Command tags ("SELECT 3", "UPDATE 2"; several joined by "; "); null without a result. */
  tag: string | null;
}

export class StatementPairing {
  readonly pending: PendingStatement[];
  readonly #sessionId: string;
  #chars: number;

  constructor(sessionId: string, pending: PendingStatement[] = []) {
    this.#sessionId = sessionId;
    this.pending = pending;
    this.#chars = pending.reduce((n, p) => n + p.sql.length, 0);
  }

  query(e: EventOf<'db.query'>, out: StatementEntry[]): void {
    this.pending.push({
      seq: e.seq, time: e.time, protocol: e.data.protocol, sql: e.data.sql,
      results: 0, rowCount: 0, tags: [], durationUs: 0, endSeq: null,
    });
    this.#chars += e.data.sql.length;
    while (this.pending.length > MAX_PENDING || (this.#chars > MAX_PENDING_CHARS && this.pending.length > 1)) {
      out.push(this.#complete(0, null, null));
    }
  }

  result(e: EventOf<'db.result'>, out: StatementEntry[]): void {
    const i = this.#answered(e.data.querySeq, out);
    if (i < 0) return;
    const p = this.pending[i];
    p.results++;
    p.rowCount += e.data.rowCount;
    p.durationUs += e.data.durationUs;
    p.endSeq = e.seq;
    if (p.tags.length < MAX_TAGS) p.tags.push(e.data.command);
    if (p.protocol !== 'simple') out.push(this.#complete(i, null, null));
  }

  error(e: EventOf<'db.error'>, out: StatementEntry[]): void {
    if (e.data.querySeq === undefined) return;
    const i = this.#answered(e.data.querySeq, out);
    if (i < 0) return;
    this.pending[i].endSeq = e.seq;
    const ms = Math.max(0, Date.parse(e.time) - Date.parse(this.pending[i].time));
    out.push(this.#complete(i, { code: e.data.code, message: e.data.message }, ms));
  }

  /** Something else that answers a query (a db.copy): only what it says about the order. */
  answered(querySeq: number | undefined, out: StatementEntry[]): void {
    if (querySeq !== undefined) this.#answered(querySeq, out);
  }

  /** The session ended: nothing more will answer. */
  end(out: StatementEntry[]): void {
    while (this.pending.length > 0) out.push(this.#complete(0, null, null));
  }

  /** Completes every query asked before querySeq; returns the index of querySeq's entry, or -1. */
  #answered(querySeq: number, out: StatementEntry[]): number {
    while (this.pending.length > 0 && this.pending[0].seq < querySeq) out.push(this.#complete(0, null, null));
    return this.pending[0]?.seq === querySeq ? 0 : -1;
  }

  #complete(i: number, error: StatementError | null, errorMs: number | null): StatementEntry {
    const [p] = this.pending.splice(i, 1);
    this.#chars -= p.sql.length;
    const answered = p.results > 0;
    return {
      sessionId: this.#sessionId,
      seq: p.seq,
      time: p.time,
      endSeq: p.endSeq,
      protocol: p.protocol,
      sql: p.sql,
      rowCount: answered ? p.rowCount : null,
      error,
      durationMs: error ? errorMs : answered ? p.durationUs / 1000 : null,
      tag: answered ? p.tags.join('; ') + (p.results > p.tags.length ? '; …' : '') : null,
    };
  }
}
