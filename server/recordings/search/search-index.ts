// Search documents and the statement index in the store, over any SqlClient (PostgreSQL or PGlite:
// the same SQL, the same answers). Writes are idempotent on each row's key, so extracting the same
// events again writes nothing. Reads are bounded however common the words are: a search reads a
// budget of sessions' documents through their key, or at most probeLimit matches through the text
// indexes (see SearchTuning).
import type { SearchHit, SearchResults, SessionMatches, SessionSearchResults } from '../../../common/api-contract.ts';
import { z } from 'zod';
import { SessionEndReason } from '../../../common/events/index.ts';
import { decodeSessionCursor, encodeSessionCursor, StoreInputError, type SessionCursor } from '../store/session-filter.ts';
import type { SqlClient } from '../../store/sql-client.ts';
import { SearchExtractor, type SearchDocument, type SearchKind, type StatementEntry } from './search-documents.ts';
import { escapeLike, parseSearchText, snippetOf, type ParsedSearch, type Snippet } from './search-text.ts';
import { iso } from '../../store/sql-time.ts';

/**
 * One migration for the store's list (server/store/migrations.ts). pg_trgm is a trusted extension
 * (PostgreSQL 13+): a database owner may create it; PGlite must be opened with it loaded.
 */
// The tables (search_docs, statements, search_progress) are migration 8 (server/store/migrations.ts).

/** Rows per INSERT: keeps one statement's arrays bounded. */
const WRITE_CHUNK = 1000;

export const SEARCH_LIMIT_DEFAULT = 20;
export const SEARCH_LIMIT_MAX = 100;
export const PER_SESSION_DEFAULT = 3;
export const PER_SESSION_MAX = 20;
export const SESSION_HITS_DEFAULT = 500;
export const SESSION_HITS_MAX = 2000;
export const STATEMENTS_LIMIT_DEFAULT = 100;
export const STATEMENTS_LIMIT_MAX = 1000;

/**
 * How much one search may read. A search walks sessions newest first, reading the documents of
 * about windowEvents events' worth of sessions at a time through their key: common words fill a
 * page within a few windows. When the walk would not fill the page within budgetEvents (the
 * words are rare there), it asks the text indexes instead for up to probeLimit matches in the
 * older sessions: for rare words that is every match, paged at once. Words too common for that
 * and too rare to walk to are walked until the budget is spent: the page then ends early (even
 * empty), and its cursor goes on from where the walk stopped.
 */
export interface SearchTuning {
  windowEvents: number;
  budgetEvents: number;
  probeLimit: number;
}

export const SEARCH_TUNING: SearchTuning = { windowEvents: 20_000, budgetEvents: 150_000, probeLimit: 5000 };

const withoutNul = (text: string) => (text.includes('\u0000') ? text.replaceAll('\u0000', '') : text);

// ---- writes --------------------------------------------------------------------------------------

/** Stores documents; ones already stored (same session, seq, kind, part) are left as they are. Returns how many were new. */
export async function writeDocuments(client: SqlClient, docs: readonly SearchDocument[]): Promise<number> {
  let inserted = 0;
  for (let i = 0; i < docs.length; i += WRITE_CHUNK) {
    const chunk = docs.slice(i, i + WRITE_CHUNK);
    const { rows } = await client.query<{ n: number }>(
      `WITH ins AS (
         INSERT INTO search_docs (session_id, seq, kind, part, time, text)
         SELECT * FROM unnest($1::text[], $2::int8[], $3::text[], $4::int4[], $5::timestamptz[], $6::text[])
         ON CONFLICT (session_id, seq, kind, part) DO NOTHING
         RETURNING 1)
       SELECT count(*) AS n FROM ins`,
      [chunk.map((d) => d.sessionId), chunk.map((d) => d.seq), chunk.map((d) => d.kind), chunk.map((d) => d.part),
        chunk.map((d) => d.time), chunk.map((d) => withoutNul(d.text))],
    );
    inserted += Number(rows[0]?.n ?? 0);
  }
  return inserted;
}

