// The store's append, statement by statement. A round trip is what an append pays most for, in
// the hub (each one is a request written and an answer parsed) as in the database, so the usual
// batch (new events past everything stored, no hub's end) takes four: BEGIN, the lock, one statement
// that writes the runs, folds the summaries and moves the watermark, and the commit. Only a batch
// that repeats stored events or meets a hub's end reads first (newEvents) and writes after.
// Every function here runs inside the append's transaction, after lockSessions.
import type { SqlClient } from '../../store/sql-client.ts';
import type { StoredEvent } from './recording-store.ts';
import { cutRuns, INSERT_RUNS, runColumns, SEAL_BYTES, SEAL_SPAN_MS } from './segment-writer.ts';
import { summarizeInserted, type SessionDelta } from './summary-deltas.ts';

/** Segments a watermark looks at per step; a longer contiguous run takes several steps. */
const WATERMARK_STEP = 500;

/** What an append learns of each session it wrote: see SESSION_STATE. */
export interface SessionState {
  id: string;
  persisted_seq: number;
  last_seq: number;
  agent_mark: number;
  maybe_due: boolean;
}

// What an append reports for each session it touched: the watermark the agent may drop below (for
// a session a hub ended, below the hub's end: the agent's own event at that seq, in its outbox
// after a crash, must still be sent, and the hub's end gives way to it), and whether sealing may
// be due (sealDue then looks at the runs themselves).
export const SESSION_STATE = `s.id, s.persisted_seq, s.last_seq,
  CASE WHEN s.ended_by = 'hub' THEN least(s.persisted_seq, s.last_seq - 1) ELSE s.persisted_seq END AS agent_mark,
  s.unsealed_bytes > 0 AND (s.ended_at IS NOT NULL OR s.unsealed_bytes >= ${SEAL_BYTES}
    OR s.unsealed_until >= s.unsealed_from + interval '${SEAL_SPAN_MS} milliseconds') AS maybe_due`;

export const isHubEnd = (e: StoredEvent) => e.event.type === 'session.end' && e.event.data.writtenBy === 'hub';

/** Drops repeats of (sessionId, seq) inside the batch (first wins); sorts by session, then seq. */
export function uniqueSorted(events: readonly StoredEvent[]): StoredEvent[] {
  const seen = new Set<string>();
  const unique: StoredEvent[] = [];
  for (const e of events) {
    const key = `${e.event.sessionId}\n${e.event.seq}`;
    if (seen.has(key)) continue;
    seen.add(key);
    unique.push(e);
  }
  return unique.sort((a, b) =>
    a.event.sessionId < b.event.sessionId ? -1 : a.event.sessionId > b.event.sessionId ? 1 : a.event.seq - b.event.seq);
}

// The watermark p moves over the segments that continue it: in order of last_seq, the k-th
// segment continues the run when its first_seq is p + 1 plus the events of the k - 1 before it;
// after a gap the difference only grows. So the run is the rows where it holds, and the mark moves
// by their events. The rows are the stored segments past p and the runs this statement writes
// (which its own snapshot does not see), WATERMARK_STEP at most.
function advanceBy(id: string, mark: string, stored: boolean): string {
  const storedPast = `(SELECT g.first_seq, g.last_seq, g.event_count FROM segments g
      WHERE g.session_id = ${id} AND g.last_seq > ${mark} ORDER BY g.last_seq LIMIT ${WATERMARK_STEP}) UNION ALL`;
  return `coalesce((
    SELECT sum(w.n) FROM (
      SELECT a.event_count AS n, a.first_seq - (sum(a.event_count) OVER (ORDER BY a.last_seq) - a.event_count) AS d
      FROM (${stored ? storedPast : ''}
            SELECT r.first_seq, r.last_seq, r.event_count FROM runs r WHERE r.session_id = ${id}
            ORDER BY 2 LIMIT ${WATERMARK_STEP}) a
    ) w WHERE w.d = ${mark} + 1), 0)`;
}

// Whether a segment continues the watermark still (the step stopped at its limit, not at a gap).
const CONTINUES = `coalesce((SELECT g.first_seq FROM segments g WHERE g.session_id = s.id AND g.last_seq > s.persisted_seq
    ORDER BY g.last_seq LIMIT 1) = s.persisted_seq + 1, false)
  OR EXISTS (SELECT 1 FROM runs r WHERE r.session_id = s.id AND r.first_seq = s.persisted_seq + 1) AS continues`;

