// A PostgreSQL recording's statements, read off its events: each db.query with the results, the
// error and the guardrail decision that answer it (by querySeq). Errors that answer no statement
// held here (a failed login, a connection-level FATAL) are entries of their own. DOM-free.
import type { EventData, VigilEvent } from '../../../../common/events/schema.ts';

/** A statement at or above this takes long (the hub's `slow` marker uses the same bound). */
export const SLOW_MS = 1000;

export interface Statement {
  /** The db.query's seq (or the lone error's). */
  seq: number;
  time: string;
  /** null: an error that answers no statement held here. */
  sql: string | null;
  params: EventData<'db.query'>['params'];
  results: EventData<'db.result'>[];
  error: EventData<'db.error'> | null;
  guardrail: EventData<'guardrail.hit'> | null;
  /** Rows over all its results (null before a result came). */
  rowCount: number | null;
  /** Summed over its results, ms (null before a result came). */
  durationMs: number | null;
  slow: boolean;
  failed: boolean;
  /** The last event that belongs to it. */
  lastSeq: number;
}

export function pairStatements(events: readonly VigilEvent[]): Statement[] {
  const list: Statement[] = [];
  const bySeq = new Map<number, Statement>();
  for (const e of events) {
    if (e.type === 'db.query') {
      const st: Statement = {
        seq: e.seq, time: e.time, sql: e.data.sql, params: e.data.params, results: [], error: null, guardrail: null,
        rowCount: null, durationMs: null, slow: false, failed: false, lastSeq: e.seq,
      };
      list.push(st);
      bySeq.set(e.seq, st);
      continue;
    }
    if (e.type !== 'db.result' && e.type !== 'db.error' && e.type !== 'guardrail.hit') continue;
    const st = e.data.querySeq !== undefined ? bySeq.get(e.data.querySeq) : undefined;
    if (e.type === 'db.error' && !st) {
      list.push({
        seq: e.seq, time: e.time, sql: null, params: undefined, results: [], error: e.data, guardrail: null,
        rowCount: null, durationMs: null, slow: false, failed: true, lastSeq: e.seq,
      });
      continue;
    }
    if (!st) continue;
    st.lastSeq = Math.max(st.lastSeq, e.seq);
    if (e.type === 'db.result') {
      st.results.push(e.data);
      st.rowCount = (st.rowCount ?? 0) + e.data.rowCount;
      st.durationMs = (st.durationMs ?? 0) + e.data.durationUs / 1000;
      st.slow = st.durationMs >= SLOW_MS;
    } else if (e.type === 'db.error') {
      st.error = e.data;
      st.failed = true;
    } else {
      st.guardrail = e.data;
      if (e.data.action === 'deny') st.failed = true;
    }
  }
  return list;
}

/** Index of the statement the playhead is in: the last that began at or before seq (-1: none). */
export function currentStatement(list: readonly Statement[], seq: number): number {
  let lo = 0;
  let hi = list.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid].seq <= seq) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}
