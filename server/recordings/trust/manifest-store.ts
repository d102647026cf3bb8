// Manifests and the raw rows they are computed from, over the store's SqlClient (migration 10).
// Raw rows, not the segment reader's parsed events: a verifier must see what is stored, including
// what no longer parses or sits under the wrong seq.
import type { SqlClient } from '../../store/sql-client.ts';
import { iso } from '../../store/sql-time.ts';
import { ChainWalk, type RawSegment, type WalkResult } from './chain-walk.ts';
import type { Manifest, SignedManifest } from './manifest.ts';
import type { SignedTombstone, Tombstone } from './tombstone.ts';

/** Rows read at a time: a recording is walked in bounded memory. */
const PAGE_ROWS = 64;

export interface SealState {
  /** The session's stored summary: last seq, persisted watermark, end. */
  lastSeq: number;
  persistedSeq: number;
  endedAt: string | null;
  /** The last seq a manifest was written for (0: never). */
  manifestSeq: number;
  /** When the recording was purged (retention, or an admin), else null. */
  purgedAt: string | null;
}

export class ManifestStore {
  readonly #client: SqlClient;

  constructor(client: SqlClient) {
    this.#client = client;
  }

  /** The session's rows in seq order, a page at a time. */
  async *segments(sessionId: string): AsyncGenerator<RawSegment> {
    for (let after = 0; ;) {
      const { rows } = await this.#client.query<{ first_seq: string; last_seq: string; body: string }>(
        'SELECT first_seq, last_seq, body FROM segments WHERE session_id = $1 AND first_seq > $2 ORDER BY first_seq LIMIT $3',
        [sessionId, after, PAGE_ROWS]);
      for (const r of rows) yield { firstSeq: Number(r.first_seq), lastSeq: Number(r.last_seq), body: r.body };
      if (rows.length < PAGE_ROWS) return;
      after = Number(rows[rows.length - 1].first_seq);
    }
  }

  /** The chain walked over the session's rows as stored now (chain-walk.ts). */
  async walk(sessionId: string): Promise<WalkResult> {
    const walk = new ChainWalk();
    for await (const segment of this.segments(sessionId)) walk.feed(segment);
    return walk.finish();
  }

  async state(sessionId: string): Promise<SealState | null> {
    const { rows } = await this.#client.query<{ last_seq: string; persisted_seq: string; ended_at: string | null; manifest_seq: string; purged_at: string | null }>(
      `SELECT last_seq, persisted_seq, ${iso('ended_at')} AS ended_at, manifest_seq, ${iso('purged_at')} AS purged_at
       FROM sessions WHERE id = $1`, [sessionId]);
    const r = rows[0];
    return r ? { lastSeq: Number(r.last_seq), persistedSeq: Number(r.persisted_seq), endedAt: r.ended_at, manifestSeq: Number(r.manifest_seq), purgedAt: r.purged_at } : null;
  }

  /**
   * Ended sessions a manifest does not cover yet: all of it stored, or ended a while ago (a
   * best-effort session that lost events is sealed as it is).
   */
  async unsealed(limit: number, settleMs: number): Promise<string[]> {
    const { rows } = await this.#client.query<{ id: string }>(
      `SELECT id FROM sessions
       WHERE ended_at IS NOT NULL AND manifest_seq < last_seq AND purged_at IS NULL
         AND (persisted_seq >= last_seq OR ended_at < now() - make_interval(secs => $2::double precision / 1000))
       ORDER BY ended_at LIMIT $1`, [limit, settleMs]);
    return rows.map((r) => r.id);
  }

  async get(sessionId: string): Promise<SignedManifest | null> {
    const { rows } = await this.#client.query<{ manifest: string; signature: string }>(
      'SELECT manifest, signature FROM recording_manifests WHERE session_id = $1', [sessionId]);
    const r = rows[0];
    if (!r) return null;
    return { manifest: JSON.parse(r.manifest) as Manifest, signature: r.signature };
  }

  async tombstone(sessionId: string): Promise<SignedTombstone | null> {
    const { rows } = await this.#client.query<{ tombstone: string; signature: string }>(
      'SELECT tombstone, signature FROM recording_tombstones WHERE session_id = $1', [sessionId]);
    const r = rows[0];
    return r ? { tombstone: JSON.parse(r.tombstone) as Tombstone, signature: r.signature } : null;
  }

  /** Writes a manifest unless one covering more of the session is there already. */
  async save(signed: SignedManifest): Promise<void> {
    const m = signed.manifest;
    await this.#client.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO recording_manifests (session_id, last_seq, key_id, manifest, signature, sealed_at)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (session_id) DO UPDATE SET last_seq = EXCLUDED.last_seq, key_id = EXCLUDED.key_id,
           manifest = EXCLUDED.manifest, signature = EXCLUDED.signature, sealed_at = EXCLUDED.sealed_at
         WHERE recording_manifests.last_seq < EXCLUDED.last_seq`,
        [m.sessionId, m.lastSeq, m.keyId, JSON.stringify(m), signed.signature, m.sealedAt]);
      await tx.query('UPDATE sessions SET manifest_seq = greatest(manifest_seq, $2) WHERE id = $1', [m.sessionId, m.lastSeq]);
    });
  }
}