/** Stores statement index entries; one already stored (same session and seq) is left as it is. Returns how many were new. */
export async function writeStatements(client: SqlClient, entries: readonly StatementEntry[]): Promise<number> {
  let inserted = 0;
  for (let i = 0; i < entries.length; i += WRITE_CHUNK) {
    const chunk = entries.slice(i, i + WRITE_CHUNK);
    const { rows } = await client.query<{ n: number }>(
      `WITH ins AS (
         INSERT INTO statements (session_id, seq, end_seq, time, protocol, sql, row_count, error_code, error_message, duration_ms, tag)
         SELECT * FROM unnest($1::text[], $2::int8[], $3::int8[], $4::timestamptz[], $5::text[], $6::text[], $7::int8[],
           $8::text[], $9::text[], $10::float8[], $11::text[])
         ON CONFLICT (session_id, seq) DO NOTHING
         RETURNING 1)
       SELECT count(*) AS n FROM ins`,
      [chunk.map((e) => e.sessionId), chunk.map((e) => e.seq), chunk.map((e) => e.endSeq), chunk.map((e) => e.time),
        chunk.map((e) => e.protocol), chunk.map((e) => withoutNul(e.sql)), chunk.map((e) => e.rowCount),
        chunk.map((e) => (e.error ? withoutNul(e.error.code) : null)), chunk.map((e) => (e.error ? withoutNul(e.error.message) : null)),
        chunk.map((e) => e.durationMs), chunk.map((e) => (e.tag === null ? null : withoutNul(e.tag)))],
    );
    inserted += Number(rows[0]?.n ?? 0);
  }
  return inserted;
}

// ---- where extraction stands ---------------------------------------------------------------------

/**
 * Keeps the extractor's state with the documents it wrote (call it in the same transaction). A
 * state behind the stored one (a hub that lost the session and has not noticed) does not replace it.
 */
export async function saveExtractor(client: SqlClient, extractor: SearchExtractor): Promise<void> {
  await client.query(
    `INSERT INTO search_progress AS p (session_id, next_seq, state) VALUES ($1, $2, $3)
     ON CONFLICT (session_id) DO UPDATE SET next_seq = excluded.next_seq, state = excluded.state
     WHERE p.next_seq <= excluded.next_seq`,
    [extractor.sessionId, extractor.nextSeq, JSON.stringify(extractor.snapshot())],
  );
}

/**
 * The extractor of a session where it was last saved, or null if none was. Without one, start
 * afresh at the first event not yet extracted (SearchExtractor.start with fromSeq).
 */
export async function loadExtractor(client: SqlClient, sessionId: string): Promise<SearchExtractor | null> {
  const { rows } = await client.query<{ state: string }>('SELECT state FROM search_progress WHERE session_id = $1', [sessionId]);
  return rows[0] ? SearchExtractor.restore(JSON.parse(rows[0].state)) : null;
}

// ---- search across recordings --------------------------------------------------------------------

const SearchQuerySchema = z.strictObject({
  text: z.string(),
  user: z.string().max(256).optional(),
  target: z.string().max(256).optional(),
  protocol: z.enum(['postgres', 'ssh', 'http']).optional(),
  /** On the session's start: from inclusive, to exclusive. */
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  /** Only sessions that ended this way (sessions.end_reason). */
  ended: SessionEndReason.optional(),
  /**
   * What the viewer may see: when either is given, only sessions of one of these users or on one
   * of these targets (an engineer: their own; an approver: also their targets'). Neither: all.
   */
  allowedUsers: z.array(z.string().max(256)).max(1000).readonly().optional(),
  allowedTargets: z.array(z.string().max(256)).max(1000).readonly().optional(),
  /** Sessions per page. */
  limit: z.number().int().positive().max(SEARCH_LIMIT_MAX).optional(),
  /** Best hits shown per session. */
  perSession: z.number().int().positive().max(PER_SESSION_MAX).optional(),
  /** nextCursor of the previous page. */
  cursor: z.string().max(1024).optional(),
});
export type { SearchHit, SearchResults, SessionMatches, SessionSearchResults };
export type SearchQuery = z.input<typeof SearchQuerySchema>;

interface NormalizedQuery {
  search: ParsedSearch;
  filter: Omit<z.output<typeof SearchQuerySchema>, 'text' | 'limit' | 'perSession' | 'cursor'>;
  limit: number;
  perSession: number;
  cursor: SessionCursor | null;
}

