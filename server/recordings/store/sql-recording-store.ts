// All of the recording store's logic, once, over any SqlClient (PostgreSQL through pg, or PGlite).
// Events are stored in segments (segment-writer.ts, segment-reader.ts). Writes are idempotent on
// (session_id, seq); summaries change only by what was really inserted; persisted_seq is the
// contiguous watermark a bus may trim below.
import type { Logger } from '../../../common/log.ts';
import { migrate } from '../../store/migrations.ts';
import type { AgentSeen, AppendResult, RecordingStore, SegmentInfo, SessionFilter, SessionSummary, StoredEvent } from './recording-store.ts';
import { SegmentReader } from './segment-reader.ts';
import { cutRuns, dropStored, INSERT_RUNS, lockSessions, runValues, SEAL_BYTES, SEAL_SPAN_MS, sealDue, type Run } from './segment-writer.ts';
import { normalizeSessionFilter, StoreInputError } from './session-filter.ts';
import type { SqlClient } from '../../store/sql-client.ts';
import { summarizeInserted, type SessionDelta } from './summary-deltas.ts';
import { auditFromRecording } from '../../access/access-store.ts';

export const READ_LIMIT_DEFAULT = 1000;
export const READ_LIMIT_MAX = 10_000;
/** Runs written by one statement (8 parameters each). */
const RUNS_PER_STATEMENT = 2000;
/** Segments examined per watermark step; a longer contiguous run takes several steps. */
const WATERMARK_STEP = 500;

const iso = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

const SESSION_COLUMNS = `id, protocol, user_name, target, client_addr, agent_id,
  ${iso('started_at')} AS started_at, ${iso('ended_at')} AS ended_at, end_reason,
  last_seq, persisted_seq, event_count, query_count, error_count`;

interface SessionRow {
  id: string;
  protocol: string;
  user_name: string;
  target: string;
  client_addr: string;
  agent_id: string;
  started_at: string | null;
  ended_at: string | null;
  end_reason: string | null;
  last_seq: number;
  persisted_seq: number;
  event_count: number;
  query_count: number;
  error_count: number;
}

// Any event can create the summary (a session's events may arrive before its session.start is
// re-delivered); session.start's metadata and time win once they arrive.
const UPSERT_SESSIONS = `
  INSERT INTO sessions AS s (id, protocol, user_name, target, client_addr, agent_id, started_at, start_seen,
    ended_at, end_reason, last_seq, event_count, query_count, error_count, ended_by, unsealed_bytes, unsealed_from, unsealed_until)
  SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
    $7::timestamptz[], $8::boolean[], $9::timestamptz[], $10::text[], $11::int8[], $12::int8[], $13::int8[], $14::int8[], $15::text[],
    $16::int8[], $17::timestamptz[], $18::timestamptz[])
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
    last_seq = greatest(s.last_seq, excluded.last_seq),
    event_count = s.event_count + excluded.event_count,
    query_count = s.query_count + excluded.query_count,
    error_count = s.error_count + excluded.error_count,
    unsealed_bytes = s.unsealed_bytes + excluded.unsealed_bytes,
    unsealed_from = least(s.unsealed_from, excluded.unsealed_from),
    unsealed_until = greatest(s.unsealed_until, excluded.unsealed_until),
    updated_at = now()`;

// What an append reports for each session it touched: the watermark the agent may drop below (for
// a session a hub ended, below the hub's end: the agent's own event at that seq, in its outbox
// after a crash, must still be sent, and the hub's end gives way to it), and whether sealing may
// be due (sealDue then looks at the runs themselves).
const SESSION_STATE = `s.id, s.persisted_seq, s.last_seq,
  CASE WHEN s.ended_by = 'hub' THEN least(s.persisted_seq, s.last_seq - 1) ELSE s.persisted_seq END AS agent_mark,
  s.unsealed_bytes > 0 AND (s.ended_at IS NOT NULL OR s.unsealed_bytes >= ${SEAL_BYTES}
    OR s.unsealed_until >= s.unsealed_from + interval '${SEAL_SPAN_MS} milliseconds') AS maybe_due`;

