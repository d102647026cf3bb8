// One PostgreSQL statement as the watch view shows it on one row: its db.query with everything
// that answers it (by querySeq): the results, the error, COPY data, guardrail decisions, access
// holds, and the notices that came while it ran. Entries are values: an event that changes one
// makes a changed copy (watch-rows.ts replaces it in its row, the view re-renders that row only).
import type { EventData, MaskCounts, VigilEvent } from '../../../../common/events/schema.ts';
import { readsOnlyCatalog } from './catalog-queries.ts';

export interface StatementEntry {
  /** The db.query's seq (or, for an answer to no statement seen here, the answer's). */
  seq: number;
  time: string;
  /** null: a result or error that answers no statement held here (a login refused, a FATAL). */
  sql: string | null;
  params: EventData<'db.query'>['params'];
  results: readonly EventData<'db.result'>[];
  error: EventData<'db.error'> | null;
  notices: readonly EventData<'db.notice'>[];
  copies: readonly EventData<'db.copy'>[];
  guardrails: readonly EventData<'guardrail.hit'>[];
  access: readonly EventData<'access'>[];
  /** Values masked in the statement and its answers, by rule. */
  masked: MaskCounts | null;
  /** Reads only the catalog, the way psql's meta-commands do (catalog-queries.ts). */
  catalog: boolean;
  /** Its result or error came: what comes later is not its own. */
  done: boolean;
  /** The time of the last event that belongs to it. */
  lastTime: string;
}

/** The events that answer a statement by its querySeq. */
export type Answer = Extract<VigilEvent, { type: 'db.result' | 'db.error' | 'db.copy' | 'guardrail.hit' | 'access' | 'db.notice' }>;

export function mergeMasked(a: MaskCounts | null, b: MaskCounts | undefined): MaskCounts | null {
  if (!b || Object.keys(b).length === 0) return a;
  const out: MaskCounts = { ...(a ?? {}) };
  for (const [rule, n] of Object.entries(b)) out[rule] = (out[rule] ?? 0) + n;
  return out;
}

export function statementOf(e: Extract<VigilEvent, { type: 'db.query' }>): StatementEntry {
  return {
    seq: e.seq, time: e.time, sql: e.data.sql, params: e.data.params, results: [], error: null, notices: [], copies: [], guardrails: [],
    access: [], masked: mergeMasked(null, e.masked), catalog: readsOnlyCatalog(e.data.sql), done: false, lastTime: e.time,
  };
}

/** A result or error whose statement is not held here: an entry of its own, with no SQL. */
export function orphanOf(e: Extract<VigilEvent, { type: 'db.result' | 'db.error' }>): StatementEntry {
  const empty: StatementEntry = {
    seq: e.seq, time: e.time, sql: null, params: undefined, results: [], error: null, notices: [], copies: [], guardrails: [], access: [],
    masked: null, catalog: false, done: false, lastTime: e.time,
  };
  return answered(empty, e);
}

/** The entry with one more of its answers (a copy). */
export function answered(st: StatementEntry, e: Answer): StatementEntry {
  const next: StatementEntry = { ...st, masked: mergeMasked(st.masked, e.masked), lastTime: e.time };
  switch (e.type) {
    case 'db.result':
      return { ...next, results: [...st.results, e.data], done: true };
    case 'db.error':
      return { ...next, error: e.data, done: true };
    case 'db.copy':
      return { ...next, copies: [...st.copies, e.data] };
    case 'guardrail.hit':
      return { ...next, guardrails: [...st.guardrails, e.data] };
    case 'access':
      return { ...next, access: [...st.access, e.data] };
    case 'db.notice':
      return { ...next, notices: [...st.notices, e.data] };
  }
}

/** Rows over its results, and their summed duration in ms (null before a result came). */
export function outcomeOf(st: StatementEntry): { rows: number; ms: number } | null {
  if (st.results.length === 0) return null;
  return {
    rows: st.results.reduce((n, r) => n + r.rowCount, 0),
    ms: st.results.reduce((n, r) => n + r.durationUs, 0) / 1000,
  };
}

/** `EMAIL×2, CARD×1`. */
export function maskedSummary(masked: MaskCounts | null): string {
  return masked ? Object.entries(masked).map(([rule, n]) => `${rule}×${n}`).join(', ') : '';
}