// Any event can create the summary (a session's events may arrive before its session.start is
// re-delivered); session.start's metadata and time win once they arrive. With $20 the statement
// writes nothing unless every session's batch starts past all it has stored ($21: the lowest seq
// of each) and no hub ended it: then nothing in the batch can be stored already.
const WRITE_BATCH = `
  WITH fresh AS (
    SELECT NOT $20::boolean OR NOT EXISTS (
      SELECT 1 FROM unnest($1::text[], $21::int8[]) AS b(id, lo) JOIN sessions s ON s.id = b.id
      WHERE s.last_seq >= b.lo OR s.ended_by = 'hub' OR s.purged_at IS NOT NULL) AS ok),
  runs AS (
    ${INSERT_RUNS(22)} WHERE (SELECT ok FROM fresh)
    RETURNING session_id, first_seq, last_seq, event_count)
  INSERT INTO sessions AS s (id, protocol, user_name, target, client_addr, agent_id, started_at, start_seen,
    ended_at, end_reason, last_seq, event_count, query_count, error_count, ended_by, unsealed_bytes, unsealed_from, unsealed_until,
    end_message, persisted_seq)
  SELECT d.*, ${advanceBy('d.id', '0', false)} FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
    $7::timestamptz[], $8::boolean[], $9::timestamptz[], $10::text[], $11::int8[], $12::int8[], $13::int8[], $14::int8[], $15::text[],
    $16::int8[], $17::timestamptz[], $18::timestamptz[], $19::text[])
    AS d(id, protocol, user_name, target, client_addr, agent_id, started_at, start_seen, ended_at, end_reason, last_seq,
         event_count, query_count, error_count, ended_by, unsealed_bytes, unsealed_from, unsealed_until, end_message)
  WHERE (SELECT ok FROM fresh)
  ON CONFLICT (id) DO UPDATE SET
    protocol = CASE WHEN excluded.start_seen THEN excluded.protocol ELSE s.protocol END,
    user_name = CASE WHEN excluded.start_seen THEN excluded.user_name ELSE s.user_name END,
    target = CASE WHEN excluded.start_seen THEN excluded.target ELSE s.target END,
    client_addr = CASE WHEN excluded.start_seen THEN excluded.client_addr ELSE s.client_addr END,
    agent_id = CASE WHEN excluded.start_seen THEN excluded.agent_id ELSE s.agent_id END,
    started_at = CASE WHEN excluded.start_seen THEN excluded.started_at
                      WHEN s.start_seen THEN s.started_at
                      ELSE least(s.started_at, excluded.started_at) END,
    start_seen = s.start_seen OR excluded.start_seen,
    ended_at = coalesce(excluded.ended_at, s.ended_at),
    end_reason = coalesce(excluded.end_reason, s.end_reason),
    ended_by = CASE WHEN excluded.ended_at IS NOT NULL THEN excluded.ended_by ELSE s.ended_by END,
    end_message = CASE WHEN excluded.ended_at IS NOT NULL THEN excluded.end_message ELSE s.end_message END,
    last_seq = greatest(s.last_seq, excluded.last_seq),
    event_count = s.event_count + excluded.event_count,
    query_count = s.query_count + excluded.query_count,
    error_count = s.error_count + excluded.error_count,
    unsealed_bytes = s.unsealed_bytes + excluded.unsealed_bytes,
    unsealed_from = least(s.unsealed_from, excluded.unsealed_from),
    unsealed_until = greatest(s.unsealed_until, excluded.unsealed_until),
    persisted_seq = s.persisted_seq + ${advanceBy('s.id', 's.persisted_seq', true)},
    updated_at = now()
  RETURNING ${SESSION_STATE}, ${CONTINUES}`;

// A later step of the watermarks, for sessions whose run went on past WATERMARK_STEP segments.
const ADVANCE_WATERMARKS = `
  WITH runs AS (SELECT NULL::text AS session_id, 0::int8 AS first_seq, 0::int8 AS last_seq, 0::int4 AS event_count WHERE false)
  UPDATE sessions s SET persisted_seq = s.persisted_seq + ${advanceBy('s.id', 's.persisted_seq', true)}
  WHERE s.id = ANY($1::text[])
  RETURNING ${SESSION_STATE}, ${CONTINUES}`;