// The watermark p moves over the segments that continue it: in order of last_seq, the k-th
// segment continues the run when its first_seq is p + 1 plus the events of the k - 1 before it;
// after a gap the difference only grows. So the run is the rows where it holds, and the mark moves
// by their events. A step looks at WATERMARK_STEP segments.
const ADVANCE_WATERMARKS = `
  UPDATE sessions s SET persisted_seq = s.persisted_seq + coalesce((
    SELECT sum(run.n) FROM (
      SELECT w.event_count AS n, w.first_seq - (sum(w.event_count) OVER (ORDER BY w.last_seq) - w.event_count) AS d
      FROM (SELECT g.first_seq, g.last_seq, g.event_count FROM segments g
            WHERE g.session_id = s.id AND g.last_seq > s.persisted_seq ORDER BY g.last_seq LIMIT ${WATERMARK_STEP}) w
    ) run WHERE run.d = s.persisted_seq + 1), 0)
  WHERE s.id = ANY($1::text[]) AND ($2 OR s.persisted_seq < s.last_seq)
  RETURNING ${SESSION_STATE}`;

interface SessionState {
  id: string;
  persisted_seq: number;
  last_seq: number;
  agent_mark: number;
  maybe_due: boolean;
}

export class SqlRecordingStore implements RecordingStore {
  readonly #client: SqlClient;
  readonly #logger: Logger | undefined;
  readonly #reader: SegmentReader;

  /** Takes ownership of client: close() closes it. */
  constructor(client: SqlClient, opts: { logger?: Logger; cacheBytes?: number } = {}) {
    this.#client = client;
    this.#logger = opts.logger;
    this.#reader = new SegmentReader(client, { cacheBytes: opts.cacheBytes });
  }