function normalizeQuery(query: SearchQuery): NormalizedQuery {
  const parsed = SearchQuerySchema.safeParse(query);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new StoreInputError(`invalid search at ${issue?.path.join('.') || '(root)'}: ${issue?.message}`);
  }
  const { text, limit, perSession, cursor, ...filter } = parsed.data;
  return {
    search: parseSearchText(text),
    filter,
    limit: limit ?? SEARCH_LIMIT_DEFAULT,
    perSession: perSession ?? PER_SESSION_DEFAULT,
    cursor: cursor === undefined ? null : decodeSessionCursor(cursor),
  };
}

/** Numbered parameters for one statement. */
class Params {
  readonly values: unknown[] = [];
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

/**
 * Every term, as SQL over documents `d`. indexed false writes them so no index can serve them
 * (an expression over the column, not the column): for reading a few sessions' documents
 * through their key, never the whole index for each.
 */
function matchSql(search: ParsedSearch, p: Params, indexed: boolean): string {
  const text = indexed ? 'd.text' : `(d.text || '')`;
  const words = indexed ? 'd.words' : `(d.words || ''::tsvector)`;
  return search.terms.map((t) => {
    const like = `${text} ILIKE ${p.add(t.pattern)}`;
    return t.match === 'word' ? `(${words} @@ plainto_tsquery('simple', ${p.add(t.text)}) AND ${like})` : like;
  }).join(' AND ');
}

function rankSql(search: ParsedSearch, p: Params): string {
  const together = search.terms.length > 1 ? ` + CASE WHEN d.text ILIKE ${p.add(`%${escapeLike(search.phrase)}%`)} THEN 2 ELSE 0 END` : '';
  return `(1${together}
    + CASE WHEN d.words @@ plainto_tsquery('simple', ${p.add(search.phrase)}) THEN 1 ELSE 0 END
    + CASE WHEN d.kind <> 'output' THEN 1 ELSE 0 END)`;
}

function sessionWhereSql(q: NormalizedQuery, p: Params): string[] {
  const f = q.filter;
  const where: string[] = [];
  // Any part of the name, whatever its case (the Sessions list's rule; ILIKE's escape is the backslash).
  if (f.user !== undefined) where.push(`s.user_name ILIKE ${p.add(`%${escapeLike(f.user)}%`)}`);
  if (f.target !== undefined) where.push(`s.target ILIKE ${p.add(`%${escapeLike(f.target)}%`)}`);
  if (f.protocol !== undefined) where.push(`s.protocol = ${p.add(f.protocol)}`);
  if (f.from !== undefined) where.push(`s.started_at >= ${p.add(f.from)}::timestamptz`);
  if (f.to !== undefined) where.push(`s.started_at < ${p.add(f.to)}::timestamptz`);
  if (f.ended !== undefined) where.push(`s.end_reason = ${p.add(f.ended)}`);
  if (f.allowedUsers !== undefined || f.allowedTargets !== undefined) {
    where.push(`(s.user_name = ANY(${p.add(f.allowedUsers ?? [])}::text[]) OR s.target = ANY(${p.add(f.allowedTargets ?? [])}::text[]))`);
  }
  if (q.cursor) where.push(`(s.started_at, s.id) < (${p.add(q.cursor.startedAt)}::timestamptz, ${p.add(q.cursor.id)}::text)`);
  return where;
}

const SESSION_COLUMNS = `s.id AS session_id, s.user_name, s.target, s.protocol, ${iso('s.started_at')} AS started_at,
  ${iso('s.ended_at')} AS ended_at, s.end_reason`;

interface SessionRow {
  session_id: string;
  user_name: string;
  target: string;
  protocol: string;
  started_at: string;
  ended_at: string | null;
  end_reason: string | null;
}

interface HitRow {
  session_id: string;
  seq: number;
  kind: SearchKind;
  part: number;
  time: string;
  text: string;
  rank: number;
  hits: number;
}

/**
 * Sessions whose recordings hold every term, newest first, each with its best hits and a snippet
 * of each. Throws StoreInputError for a query that is not one (map it to HTTP 400).
 */
export async function searchRecordings(client: SqlClient, query: SearchQuery, tuning: SearchTuning = SEARCH_TUNING): Promise<SearchResults> {
  const q = normalizeQuery(query);
  const walk = new SessionWalk(client, q, tuning);
  // Walk while the page would fill within the budget at the rate hits come (one window at least).
  await walk.step();
  while (!walk.stopped && walk.onTrack()) await walk.step();
  if (walk.stopped) return walk.results();
  const rest = await probe(client, { ...q, cursor: walk.cursor, limit: q.limit - walk.found.length }, tuning);
  if (rest) return { sessions: [...walk.found, ...rest.sessions], nextCursor: rest.nextCursor };
  while (!walk.stopped && walk.spent < tuning.budgetEvents) await walk.step();
  return walk.results();
}

/** Every match (in sessions past q.cursor), if there are at most probeLimit; null if there are more. */
async function probe(client: SqlClient, q: NormalizedQuery, tuning: SearchTuning): Promise<SearchResults | null> {
  const p = new Params();
  const match = matchSql(q.search, p, true);
  const rank = rankSql(q.search, p);
  const where = [match, ...sessionWhereSql(q, p)].join(' AND ');
  // m stops at probeLimit + 1 rows, whatever the plan: the rest only sorts what m found.
  const { rows } = await client.query<SessionRow & HitRow & { total: number }>(
    `WITH m AS MATERIALIZED (
       SELECT d.session_id, d.seq, d.kind, d.part, ${rank} AS rank
       FROM search_docs d JOIN sessions s ON s.id = d.session_id
       WHERE ${where}
       LIMIT ${p.add(tuning.probeLimit + 1)}
     ), counted AS (
       SELECT m.*, row_number() OVER (PARTITION BY m.session_id ORDER BY m.rank DESC, m.seq, m.kind, m.part) AS rn,
         count(*) OVER (PARTITION BY m.session_id) AS hits, count(*) OVER () AS total
       FROM m
     ), page AS (
       SELECT s.id FROM sessions s WHERE s.id IN (SELECT session_id FROM m)
       ORDER BY s.started_at DESC, s.id DESC LIMIT ${p.add(q.limit + 1)}
     )
     SELECT ${SESSION_COLUMNS}, c.seq, c.kind, c.part, c.rank, c.hits, c.total, ${iso('d.time')} AS time, d.text
     FROM counted c JOIN page ON page.id = c.session_id JOIN sessions s ON s.id = c.session_id
     JOIN search_docs d ON d.session_id = c.session_id AND d.seq = c.seq AND d.kind = c.kind AND d.part = c.part
     WHERE c.rn <= ${p.add(q.perSession)}
     ORDER BY s.started_at DESC, s.id DESC, c.rn`,
    p.values,
  );
  if (rows.length > 0 && rows[0].total > tuning.probeLimit) return null;
  const sessions = groupHits(rows, q.search);
  const more = sessions.length > q.limit;
  const page = sessions.slice(0, q.limit);
  return { sessions: page, nextCursor: more ? cursorAfter(page.at(-1)!) : null };
}

type BatchRow = SessionRow & { event_count: number };

/** Sessions newest first from the query's cursor, a window at a time, into one page. */
class SessionWalk {
  readonly found: SessionMatches[] = [];
  /** The last session walked: everything newer has been read. */
  cursor: SessionCursor | null;
  spent = 0;
  #batch: BatchRow[] = [];
  #next = 0;
  /** The sessions run out (false), or may go on past the current batch. */
  #more = true;
  #full = false;
  readonly #client: SqlClient;
  readonly #q: NormalizedQuery;
  readonly #tuning: SearchTuning;

