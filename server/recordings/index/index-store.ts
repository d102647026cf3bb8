// What the hub derives from a recording to play and search it (migration 6): keyframes of
// terminal screens, the timeline's markers, and how far each session has been indexed. Written by
// the indexer (indexer.ts) under a lease per session; read by the player's routes.
import type { SqlClient } from '../../store/sql-client.ts';
import type { SearchExtractor } from '../search/search-documents.ts';
import { listStatements, loadExtractor, searchRecordings, searchSession, type SearchQuery, type SearchResults, type SessionSearchResults } from '../search/search-index.ts';
import type { StatementEntry } from '../search/statement-pairing.ts';
import type { KeyframeView, MarkerKind, TimelineMarker } from '../../../common/api-contract.ts';
import { iso } from '../../store/sql-time.ts';

export interface StoredKeyframe extends KeyframeView {
  /** Terminal output bytes from the start of the session to seq (the keyframer's policy). */
  outputBytes: number;
  /** What the keyframe leaves out, on the rare one that could not be exact. */
  approximate?: string;
  /** What a keyframer restarted from it needs (JSON; players never see it). */
  hidden?: unknown;
}

export interface MarkerRow {
  seq: number;
  kind: MarkerKind;
  time: string;
  label: string;
  durationMs?: number;
}

/** A session the indexer may work on now: its lease is this indexer's until it lapses. */
export interface IndexClaim {
  sessionId: string;
  protocol: string;
  indexedSeq: number;
  persistedSeq: number;
  ended: boolean;
}

/** What one step of indexing adds, written with the progress in one transaction. */
export interface IndexBatch {
  keyframes: readonly StoredKeyframe[];
  markers: readonly MarkerRow[];
  /** Further writes of the same step (the search index), inside the same transaction. */
  also?: (tx: SqlClient) => Promise<void>;
}

const KEYFRAME_COLUMNS = `seq, ${iso('time')} AS time, channel, cols, rows, alt_rows, scrollback, output_bytes, prelude, screen, approximate, hidden`;

interface KeyframeRow {
  seq: number; time: string; channel: number; cols: number; rows: number; alt_rows: number; scrollback: number;
  output_bytes: number; prelude: string; screen: string; approximate: string | null; hidden: string | null;
}

const toKeyframe = (r: KeyframeRow): StoredKeyframe => ({
  seq: Number(r.seq), time: r.time, channel: r.channel, cols: r.cols, rows: r.rows, altRows: r.alt_rows, scrollback: r.scrollback,
  outputBytes: Number(r.output_bytes), prelude: r.prelude, screen: r.screen,
  ...(r.approximate === null ? {} : { approximate: r.approximate }),
  ...(r.hidden === null ? {} : { hidden: JSON.parse(r.hidden) as unknown }),
});

/** Markers per timeline answer: a long session's timeline is drawn from at most this many. */
export const MARKERS_MAX = 5000;

export class RecordingIndexStore {
  readonly #client: SqlClient;

  constructor(client: SqlClient) {
    this.#client = client;
  }

