// All of the recording store's logic, once, over any SqlClient (PostgreSQL through pg, or PGlite).
// Events are stored in segments (append-batch.ts, segment-writer.ts, segment-reader.ts). Writes are idempotent on
// (session_id, seq); summaries change only by what was really inserted; persisted_seq is the
// contiguous watermark a bus may trim below.
import type { Logger } from '../../../common/log.ts';
import { migrate } from '../../store/migrations.ts';
import type { AgentSeen, AppendResult, RecordingStore, SegmentInfo, SessionFilter, SessionSummary, StoredEvent } from './recording-store.ts';
import { SegmentReader } from './segment-reader.ts';
import { lockSessions, sealDue } from './segment-writer.ts';
import { isHubEnd, newEvents, SESSION_STATE, uniqueSorted, writeBatch, type SessionState } from './append-batch.ts';
import { normalizeSessionFilter, StoreInputError } from './session-filter.ts';
import { escapeLike } from '../search/search-text.ts';
import type { SqlClient } from '../../store/sql-client.ts';
import { auditFromRecording } from '../../access/access-store.ts';
import { iso } from '../../store/sql-time.ts';

export const READ_LIMIT_DEFAULT = 1000;
export const READ_LIMIT_MAX = 10_000;

const SESSION_COLUMNS = `id, protocol, user_name, target, client_addr, agent_id,
  ${iso('started_at')} AS started_at, ${iso('ended_at')} AS ended_at, end_reason, end_message,
  last_seq, persisted_seq, event_count, query_count, error_count, ${iso('purged_at')} AS purged_at`;

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
  end_message: string | null;
  last_seq: number;
  persisted_seq: number;
  event_count: number;
  query_count: number;
  error_count: number;
  purged_at: string | null;
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
      let inserted = sorted;
      let written = sorted.some(isHubEnd) ? null : await writeBatch(tx, sorted, true);
      if (written === null) {
        inserted = await newEvents(tx, sorted);
        written = inserted.length > 0 ? (await writeBatch(tx, inserted, false))! : [];
      }
      const states = new Map(written.map((state) => [state.id, state]));
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
   * Newest first by (startedAt, id). `user` and `target` match any part of the name, whatever
   * its case ("pay" finds "payments"; a % or _ in them is just that character). `from` is
   * inclusive and `to` exclusive, both on startedAt; `live` true keeps sessions without an end,
   * false those with one. Page with `before: encodeSessionCursor(lastOfPreviousPage)`.
   */
  async listSessions(filter: SessionFilter = {}): Promise<SessionSummary[]> {
    const f = normalizeSessionFilter(filter);
    const where: string[] = [];
    const params: unknown[] = [];
    const param = (value: unknown) => { params.push(value); return `$${params.length}`; };
    if (f.user !== undefined) where.push(`user_name ILIKE ${param(containing(f.user))}`);
    if (f.target !== undefined) where.push(`target ILIKE ${param(containing(f.target))}`);
    if (f.protocol !== undefined) where.push(`protocol = ${param(f.protocol)}`);
    if (f.live !== undefined) where.push(f.live ? 'ended_at IS NULL' : 'ended_at IS NOT NULL');
    if (f.visibleTo !== undefined) {
      where.push(`(user_name = ANY(${param(f.visibleTo.users)}::text[]) OR target = ANY(${param(f.visibleTo.targets)}::text[]))`);
    }
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

/** An ILIKE pattern for names holding `text` (the backslash is ILIKE's default escape). */
const containing = (text: string) => `%${escapeLike(text)}%`;

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
    ...(row.end_message !== null ? { endMessage: row.end_message } : {}),
    lastSeq: Number(row.last_seq),
    persistedSeq: Number(row.persisted_seq),
    eventCount: Number(row.event_count),
    queryCount: Number(row.query_count),
    errorCount: Number(row.error_count),
    ...(row.purged_at ? { purgedAt: row.purged_at } : {}),
  };
}