  constructor(client: SqlClient, q: NormalizedQuery, tuning: SearchTuning) {
    this.#client = client;
    this.#q = q;
    this.#tuning = tuning;
    this.cursor = q.cursor;
  }

  /** The page is full, or there is nothing more to walk. */
  get stopped(): boolean {
    return this.#full || (!this.#more && this.#next >= this.#batch.length);
  }

  /** Whether, at the rate hits have come, the page fills before the budget is spent. */
  onTrack(): boolean {
    if (this.spent >= this.#tuning.budgetEvents) return false;
    const needed = this.#q.limit - this.found.length;
    const perEvent = this.found.length / Math.max(1, this.spent);
    return perEvent > 0 && this.spent + needed / perEvent <= this.#tuning.budgetEvents;
  }

  /** Reads the next window (at least one session, up to windowEvents events' worth). */
  async step(): Promise<void> {
    if (this.#next >= this.#batch.length) {
      if (!this.#more) return;
      this.#batch = await sessionBatch(this.#client, { ...this.#q, cursor: this.cursor });
      this.#next = 0;
      this.#more = this.#batch.length === SESSION_BATCH;
      if (this.#batch.length === 0) return;
    }
    const window: BatchRow[] = [];
    let events = 0;
    do {
      const s = this.#batch[this.#next++];
      window.push(s);
      events += Math.max(1, s.event_count);
    } while (this.#next < this.#batch.length && events + this.#batch[this.#next].event_count <= this.#tuning.windowEvents);
    this.spent += events;
    const hits = await windowHits(this.#client, this.#q, window.map((s) => s.session_id));
    for (const [i, s] of window.entries()) {
      const mine = hits.get(s.session_id);
      if (mine) this.found.push(sessionMatches(s, mine, this.#q.search));
      if (this.found.length === this.#q.limit) {
        this.#full = true;
        // Sessions after this one are still to be read on the next page.
        this.#next -= window.length - 1 - i;
        this.cursor = { startedAt: s.started_at, id: s.session_id };
        return;
      }
    }
    const last = window.at(-1)!;
    this.cursor = { startedAt: last.started_at, id: last.session_id };
  }

  /** The page as it stands: a cursor when sessions past the walk remain. */
  results(): SearchResults {
    const remain = this.#next < this.#batch.length || this.#more;
    return { sessions: this.found, nextCursor: remain && this.cursor ? encodeSessionCursor({ id: this.cursor.id, startedAt: this.cursor.startedAt }) : null };
  }
}

const SESSION_BATCH = 500;

async function sessionBatch(client: SqlClient, q: NormalizedQuery): Promise<BatchRow[]> {
  const p = new Params();
  const where = sessionWhereSql(q, p);
  const { rows } = await client.query<BatchRow>(
    `SELECT ${SESSION_COLUMNS}, s.event_count FROM sessions s
     ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
     ORDER BY s.started_at DESC, s.id DESC LIMIT ${p.add(SESSION_BATCH)}`,
    p.values,
  );
  return rows;
}

/** The best hits of each of these sessions (read through the documents' key, not the text indexes). */
async function windowHits(client: SqlClient, q: NormalizedQuery, ids: string[]): Promise<Map<string, HitRow[]>> {
  const p = new Params();
  const match = matchSql(q.search, p, false);
  const rank = rankSql(q.search, p);
  const { rows } = await client.query<HitRow>(
    `SELECT x.session_id, x.seq, x.kind, x.part, x.rank, x.hits, ${iso('x.time')} AS time, x.text
     FROM (
       SELECT r.*, row_number() OVER (PARTITION BY r.session_id ORDER BY r.rank DESC, r.seq, r.kind, r.part) AS rn,
         count(*) OVER (PARTITION BY r.session_id) AS hits
       FROM (
         SELECT d.session_id, d.seq, d.kind, d.part, d.time, d.text, ${rank} AS rank
         FROM search_docs d WHERE d.session_id = ANY(${p.add(ids)}::text[]) AND ${match}
       ) r
     ) x
     WHERE x.rn <= ${p.add(q.perSession)}
     ORDER BY x.session_id, x.rn`,
    p.values,
  );
  const bySession = new Map<string, HitRow[]>();
  for (const r of rows) {
    const list = bySession.get(r.session_id);
    if (list) list.push(r);
    else bySession.set(r.session_id, [r]);
  }
  return bySession;
}

function groupHits(rows: (SessionRow & HitRow)[], search: ParsedSearch): SessionMatches[] {
  const sessions: SessionMatches[] = [];
  for (const r of rows) {
    const last = sessions.at(-1);
    if (last?.sessionId === r.session_id) last.hits.push(hit(r, search));
    else sessions.push(sessionMatches(r, [r], search));
  }
  return sessions;
}

function sessionMatches(s: SessionRow, hits: HitRow[], search: ParsedSearch): SessionMatches {
  return {
    sessionId: s.session_id,
    user: s.user_name,
    target: s.target,
    protocol: s.protocol,
    startedAt: s.started_at,
    endedAt: s.ended_at,
    endReason: s.end_reason,
    hitCount: hits[0]?.hits ?? 0,
    hits: hits.map((h) => hit(h, search)),
  };
}

function hit(r: HitRow, search: ParsedSearch): SearchHit {
  return { sessionId: r.session_id, seq: r.seq, kind: r.kind, part: r.part, time: r.time, snippet: snippetOf(r.text, search), rank: r.rank };
}

function cursorAfter(s: SessionMatches): string {
  return encodeSessionCursor({ id: s.sessionId, startedAt: s.startedAt });
}

// ---- one recording -------------------------------------------------------------------------------

/** Every match in one recording, in seq order, from fromSeq (for find-next in the player). */
export async function searchSession(
  client: SqlClient,
  sessionId: string,
  text: string,
  opts: { fromSeq?: number; limit?: number } = {},
): Promise<SessionSearchResults> {
  const search = parseSearchText(text);
  const fromSeq = opts.fromSeq ?? 1;
  const limit = opts.limit ?? SESSION_HITS_DEFAULT;
  if (typeof sessionId !== 'string' || sessionId.length === 0 || sessionId.length > 64) throw new StoreInputError('invalid session id');
  if (!Number.isSafeInteger(fromSeq) || fromSeq < 1) throw new StoreInputError(`invalid fromSeq: ${fromSeq}`);
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > SESSION_HITS_MAX) throw new StoreInputError(`invalid limit: ${limit}`);
  const p = new Params();
  // Through the key, in order, stopping at limit: bounded by the session's size, where the text
  // indexes would read every match of a common word in the whole store first.
  const match = matchSql(search, p, false);
  const rank = rankSql(search, p);
  const { rows } = await client.query<HitRow>(
    `SELECT d.session_id, d.seq, d.kind, d.part, ${iso('d.time')} AS time, d.text, ${rank} AS rank, 0 AS hits
     FROM search_docs d
     WHERE d.session_id = ${p.add(sessionId)} AND d.seq >= ${p.add(fromSeq)} AND ${match}
     ORDER BY d.session_id, d.seq, d.kind, d.part
     LIMIT ${p.add(limit + 1)}`,
    p.values,
  );
  const more = rows.length > limit;
  const page = rows.slice(0, limit);
  // The next page starts at the seq of the first hit not shown (several hits may share a seq).
  return { hits: page.map((r) => hit(r, search)), nextSeq: more ? rows[limit].seq : null };
}

// ---- the statement index -------------------------------------------------------------------------

interface StatementRow {
  session_id: string;
  seq: number;
  end_seq: number | null;
  time: string;
  protocol: StatementEntry['protocol'];
  sql: string;
  row_count: number | null;
  error_code: string | null;
  error_message: string | null;
  duration_ms: number | null;
  tag: string | null;
}

/** A page of one session's statements, by seq from fromSeq. */
export async function listStatements(client: SqlClient, sessionId: string, fromSeq = 1, limit = STATEMENTS_LIMIT_DEFAULT): Promise<StatementEntry[]> {
  if (typeof sessionId !== 'string' || sessionId.length === 0 || sessionId.length > 64) throw new StoreInputError('invalid session id');
  if (!Number.isSafeInteger(fromSeq) || fromSeq < 1) throw new StoreInputError(`invalid fromSeq: ${fromSeq}`);
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > STATEMENTS_LIMIT_MAX) throw new StoreInputError(`invalid limit: ${limit}`);
  const { rows } = await client.query<StatementRow>(
    `SELECT session_id, seq, end_seq, ${iso('time')} AS time, protocol, sql, row_count, error_code, error_message, duration_ms, tag
     FROM statements WHERE session_id = $1 AND seq >= $2 ORDER BY seq LIMIT $3`,
    [sessionId, fromSeq, limit],
  );
  return rows.map((r) => ({
    sessionId: r.session_id,
    seq: r.seq,
    time: r.time,
    endSeq: r.end_seq,
    protocol: r.protocol,
    sql: r.sql,
    rowCount: r.row_count,
    error: r.error_code === null ? null : { code: r.error_code, message: r.error_message ?? '' },
    durationMs: r.duration_ms,
    tag: r.tag,
  }));
}

