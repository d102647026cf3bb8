// Retention: the hub purges recordings whose target keeps them for a limited time, once that time
// has passed since they ended, unless a legal hold covers them. A purge removes the events (their
// segments) and everything derived from them (keyframes, markers, search, statements, notes,
// shares) and leaves the session's summary row, its manifest and a signed tombstone, with an audit
// entry. Purges go a few sessions per transaction, so live persistence is never kept waiting long.
import type { Config } from '../../../common/config/schema.ts';
import { retentionMs } from '../../../common/config/schema.ts';
import type { PurgeResult } from '../../../common/api-contract.ts';
import type { Logger } from '../../../common/log.ts';
import type { SqlClient } from '../../store/sql-client.ts';
import type { ManifestStore } from '../trust/manifest-store.ts';
import type { RecordingKeys } from '../trust/recording-keys.ts';
import type { RecordingSealer } from '../trust/sealer.ts';
import { manifestHash, signTombstone } from '../trust/tombstone.ts';
import { HELD } from './hold-store.ts';

/** Sessions purged per transaction. */
const BATCH = 20;
/** Sessions looked at per sweep and retention group. */
const SWEEP_LIMIT = 1000;

export interface PurgerOptions {
  client: SqlClient;
  config: Pick<Config, 'targets' | 'hub'>;
  manifests: ManifestStore;
  keys: RecordingKeys;
  sealer: RecordingSealer;
  logger: Logger;
}

const DERIVED = ['segments', 'keyframes', 'markers', 'search_docs', 'statements', 'search_progress', 'annotations', 'shares'];

export class RecordingPurger {
  readonly #o: PurgerOptions;
  readonly #log: Logger;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<unknown> | null = null;
  #stopped = false;

  constructor(opts: PurgerOptions) {
    this.#o = opts;
    this.#log = opts.logger.child({ component: 'retention' });
  }

  start(everyMs: number): void {
    this.#stopped = false;
    const tick = () => {
      this.#running = this.sweep().catch((err: unknown) => this.#log.warn({ err: (err as Error).message }, 'purging expired recordings failed; trying again later'))
        .finally(() => {
          this.#running = null;
          if (!this.#stopped) this.#timer = setTimeout(tick, everyMs).unref();
        });
    };
    this.#timer = setTimeout(tick, Math.min(everyMs, 5000)).unref();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running;
  }

  /** Purges every ended, unheld recording past its retention. */
  async sweep(): Promise<PurgeResult> {
    const result: PurgeResult = { purged: [], held: [] };
    for (const group of this.#groups()) {
      const targetTest = group.targets ? 's.target = ANY($2::text[])' : 'NOT (s.target = ANY($2::text[]))';
      const { rows } = await this.#o.client.query<{ id: string; held: boolean }>(
        `SELECT s.id, ${HELD} AS held FROM sessions s
         WHERE s.ended_at IS NOT NULL AND s.purged_at IS NULL AND ${targetTest}
           AND s.ended_at < now() - make_interval(secs => $1::double precision / 1000)
         ORDER BY s.ended_at LIMIT ${SWEEP_LIMIT}`,
        [group.ms, group.targets ?? this.#ownRetention()]);
      result.held.push(...rows.filter((r) => r.held).map((r) => r.id));
      const due = rows.filter((r) => !r.held).map((r) => r.id);
      for (let i = 0; i < due.length && !this.#stopped; i += BATCH) {
        result.purged.push(...await this.#purge(due.slice(i, i + BATCH), `retention: ${group.label} keeps ${group.value}`));
      }
    }
    if (result.purged.length) this.#log.info({ purged: result.purged.length, held: result.held.length }, 'expired recordings purged');
    return result;
  }

  /** Purges one session now (an admin's order), unless it is live or held; returns whether it was purged. */
  async purgeNow(sessionId: string, by: string): Promise<'purged' | 'held' | 'live' | 'gone'> {
    const { rows } = await this.#o.client.query<{ ended: boolean; purged: boolean; held: boolean }>(
      `SELECT s.ended_at IS NOT NULL AS ended, s.purged_at IS NOT NULL AS purged, ${HELD} AS held FROM sessions s WHERE s.id = $1`, [sessionId]);
    const row = rows[0];
    if (!row || row.purged) return 'gone';
    if (!row.ended) return 'live';
    if (row.held) return 'held';
    return (await this.#purge([sessionId], by)).length ? 'purged' : 'held';
  }

  /** Seals what is not sealed yet, then removes the batch in one transaction. */
  async #purge(ids: string[], by: string): Promise<string[]> {
    const hashes = new Map<string, string | null>();
    for (const id of ids) {
      const signed = (await this.#o.manifests.get(id)) ?? (await this.#o.sealer.seal(id));
      hashes.set(id, signed ? manifestHash(signed) : null);
    }
    const key = this.#o.keys.current();
    return this.#o.client.transaction(async (tx) => {
      // Held meanwhile, or purged by another hub: left alone (the check and the mark are one statement).
      const { rows } = await tx.query<{ id: string; target: string; user_name: string; last_seq: string }>(
        `UPDATE sessions s SET purged_at = now(), indexed_seq = s.persisted_seq, unsealed_bytes = 0, updated_at = now()
         WHERE s.id = ANY($1::text[]) AND s.purged_at IS NULL AND s.ended_at IS NOT NULL AND NOT ${HELD}
         RETURNING s.id, s.target, s.user_name, s.last_seq`, [ids]);
      const done = rows.map((r) => r.id);
      if (done.length === 0) return [];
      for (const table of DERIVED) await tx.query(`DELETE FROM ${table} WHERE session_id = ANY($1::text[])`, [done]);
      const purgedAt = new Date().toISOString();
      for (const r of rows) {
        const signed = signTombstone({ v: 1, sessionId: r.id, manifestHash: hashes.get(r.id) ?? null, lastSeq: Number(r.last_seq), purgedBy: by, purgedAt, keyId: key.id }, key.privateKey);
        await tx.query('INSERT INTO recording_tombstones (session_id, key_id, tombstone, signature, purged_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (session_id) DO NOTHING',
          [r.id, key.id, JSON.stringify(signed.tombstone), signed.signature, purgedAt]);
        await tx.query(
          `INSERT INTO audit_log (actor, action, target, session_id, origin, detail) VALUES ($1, 'session.purged', $2, $3, NULL, $4)`,
          [by.startsWith('retention:') ? 'vigil-retention' : by, r.target, r.id, JSON.stringify({ user: r.user_name, by, manifestHash: hashes.get(r.id) ?? null })]);
      }
      return done;
    });
  }

  /** Targets with a retention of their own; the default applies to every other. */
  #ownRetention(): string[] {
    return this.#o.config.targets.filter((t) => t.retention !== undefined).map((t) => t.name);
  }

  #groups(): Array<{ ms: number; value: string; label: string; targets: string[] | null }> {
    const groups: Array<{ ms: number; value: string; label: string; targets: string[] | null }> = [];
    for (const t of this.#o.config.targets) {
      const ms = t.retention ? retentionMs(t.retention) : null;
      if (t.retention && ms !== null) groups.push({ ms, value: t.retention, label: `target ${t.name}`, targets: [t.name] });
    }
    const fallback = this.#o.config.hub.retention.default;
    const ms = retentionMs(fallback);
    if (ms !== null) groups.push({ ms, value: fallback, label: 'the default', targets: null });
    return groups;
  }
}