type WrittenState = SessionState & { continues: boolean };

/**
 * Writes `sorted` (unique, by session then seq) as runs, folds it into the summaries and moves
 * the watermarks. With `onlyIfFresh`, writes nothing and returns null unless no event of the
 * batch can be stored already (see WRITE_BATCH); the caller then sorts out the batch itself.
 */
export async function writeBatch(tx: SqlClient, sorted: readonly StoredEvent[], onlyIfFresh: boolean): Promise<SessionState[] | null> {
  const deltas = summarizeInserted(sorted.map((e) => e.event));
  const params = [...deltaParams(deltas, unsealedOf(sorted)), onlyIfFresh, deltas.map((d) => lowestSeq(sorted, d.id)),
    ...runColumns(cutRuns(sorted, isHubEnd))];
  const { rows } = await tx.query<WrittenState>(WRITE_BATCH, params, { prepare: 'append.write' });
  if (rows.length === 0) return null;
  return advanceFurther(tx, rows);
}

/** Further watermark steps for the sessions whose run goes on. */
async function advanceFurther(tx: SqlClient, written: WrittenState[]): Promise<SessionState[]> {
  const states = new Map(written.map((r) => [r.id, r]));
  let pending = written.filter((r) => r.continues).map((r) => r.id);
  while (pending.length > 0) {
    const { rows } = await tx.query<WrittenState>(ADVANCE_WATERMARKS, [pending], { prepare: 'append.advance' });
    for (const row of rows) states.set(row.id, row);
    pending = rows.filter((r) => r.continues).map((r) => r.id);
  }
  return [...states.values()].map(({ continues: _c, ...state }) => state);
}

function lowestSeq(sorted: readonly StoredEvent[], sessionId: string): number {
  return sorted.find((e) => e.event.sessionId === sessionId)!.event.seq;
}

interface Unsealed {
  bytes: number;
  since: string;
  until: string;
}

/** Per session: the raw bytes its new events add, and the earliest and latest of their times. */
function unsealedOf(inserted: readonly StoredEvent[]): Map<string, Unsealed> {
  const out = new Map<string, Unsealed>();
  for (const e of inserted) {
    const u = out.get(e.event.sessionId);
    const bytes = Buffer.byteLength(e.body) + 1;
    if (!u) out.set(e.event.sessionId, { bytes, since: e.event.time, until: e.event.time });
    else {
      u.bytes += bytes;
      if (e.event.time < u.since) u.since = e.event.time;
      if (e.event.time > u.until) u.until = e.event.time;
    }
  }
  return out;
}

/** WRITE_BATCH's $1 to $19, in the columns' order. */
function deltaParams(deltas: readonly SessionDelta[], unsealed: Map<string, Unsealed>): unknown[] {
  return [
    deltas.map((d) => d.id),
    deltas.map((d) => d.protocol),
    deltas.map((d) => d.user),
    deltas.map((d) => d.target),
    deltas.map((d) => d.client),
    deltas.map((d) => d.agent),
    deltas.map((d) => d.startedAt),
    deltas.map((d) => d.startSeen),
    deltas.map((d) => d.endedAt),
    deltas.map((d) => d.endReason),
    deltas.map((d) => d.lastSeq),
    deltas.map((d) => d.eventCount),
    deltas.map((d) => d.queryCount),
    deltas.map((d) => d.errorCount),
    deltas.map((d) => d.endedBy),
    deltas.map((d) => unsealed.get(d.id)?.bytes ?? 0),
    deltas.map((d) => unsealed.get(d.id)?.since ?? null),
    deltas.map((d) => unsealed.get(d.id)?.until ?? null),
    deltas.map((d) => d.endMessage ?? null),
  ];
}

interface StoredRow {
  id: string;
  last_seq: number | string | null;
  ended: boolean | null;
  ended_by: string | null;
  purged: boolean | null;
  firsts: Array<number | string> | null;
  lasts: Array<number | string> | null;
}