  async migrate(): Promise<void> {
    await migrate(this.#client, { logger: this.#logger });
  }

  /**
   * Writes the batch in one transaction. The caller vouches that each body is the canonical
   * encoding of its event (it decoded one from the other); the store keys rows by the event.
   */
  async append(events: readonly StoredEvent[]): Promise<AppendResult> {
    if (events.length === 0) return { inserted: 0, watermarks: new Map() };
    const sorted = uniqueSorted(events);
    const sessionIds = [...new Set(sorted.map((e) => e.event.sessionId))];
    return this.#client.transaction(async (tx) => {
      await lockSessions(tx, sessionIds);
      const batch = await reconcileHubEnds(tx, sessionIds, sorted);
      const inserted = await dropStored(tx, batch);
      const deltas = summarizeInserted(inserted.map((e) => e.event));
      const states = new Map<string, SessionState>();
      if (deltas.length > 0) {
        await insertRunsAndSummaries(tx, cutRuns(inserted, isHubEnd), deltas, unsealedOf(inserted));
        for (const state of await advanceWatermarks(tx, deltas.map((d) => d.id))) states.set(state.id, state);
      }
      await auditFromRecording(tx, inserted.map((e) => e.event));
      const untouched = sessionIds.filter((id) => !states.has(id));
      if (untouched.length > 0) {
        const { rows } = await tx.query<SessionState>(`SELECT ${SESSION_STATE} FROM sessions s WHERE s.id = ANY($1::text[])`, [untouched]);
        for (const state of rows) states.set(state.id, state);
      }
      const due = [...states.values()].filter((r) => r.maybe_due).map((r) => r.id);
      if (due.length > 0) await sealDue(tx, due);
      const found = new Map([...states.values()].map((r) => [r.id, Number(r.agent_mark)]));
      return {
        inserted: inserted.length,
        watermarks: new Map(sessionIds.map((id) => [id, found.get(id) ?? 0])),
      };
    });
  }

  /**
   * Newest first by (startedAt, id). `from` is inclusive and `to` exclusive, both on startedAt;
   * `live` true keeps sessions without an end, false those with one. Page with
   * `before: encodeSessionCursor(lastOfPreviousPage)`.
   */
  async listSessions(filter: SessionFilter = {}): Promise<SessionSummary[]> {
    const f = normalizeSessionFilter(filter);
    const where: string[] = [];
    const params: unknown[] = [];
    const param = (value: unknown) => { params.push(value); return `$${params.length}`; };
    if (f.user !== undefined) where.push(`user_name = ${param(f.user)}`);
    if (f.target !== undefined) where.push(`target = ${param(f.target)}`);
    if (f.protocol !== undefined) where.push(`protocol = ${param(f.protocol)}`);
    if (f.live !== undefined) where.push(f.live ? 'ended_at IS NULL' : 'ended_at IS NOT NULL');
    if (f.from !== undefined) where.push(`started_at >= ${param(f.from)}::timestamptz`);
    if (f.to !== undefined) where.push(`started_at < ${param(f.to)}::timestamptz`);
    if (f.before !== undefined) {
      where.push(`(started_at, id) < (${param(f.before.startedAt)}::timestamptz, ${param(f.before.id)}::text)`);
    }
    const { rows } = await this.#client.query<SessionRow>(
      `SELECT ${SESSION_COLUMNS} FROM sessions
       ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY started_at DESC, id DESC LIMIT ${param(f.limit)}`,
      params,
    );
    return rows.map(toSummary);
  }

  async ping(): Promise<void> {
    await this.#client.query('SELECT 1');
  }

  async liveSessions(): Promise<SessionSummary[]> {
    const { rows } = await this.#client.query<SessionRow>(`SELECT ${SESSION_COLUMNS} FROM sessions WHERE ended_at IS NULL`);
    return rows.map(toSummary);
  }

  async noteAgents(seen: readonly AgentSeen[]): Promise<void> {
    if (seen.length === 0) return;
    await this.#client.query(
      `INSERT INTO agents AS a (id, instance, started_at)
       SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[])
       ON CONFLICT (id) DO UPDATE SET instance = excluded.instance, started_at = excluded.started_at, last_seen = now()`,
      [seen.map((a) => a.id), seen.map((a) => a.instance), seen.map((a) => a.startedAt)]);
  }

  async knownAgents(ids: readonly string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const { rows } = await this.#client.query<{ id: string }>('SELECT id FROM agents WHERE id = ANY($1::text[])', [ids]);
    return new Set(rows.map((r) => r.id));
  }

  async countLiveSessions(): Promise<number> {
    const { rows } = await this.#client.query<{ n: string | number }>('SELECT count(*) AS n FROM sessions WHERE ended_at IS NULL');
    return Number(rows[0]?.n ?? 0);
  }

  async getSession(id: string): Promise<SessionSummary | null> {
    const { rows } = await this.#client.query<SessionRow>(`SELECT ${SESSION_COLUMNS} FROM sessions WHERE id = $1`, [id]);
    return rows[0] ? toSummary(rows[0]) : null;
  }

  /** Up to `limit` (default 1000, at most 10,000) events with seq >= fromSeq, in seq order. */
  async readEvents(sessionId: string, fromSeq = 1, limit = READ_LIMIT_DEFAULT): Promise<StoredEvent[]> {
    if (!Number.isSafeInteger(fromSeq)) throw new StoreInputError(`invalid fromSeq: ${fromSeq}`);
    if (!Number.isSafeInteger(limit) || limit < 1) throw new StoreInputError(`invalid limit: ${limit}`);
    return this.#reader.readEvents(sessionId, fromSeq, Math.min(limit, READ_LIMIT_MAX));
  }

  async listSegments(sessionId: string): Promise<SegmentInfo[]> {
    return this.#reader.listSegments(sessionId);
  }

  async seqAtTime(sessionId: string, time: string): Promise<number | null> {
    if (Number.isNaN(Date.parse(time))) throw new StoreInputError(`invalid time: ${time}`);
    return this.#reader.seqAtTime(sessionId, time);
  }

  async close(): Promise<void> {
    await this.#client.close();
  }
}

