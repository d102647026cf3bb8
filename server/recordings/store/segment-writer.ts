// Writing events as segments (migration 5): each append stores the batch's new events of a
// session as raw runs of consecutive seqs, one row per run instead of one per event; once a
// session's raw runs below its persisted watermark add up to enough bytes or time, or the session
// has ended, they are sealed: merged into one row inside the database, which compresses it (the
// bytes never travel back to the hub). Runs never overlap, so (session, seq) stays unique and a
// re-delivered event is found and skipped before it is written.
// Every function here runs inside the append's transaction, after lockSessions.
import type { SqlClient } from '../../store/sql-client.ts';
import type { StoredEvent } from './recording-store.ts';
import { joinBodies } from './segment-body.ts';

/** A raw run is cut here: one row stays small enough to write and to read back whole. */
export const RUN_MAX_BYTES = 256 * 1024;
/** A sealed segment holds about this much (whole raw runs, so up to RUN_MAX_BYTES more). */
export const SEAL_BYTES = 256 * 1024;
/** ... or this much recorded time, whichever comes first: a seek never replays more. */
export const SEAL_SPAN_MS = 60_000;

/**
 * Serializes writers of the same sessions (two hubs, a hub's end and the agent's events) until
 * the transaction ends. An advisory lock, not a row lock: a session's first events come before
 * its row exists. Taken in one order (the subquery's sort) so writers never deadlock.
 */
export async function lockSessions(tx: SqlClient, sessionIds: readonly string[]): Promise<void> {
  await tx.query(
    `SELECT count(pg_advisory_xact_lock(k)) FROM (
       SELECT hashtextextended(id, 7) AS k FROM unnest($1::text[]) AS id ORDER BY 1) keys`,
    [sessionIds], { prepare: 'append.lock' });
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

/**
 * The runs as raw segments, column by column: one parameter each, so that the statement that
 * writes them reads the same for any batch (it is prepared once per connection) and no batch runs
 * into the limit on a statement's parameters. The bodies go as one text, the runs' bodies joined
 * by \x01, which no body holds (an event that decodes is JSON: a raw control character is
 * nowhere in it): a text[] parameter would have `pg` escape every quote of every body into one
 * more copy of the batch.
 */
export const INSERT_RUNS = (p: number) => `INSERT INTO segments (session_id, first_seq, last_seq, first_time, last_time, event_count, raw_bytes, body)
  SELECT * FROM unnest($${p}::text[], $${p + 1}::int8[], $${p + 2}::int8[], $${p + 3}::timestamptz[], $${p + 4}::timestamptz[],
    $${p + 5}::int4[], $${p + 6}::int4[], string_to_array($${p + 7}::text, E'\\x01'))`;

/** INSERT_RUNS's eight parameters for these runs. */
export function runColumns(runs: readonly Run[]): unknown[] {
  const bodies = runs.map((run) => joinBodies(run.events.map((e) => e.body)));
  return [
    runs.map((run) => run.sessionId),
    runs.map((run) => run.events[0].event.seq),
    runs.map((run) => run.events[run.events.length - 1].event.seq),
    runs.map((run) => earliest(run.events)),
    runs.map((run) => latest(run.events)),
    runs.map((run) => run.events.length),
    bodies.map((body) => Buffer.byteLength(body)),
    bodies.join(RUN_SEPARATOR),
  ];
}

const RUN_SEPARATOR = '\x01';

// Event times come from the agents' clocks: a run's bounds are its earliest and latest, not its
// first and last, so a seek by time finds the run whatever order the clock went.
const earliest = (events: readonly StoredEvent[]) => events.reduce((t, e) => (e.event.time < t ? e.event.time : t), events[0].event.time);
const latest = (events: readonly StoredEvent[]) => events.reduce((t, e) => (e.event.time > t ? e.event.time : t), events[0].event.time);

interface RawTailRow {
  session_id: string;
  last_seq: number;
  first_ms: number;
  last_ms: number;
  raw_bytes: number;
  ended: boolean;
}

// One statement seals all of a session's due groups: each group's runs are merged into the row of
// its last run (same key), and the others are deleted after.
const MERGE_GROUPS = `
  WITH members AS (
    SELECT g.*, m.grp FROM segments g JOIN unnest($2::int8[], $3::int4[]) AS m(last_seq, grp)
      ON g.session_id = $1 AND g.last_seq = m.last_seq),
  merged AS (
    SELECT grp, min(first_seq) AS first_seq, max(last_seq) AS last_seq, min(first_time) AS first_time,
           max(last_time) AS last_time, sum(event_count)::int4 AS event_count,
           (sum(raw_bytes) + count(*) - 1)::int4 AS raw_bytes, string_agg(body, E'\\n' ORDER BY last_seq) AS body
    FROM members GROUP BY grp)
  UPDATE segments s SET first_seq = merged.first_seq, first_time = merged.first_time, last_time = merged.last_time,
    event_count = merged.event_count, raw_bytes = merged.raw_bytes, body = merged.body, sealed = true
  FROM merged WHERE s.session_id = $1 AND s.last_seq = merged.last_seq`;

/**
 * Seals what is due in these sessions: their raw runs above the sealed mark and below the
 * persisted watermark (so never across a gap), grouped in order into segments of SEAL_BYTES or
 * SEAL_SPAN_MS; the rest stays raw until more comes, unless the session has ended. A hub's end is
 * never sealed: it may still give way to the agent's own events.
 */
export async function sealDue(tx: SqlClient, sessionIds: readonly string[]): Promise<number> {
  const { rows } = await tx.query<RawTailRow>(
    `SELECT g.session_id, g.last_seq,
            (extract(epoch FROM g.first_time) * 1000)::float8 AS first_ms,
            (extract(epoch FROM g.last_time) * 1000)::float8 AS last_ms,
            g.raw_bytes, s.ended_at IS NOT NULL AS ended
     FROM sessions s JOIN segments g ON g.session_id = s.id AND g.last_seq > s.sealed_seq AND g.last_seq <= s.persisted_seq
     WHERE s.id = ANY($1::text[]) AND NOT g.sealed AND (s.ended_by IS DISTINCT FROM 'hub' OR g.last_seq <> s.last_seq)
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
    const members = groups.flatMap((group, i) => group.map((m) => ({ lastSeq: Number(m.last_seq), grp: i })));
    await tx.query(MERGE_GROUPS, [sessionId, members.map((m) => m.lastSeq), members.map((m) => m.grp)]);
    const lasts = new Set(groups.map((g) => Number(g[g.length - 1].last_seq)));
    const merged = members.filter((m) => !lasts.has(m.lastSeq)).map((m) => m.lastSeq);
    if (merged.length > 0) await tx.query('DELETE FROM segments WHERE session_id = $1 AND last_seq = ANY($2::int8[])', [sessionId, merged]);
    await tx.query(
      `UPDATE sessions SET sealed_seq = $2, unsealed_bytes = u.bytes, unsealed_from = u.since, unsealed_until = u.until
       FROM (SELECT coalesce(sum(raw_bytes), 0) AS bytes, min(first_time) AS since, max(last_time) AS until
             FROM segments WHERE session_id = $1 AND NOT sealed) u
       WHERE id = $1`, [sessionId, Math.max(...lasts)]);
    sealed += groups.length;
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
