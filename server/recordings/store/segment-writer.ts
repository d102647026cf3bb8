// Writing events as segments (migration 5): each append stores the batch's new events of a
// session as raw runs of consecutive seqs, one row per run instead of one per event; once a
// session's raw runs below its persisted watermark add up to enough bytes or time, or the session
// has ended, they are sealed: joined and compressed into one segment. Runs never overlap, so
// (session, seq) stays unique and a re-delivered event is found and skipped before it is written.
// Every function here runs inside the append's transaction, after lockSessions.
import type { SqlClient } from '../../store/sql-client.ts';
import type { StoredEvent } from './recording-store.ts';
import { encodeSegment, joinBodies, type SegmentCodec } from './segment-body.ts';

/** A raw run is cut here: one row stays small enough to write and to read back whole. */
export const RUN_MAX_BYTES = 256 * 1024;
/** A sealed segment holds about this much (whole raw runs, so up to RUN_MAX_BYTES more). */
export const SEAL_BYTES = 256 * 1024;
/** ... or this much recorded time, whichever comes first: a seek never replays more. */
export const SEAL_SPAN_MS = 60_000;

/** Rows per INSERT of segments (9 parameters each). */
const INSERT_CHUNK = 500;

/**
 * Serializes writers of the same sessions (two hubs, a hub's end and the agent's events) until
 * the transaction ends. An advisory lock, not a row lock: a session's first events come before
 * its row exists. Taken in one order (the subquery's sort) so writers never deadlock.
 */
export async function lockSessions(tx: SqlClient, sessionIds: readonly string[]): Promise<void> {
  await tx.query(
    `SELECT count(pg_advisory_xact_lock(k)) FROM (
       SELECT hashtextextended(id, 7) AS k FROM unnest($1::text[]) AS id ORDER BY 1) keys`,
    [sessionIds]);
}

/** Drops events some stored segment holds already (re-deliveries). `sorted` by session, then seq. */
export async function dropStored(tx: SqlClient, sorted: readonly StoredEvent[]): Promise<StoredEvent[]> {
  const ranges = new Map<string, { lo: number; hi: number }>();
  for (const e of sorted) {
    const r = ranges.get(e.event.sessionId);
    if (!r) ranges.set(e.event.sessionId, { lo: e.event.seq, hi: e.event.seq });
    else r.hi = e.event.seq;
  }
  const ids = [...ranges.keys()];
  const { rows } = await tx.query<{ session_id: string; first_seq: number; last_seq: number }>(
    `SELECT g.session_id, g.first_seq, g.last_seq
     FROM unnest($1::text[], $2::int8[], $3::int8[]) AS r(id, lo, hi)
     JOIN segments g ON g.session_id = r.id AND g.last_seq >= r.lo AND g.first_seq <= r.hi`,
    [ids, ids.map((id) => ranges.get(id)!.lo), ids.map((id) => ranges.get(id)!.hi)]);
  if (rows.length === 0) return [...sorted];
  const covered = new Map<string, Array<[number, number]>>();
  for (const row of rows) {
    const list = covered.get(row.session_id) ?? [];
    list.push([Number(row.first_seq), Number(row.last_seq)]);
    covered.set(row.session_id, list);
  }
  return sorted.filter((e) => !covered.get(e.event.sessionId)?.some(([lo, hi]) => e.event.seq >= lo && e.event.seq <= hi));
}

export interface Run {
  sessionId: string;
  events: StoredEvent[];
}

/**
 * Cuts `sorted` (unique, by session then seq) into runs of consecutive seqs of one session, at
 * most RUN_MAX_BYTES each. An event `alone` says so gets a run of its own: a hub's end, which
 * gives way to the agent's events later and must be removable as a whole row.
 */
export function cutRuns(sorted: readonly StoredEvent[], alone: (e: StoredEvent) => boolean): Run[] {
  const runs: Run[] = [];
  let run: Run | null = null;
  let bytes = 0;
  for (const e of sorted) {
    const size = e.body.length + 1;
    const previous = run?.events.at(-1);
    const extends_ = run !== null && previous !== undefined && run.sessionId === e.event.sessionId &&
      e.event.seq === previous.event.seq + 1 && bytes + size <= RUN_MAX_BYTES && !alone(e) && !alone(previous);
    if (!extends_) {
      run = { sessionId: e.event.sessionId, events: [] };
      runs.push(run);
      bytes = 0;
    }
    run!.events.push(e);
    bytes += size;
  }
  return runs;
}

interface SegmentRow {
  sessionId: string;
  firstSeq: number;
  lastSeq: number;
  firstTime: string;
  lastTime: string;
  eventCount: number;
  rawBytes: number;
  codec: SegmentCodec;
  body: Buffer;
}

/** Stores runs as raw segments. */
export async function insertRuns(tx: SqlClient, runs: readonly Run[]): Promise<void> {
  const rows: SegmentRow[] = [];
  for (const run of runs) {
    const first = run.events[0].event;
    const last = run.events[run.events.length - 1].event;
    const text = joinBodies(run.events.map((e) => e.body));
    const body = await encodeSegment(text, 'none');
    rows.push({
      sessionId: run.sessionId, firstSeq: first.seq, lastSeq: last.seq, firstTime: earliest(run.events), lastTime: latest(run.events),
      eventCount: run.events.length, rawBytes: body.length, codec: 'none', body,
    });
  }
  await insertSegments(tx, rows);
}