/** Drops repeats of (sessionId, seq) inside the batch (first wins); sorts by session, then seq. */
function uniqueSorted(events: readonly StoredEvent[]): StoredEvent[] {
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

const isHubEnd = (e: StoredEvent) => e.event.type === 'session.end' && e.event.data.writtenBy === 'hub';

/**
 * A hub ends a session whose agent is gone with an end one seq past the last it had. The agent
 * may still deliver (its outbox after a restart, a link that came back): then the hub's end gives
 * way. It is removed when the agent sends an event at or past its seq, or an end of its own, and
 * the session is live again until the agent's end arrives or a hub ends it once more. A hub's end
 * for a session that has ended already, or that is no longer past every event, is dropped.
 * A hub's end is a segment of its own (cutRuns), so giving way removes one row.
 */
async function reconcileHubEnds(tx: SqlClient, sessionIds: readonly string[], batch: StoredEvent[]): Promise<StoredEvent[]> {
  const { rows } = await tx.query<{ id: string; last_seq: number; ended: boolean; ended_by: string | null }>(
    'SELECT id, last_seq, ended_at IS NOT NULL AS ended, ended_by FROM sessions WHERE id = ANY($1::text[])',
    [sessionIds]);
  const current = new Map(rows.map((r) => [r.id, { lastSeq: Number(r.last_seq), ended: r.ended, endedByHub: r.ended_by === 'hub' }]));
  for (const [id, row] of current) {
    if (!row.endedByHub) continue;
    const overtaken = batch.some((e) => e.event.sessionId === id && !isHubEnd(e) && (e.event.seq >= row.lastSeq || e.event.type === 'session.end'));
    if (!overtaken) continue;
    await tx.query('DELETE FROM segments WHERE session_id = $1 AND first_seq = $2 AND last_seq = $2', [id, row.lastSeq]);
    await tx.query(
      `UPDATE sessions SET ended_at = NULL, end_reason = NULL, ended_by = NULL, event_count = event_count - 1,
         last_seq = (SELECT coalesce(max(last_seq), 0) FROM segments WHERE session_id = $1),
         persisted_seq = least(persisted_seq, $2 - 1), updated_at = now()
       WHERE id = $1`, [id, row.lastSeq]);
    current.set(id, { lastSeq: row.lastSeq - 1, ended: false, endedByHub: false });
  }
  return batch.filter((e) => {
    if (!isHubEnd(e)) return true;
    const row = current.get(e.event.sessionId);
    return !!row && !row.ended && e.event.seq > row.lastSeq;
  });
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

/**
 * Stores the runs and folds the deltas into the session summaries, in one statement (a round
 * trip is what an append pays most for).
 */
async function insertRunsAndSummaries(tx: SqlClient, runs: readonly Run[], deltas: readonly SessionDelta[], unsealed: Map<string, Unsealed>): Promise<void> {
  const params: unknown[] = [
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
  ];
  // A batch of very many sessions writes its runs ahead, a bounded number per statement: one
  // statement's parameters are limited (65,535).
  const ahead = runs.slice(0, Math.max(0, runs.length - RUNS_PER_STATEMENT));
  for (let i = 0; i < ahead.length; i += RUNS_PER_STATEMENT) {
    const own: unknown[] = [];
    const values = runValues(ahead.slice(i, i + RUNS_PER_STATEMENT), own);
    await tx.query(`${INSERT_RUNS} ${values}`, own);
  }
  const values = runValues(runs.slice(ahead.length), params);
  await tx.query(`WITH runs AS (${INSERT_RUNS} ${values}) ${UPSERT_SESSIONS}`, params);
}

/** Moves each session's watermark over its contiguous run of segments, a step at a time; returns their state. */
async function advanceWatermarks(tx: SqlClient, ids: readonly string[]): Promise<SessionState[]> {
  const states = new Map<string, SessionState>();
  let pending = [...ids];
  for (let first = true; pending.length > 0; first = false) {
    const { rows } = await tx.query<SessionState>(ADVANCE_WATERMARKS, [pending, first]);
    // A mark that moved and still trails the last seq may go on past the step: look again.
    pending = rows
      .filter((r) => Number(r.persisted_seq) !== Number(states.get(r.id)?.persisted_seq ?? -1) && Number(r.persisted_seq) < Number(r.last_seq))
      .map((r) => r.id);
    for (const row of rows) states.set(row.id, row);
  }
  return [...states.values()];
}

function toSummary(row: SessionRow): SessionSummary {
  return {
    id: row.id,
    protocol: row.protocol,
    user: row.user_name,
    target: row.target,
    client: row.client_addr,
    agent: row.agent_id,
    startedAt: row.started_at,
    endedAt: row.ended_at,
    endReason: row.end_reason,
    lastSeq: Number(row.last_seq),
    persistedSeq: Number(row.persisted_seq),
    eventCount: Number(row.event_count),
    queryCount: Number(row.query_count),
    errorCount: Number(row.error_count),
  };
}