/**
 * The events of `sorted` that are not stored yet, after the hub's ends are reconciled, in one
 * read: each session's summary and the segments the batch's seqs fall in.
 *
 * A hub ends a session whose agent is gone with an end one seq past the last it had. The agent
 * may still deliver (its outbox after a restart, a link that came back): then the hub's end gives
 * way. It is removed when the agent sends an event at or past its seq, or an end of its own, and
 * the session is live again until the agent's end arrives or a hub ends it once more. A hub's end
 * for a session that has ended already, or that is no longer past every event, is dropped.
 * A hub's end is a segment of its own (cutRuns), so giving way removes one row.
 */
export async function newEvents(tx: SqlClient, sorted: readonly StoredEvent[]): Promise<StoredEvent[]> {
  const ranges = new Map<string, { lo: number; hi: number }>();
  for (const e of sorted) {
    const r = ranges.get(e.event.sessionId);
    if (!r) ranges.set(e.event.sessionId, { lo: e.event.seq, hi: e.event.seq });
    else r.hi = e.event.seq;
  }
  const ids = [...ranges.keys()];
  const { rows } = await tx.query<StoredRow>(
    `SELECT r.id, s.last_seq, s.ended_at IS NOT NULL AS ended, s.ended_by, s.purged_at IS NOT NULL AS purged, c.firsts, c.lasts
     FROM unnest($1::text[], $2::int8[], $3::int8[]) AS r(id, lo, hi)
     LEFT JOIN sessions s ON s.id = r.id
     CROSS JOIN LATERAL (SELECT array_agg(g.first_seq) AS firsts, array_agg(g.last_seq) AS lasts FROM segments g
                         WHERE g.session_id = r.id AND g.last_seq >= r.lo AND g.first_seq <= r.hi) c`,
    [ids, ids.map((id) => ranges.get(id)!.lo), ids.map((id) => ranges.get(id)!.hi)], { prepare: 'append.read' });
  const current = new Map<string, { lastSeq: number; ended: boolean }>();
  const covered = new Map<string, Array<[number, number]>>();
  // A purged recording stays purged: a late copy of its events (a bus re-delivering) is not stored again.
  const purged = new Set(rows.filter((r) => r.purged === true).map((r) => r.id));
  for (const row of rows) {
    const spans = (row.firsts ?? []).map((f, i): [number, number] => [Number(f), Number(row.lasts![i])]);
    if (row.last_seq === null) continue;
    let state = { lastSeq: Number(row.last_seq), ended: row.ended === true };
    if (row.ended_by === 'hub' && overtakes(sorted, row.id, state.lastSeq)) {
      await giveWay(tx, row.id, state.lastSeq);
      const hubEnd = state.lastSeq;
      spans.splice(0, spans.length, ...spans.filter(([f, l]) => !(f === hubEnd && l === hubEnd)));
      state = { lastSeq: hubEnd - 1, ended: false };
    }
    current.set(row.id, state);
    covered.set(row.id, spans);
  }
  return sorted.filter((e) => {
    const id = e.event.sessionId;
    if (purged.has(id)) return false;
    if (covered.get(id)?.some(([lo, hi]) => e.event.seq >= lo && e.event.seq <= hi)) return false;
    if (!isHubEnd(e)) return true;
    const row = current.get(id);
    return !!row && !row.ended && e.event.seq > row.lastSeq;
  });
}

/** Whether the agent's own events in the batch overtake a hub's end at `hubEndSeq`. */
function overtakes(sorted: readonly StoredEvent[], sessionId: string, hubEndSeq: number): boolean {
  return sorted.some((e) => e.event.sessionId === sessionId && !isHubEnd(e) && (e.event.seq >= hubEndSeq || e.event.type === 'session.end'));
}

/** Removes a hub's end: the session is live again, its summary as before the end. */
async function giveWay(tx: SqlClient, sessionId: string, hubEndSeq: number): Promise<void> {
  await tx.query('DELETE FROM segments WHERE session_id = $1 AND first_seq = $2 AND last_seq = $2', [sessionId, hubEndSeq]);
  await tx.query(
    `UPDATE sessions SET ended_at = NULL, end_reason = NULL, end_message = NULL, ended_by = NULL, event_count = event_count - 1,
       last_seq = (SELECT coalesce(max(last_seq), 0) FROM segments WHERE session_id = $1),
       persisted_seq = least(persisted_seq, $2 - 1), updated_at = now()
     WHERE id = $1`, [sessionId, hubEndSeq]);
}