async function insertSegments(tx: SqlClient, rows: readonly SegmentRow[]): Promise<void> {
  for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
    const chunk = rows.slice(i, i + INSERT_CHUNK);
    const params: unknown[] = [];
    const values = chunk.map((r) => {
      const at = params.length;
      params.push(r.sessionId, r.firstSeq, r.lastSeq, r.firstTime, r.lastTime, r.eventCount, r.rawBytes, r.codec, r.body);
      return `($${at + 1}, $${at + 2}::int8, $${at + 3}::int8, $${at + 4}::timestamptz, $${at + 5}::timestamptz, $${at + 6}::int4, $${at + 7}::int4, $${at + 8}, $${at + 9}::bytea)`;
    });
    await tx.query(
      `INSERT INTO segments (session_id, first_seq, last_seq, first_time, last_time, event_count, raw_bytes, codec, body)
       VALUES ${values.join(', ')}`, params);
  }
}

// Event times come from the agents' clocks: a run's bounds are its earliest and latest, not its
// first and last, so a seek by time finds the run whatever order the clock went.
const earliest = (events: readonly StoredEvent[]) => events.reduce((t, e) => (e.event.time < t ? e.event.time : t), events[0].event.time);
const latest = (events: readonly StoredEvent[]) => events.reduce((t, e) => (e.event.time > t ? e.event.time : t), events[0].event.time);

interface RawTailRow {
  session_id: string;
  first_seq: number;
  last_seq: number;
  first_time: string;
  last_time: string;
  first_ms: number;
  last_ms: number;
  raw_bytes: number;
  ended: boolean;
}

/**
 * Seals what is due in these sessions: their raw runs above the sealed mark and below the
 * persisted watermark (so never across a gap), grouped in order into segments of SEAL_BYTES or
 * SEAL_SPAN_MS; the rest stays raw until more comes, unless the session has ended. A hub's end is
 * never sealed: it may still give way to the agent's own events.
 */
export async function sealDue(tx: SqlClient, sessionIds: readonly string[]): Promise<number> {
  const { rows } = await tx.query<RawTailRow>(
    `SELECT g.session_id, g.first_seq, g.last_seq,
            to_char(g.first_time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS first_time,
            to_char(g.last_time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS last_time,
            (extract(epoch FROM g.first_time) * 1000)::float8 AS first_ms,
            (extract(epoch FROM g.last_time) * 1000)::float8 AS last_ms,
            g.raw_bytes, s.ended_at IS NOT NULL AS ended
     FROM sessions s JOIN segments g ON g.session_id = s.id AND g.last_seq > s.sealed_seq AND g.last_seq <= s.persisted_seq
     WHERE s.id = ANY($1::text[]) AND g.codec = 'none' AND (s.ended_by IS DISTINCT FROM 'hub' OR g.last_seq <> s.last_seq)
     ORDER BY g.session_id, g.last_seq`, [sessionIds]);
  const bySession = new Map<string, RawTailRow[]>();
  for (const row of rows) {
    const list = bySession.get(row.session_id) ?? [];
    list.push(row);
    bySession.set(row.session_id, list);
  }
  let sealed = 0;
  for (const [sessionId, tail] of bySession) {
    const groups = sealGroups(tail);
    if (groups.length === 0) continue;
    const members = groups.flat();
    const { rows: bodies } = await tx.query<{ last_seq: number; body: Uint8Array }>(
      'SELECT last_seq, body FROM segments WHERE session_id = $1 AND last_seq = ANY($2::int8[])',
      [sessionId, members.map((m) => m.last_seq)]);
    const bodyOf = new Map(bodies.map((b) => [Number(b.last_seq), b.body]));
    const out: SegmentRow[] = [];
    for (const group of groups) {
      const parts = group.map((m) => {
        const body = bodyOf.get(Number(m.last_seq));
        if (!body) throw new Error(`segment ${sessionId}..${m.last_seq} vanished while sealing`);
        return Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
      });
      const text = parts.join('\n');
      const first = group[0];
      const last = group[group.length - 1];
      out.push({
        sessionId, firstSeq: Number(first.first_seq), lastSeq: Number(last.last_seq),
        firstTime: group.reduce((t, m) => (m.first_time < t ? m.first_time : t), first.first_time),
        lastTime: group.reduce((t, m) => (m.last_time > t ? m.last_time : t), last.last_time),
        eventCount: Number(last.last_seq) - Number(first.first_seq) + 1,
        rawBytes: Buffer.byteLength(text), codec: 'deflate', body: await encodeSegment(text, 'deflate'),
      });
    }
    await tx.query('DELETE FROM segments WHERE session_id = $1 AND last_seq = ANY($2::int8[])',
      [sessionId, members.map((m) => m.last_seq)]);
    await insertSegments(tx, out);
    await tx.query('UPDATE sessions SET sealed_seq = $2 WHERE id = $1', [sessionId, out[out.length - 1].lastSeq]);
    sealed += out.length;
  }
  return sealed;
}

/** Whole raw runs grouped by SEAL_BYTES and SEAL_SPAN_MS; a short last group only if the session ended. */
function sealGroups(tail: readonly RawTailRow[]): RawTailRow[][] {
  const groups: RawTailRow[][] = [];
  let group: RawTailRow[] = [];
  let bytes = 0;
  let from = 0;
  for (const row of tail) {
    if (group.length === 0) from = row.first_ms;
    group.push(row);
    bytes += row.raw_bytes + 1;
    if (bytes >= SEAL_BYTES || row.last_ms - from >= SEAL_SPAN_MS) {
      groups.push(group);
      group = [];
      bytes = 0;
    }
  }
  if (group.length > 0 && tail[0].ended) groups.push(group);
  return groups;
}