  /** Sessions with persisted events not yet indexed, least recently changed first. */
  async pending(limit: number): Promise<string[]> {
    const { rows } = await this.#client.query<{ id: string }>(
      `SELECT id FROM sessions WHERE indexed_seq < persisted_seq AND (indexer_until IS NULL OR indexer_until < now())
       ORDER BY updated_at LIMIT $1`, [limit]);
    return rows.map((r) => r.id);
  }

  /** Takes (or renews) the session's lease for `owner`; null when another indexer holds it. */
  async claim(sessionId: string, owner: string, leaseMs: number): Promise<IndexClaim | null> {
    const { rows } = await this.#client.query<{ protocol: string; indexed_seq: number; persisted_seq: number; ended: boolean }>(
      `UPDATE sessions SET indexer = $2, indexer_until = now() + ($3::int8 * interval '1 millisecond')
       WHERE id = $1 AND (indexer IS NULL OR indexer = $2 OR indexer_until < now())
       RETURNING protocol, indexed_seq, persisted_seq, ended_at IS NOT NULL AS ended`, [sessionId, owner, leaseMs]);
    const row = rows[0];
    if (!row) return null;
    return { sessionId, protocol: row.protocol, indexedSeq: Number(row.indexed_seq), persistedSeq: Number(row.persisted_seq), ended: row.ended };
  }

  /**
   * Writes a step's keyframes and markers and moves indexed_seq from `fromSeq` to `toSeq`, only
   * if this owner still holds the lease and nobody moved the mark meanwhile (false otherwise:
   * nothing is written). Writes are idempotent, so a step done twice changes nothing.
   */
  async save(sessionId: string, owner: string, fromSeq: number, toSeq: number, batch: IndexBatch): Promise<boolean> {
    return this.#client.transaction(async (tx) => {
      const { rows } = await tx.query<{ id: string }>(
        `UPDATE sessions SET indexed_seq = $4 WHERE id = $1 AND indexer = $2 AND indexed_seq = $3 RETURNING id`,
        [sessionId, owner, fromSeq, toSeq]);
      if (rows.length === 0) return false;
      if (batch.keyframes.length > 0) {
        const k = batch.keyframes;
        await tx.query(
          `INSERT INTO keyframes (session_id, seq, time, channel, cols, rows, alt_rows, scrollback, output_bytes, prelude, screen, approximate, hidden)
           SELECT $1, * FROM unnest($2::int8[], $3::timestamptz[], $4::int4[], $5::int4[], $6::int4[], $7::int4[], $8::int4[], $9::int8[],
             $10::text[], $11::text[], $12::text[], $13::text[])
           ON CONFLICT (session_id, seq) DO NOTHING`,
          [sessionId, k.map((x) => x.seq), k.map((x) => x.time), k.map((x) => x.channel), k.map((x) => x.cols), k.map((x) => x.rows),
            k.map((x) => x.altRows), k.map((x) => x.scrollback), k.map((x) => x.outputBytes), k.map((x) => x.prelude), k.map((x) => x.screen),
            k.map((x) => x.approximate ?? null), k.map((x) => (x.hidden === undefined ? null : JSON.stringify(x.hidden)))]);
      }
      if (batch.markers.length > 0) {
        const m = batch.markers;
        await tx.query(
          `INSERT INTO markers (session_id, seq, kind, time, label, duration_ms)
           SELECT $1, * FROM unnest($2::int8[], $3::text[], $4::timestamptz[], $5::text[], $6::float8[])
           ON CONFLICT (session_id, seq, kind) DO NOTHING`,
          [sessionId, m.map((x) => x.seq), m.map((x) => x.kind), m.map((x) => x.time), m.map((x) => x.label), m.map((x) => x.durationMs ?? null)]);
      }
      await batch.also?.(tx);
      return true;
    });
  }

  /** Gives the lease up (the session is done, or this hub stops). */
  async release(sessionId: string, owner: string): Promise<void> {
    await this.#client.query('UPDATE sessions SET indexer = NULL, indexer_until = NULL WHERE id = $1 AND indexer = $2', [sessionId, owner]);
  }

  /** Where a session's search extraction stopped (null: never saved). */
  loadSearchState(sessionId: string): Promise<SearchExtractor | null> {
    return loadExtractor(this.#client, sessionId);
  }

  /** Recordings matching a text (masked text only), newest sessions first. */
  search(query: SearchQuery): Promise<SearchResults> {
    return searchRecordings(this.#client, query);
  }

  /** Every hit in one recording, in seq order (the player's find-next). */
  searchSession(sessionId: string, text: string, opts?: { fromSeq?: number; limit?: number }): Promise<SessionSearchResults> {
    return searchSession(this.#client, sessionId, text, opts);
  }

  /** A PostgreSQL session's statements with what answered them, from a seq on. */
  statements(sessionId: string, fromSeq: number, limit: number): Promise<StatementEntry[]> {
    return listStatements(this.#client, sessionId, fromSeq, limit);
  }

  /** Every event up to this seq is indexed. */
  async indexedSeq(sessionId: string): Promise<number> {
    const { rows } = await this.#client.query<{ indexed_seq: number }>('SELECT indexed_seq FROM sessions WHERE id = $1', [sessionId]);
    return Number(rows[0]?.indexed_seq ?? 0);
  }

  /**
   * The last keyframe at or before seq: a seek restores it and replays the events after it. An
   * approximate one too: a seek from it shows the right screen up to the next keyframe (the
   * keyframer checks that), though its hidden state may differ; an older exact one could be
   * replayed across a resize that no keyframe state carries.
   */
  async keyframeAt(sessionId: string, seq: number): Promise<StoredKeyframe | null> {
    return this.#lastKeyframe(sessionId, seq, false);
  }

  /** The last exact keyframe at or before seq: where a keyframer restarted goes on from. */
  async resumeKeyframe(sessionId: string, seq: number): Promise<StoredKeyframe | null> {
    return this.#lastKeyframe(sessionId, seq, true);
  }

  async #lastKeyframe(sessionId: string, seq: number, exact: boolean): Promise<StoredKeyframe | null> {
    const { rows } = await this.#client.query<KeyframeRow>(
      `SELECT ${KEYFRAME_COLUMNS} FROM keyframes WHERE session_id = $1 AND seq <= $2 ${exact ? 'AND approximate IS NULL' : ''}
       ORDER BY seq DESC LIMIT 1`, [sessionId, seq]);
    return rows[0] ? toKeyframe(rows[0]) : null;
  }

  /** The seqs of a session's keyframes (the player prefetches around them). */
  async keyframeSeqs(sessionId: string): Promise<number[]> {
    const { rows } = await this.#client.query<{ seq: number }>('SELECT seq FROM keyframes WHERE session_id = $1 ORDER BY seq', [sessionId]);
    return rows.map((r) => Number(r.seq));
  }

  /** The timeline's markers in seq order: at most MARKERS_MAX (then `truncated`). */
  async markers(sessionId: string): Promise<{ markers: TimelineMarker[]; truncated: boolean }> {
    const { rows } = await this.#client.query<{ seq: number; kind: MarkerKind; time: string; label: string; duration_ms: number | null }>(
      `SELECT seq, kind, ${iso('time')} AS time, label, duration_ms FROM markers
       WHERE session_id = $1 ORDER BY seq, kind LIMIT $2`, [sessionId, MARKERS_MAX + 1]);
    const markers = rows.slice(0, MARKERS_MAX).map((r) => ({
      seq: Number(r.seq), kind: r.kind, time: r.time, label: r.label, ...(r.duration_ms === null ? {} : { durationMs: Number(r.duration_ms) }),
    }));
    return { markers, truncated: rows.length > MARKERS_MAX };
  }
}
