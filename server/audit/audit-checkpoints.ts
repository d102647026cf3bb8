// The audit log, tamper-evident: rows are written as they always were (no lock, no chain at insert
// time, so several hubs and the persister's transactions never wait on each other), and every few
// seconds a hub checkpoints the rows that settled since the last checkpoint: each row's SHA-256 over
// its stored fields, in id order, and a hash chained to the previous checkpoint's, signed with the
// hub's key (the manifests' keys). The verifier recomputes each row's hash and names the row that
// changed, the row that is missing, a checkpoint whose signature or chain does not hold.
import crypto from 'node:crypto';
import { canonicalJson } from '../../common/events/canonical-json.ts';
import { signCanonical, verifyCanonical } from '../../common/ed25519.ts';
import type { AuditVerifyReport } from '../../common/api-contract.ts';
import type { Logger } from '../../common/log.ts';
import type { SqlClient } from '../store/sql-client.ts';
import type { PublishedKey } from '../recordings/trust/manifest.ts';
import type { RecordingKeys } from '../recordings/trust/recording-keys.ts';

/** Rows per checkpoint at most. */
const CHECKPOINT_ROWS = 1000;
/** Rows written more recently than this are left for the next checkpoint (a transaction may still commit below them). */
const SETTLE_MS = 30_000;
const LOCK_KEY = 0x61_75_64_69_74; // "audit"

interface AuditRow {
  id: string;
  at: string;
  actor: string;
  action: string;
  target: string | null;
  request_id: string | null;
  session_id: string | null;
  origin: string | null;
  detail: string;
}

const ROW_COLUMNS = `id, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS at, actor, action, target, request_id, session_id, origin, detail`;

export function auditRowHash(r: AuditRow): string {
  const fields = { id: String(r.id), at: r.at, actor: r.actor, action: r.action, target: r.target, requestId: r.request_id === null ? null : String(r.request_id), sessionId: r.session_id, origin: r.origin, detail: r.detail };
  return crypto.createHash('sha256').update(canonicalJson(fields)).digest('hex');
}

interface Checkpoint {
  v: 1;
  fromId: number;
  toId: number;
  /** `${id} ${hash}` per row, newline-separated. */
  rowHashes: string;
  prevHash: string | null;
  hash: string;
  madeAt: string;
  keyId: string;
}

const chainHash = (prev: string | null, rowHashes: string) => crypto.createHash('sha256').update(`${prev ?? ''}\n${rowHashes}`).digest('hex');

export class AuditCheckpoints {
  readonly #client: SqlClient;
  readonly #keys: RecordingKeys;
  readonly #log: Logger;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<unknown> | null = null;
  #stopped = false;

  constructor(client: SqlClient, keys: RecordingKeys, logger: Logger) {
    this.#client = client;
    this.#keys = keys;
    this.#log = logger.child({ component: 'audit-checkpoints' });
  }

  start(everyMs = 10_000): void {
    this.#stopped = false;
    const tick = () => {
      this.#running = this.checkpoint().catch((err: Error) => this.#log.warn({ err: err.message }, 'audit checkpoint failed; trying again later'))
        .finally(() => {
          this.#running = null;
          if (!this.#stopped) this.#timer = setTimeout(tick, everyMs).unref();
        });
    };
    this.#timer = setTimeout(tick, everyMs).unref();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running;
  }

  /** Checkpoints what settled since the last checkpoint (settleMs: tests pass 0); returns the rows covered. */
  async checkpoint(settleMs = SETTLE_MS): Promise<number> {
    let covered = 0;
    for (;;) {
      const n = await this.#client.transaction(async (tx) => {
        // One checkpointer at a time across hubs: the chain is one line.
        await tx.query('SELECT pg_advisory_xact_lock($1)', [LOCK_KEY]);
        const { rows: last } = await tx.query<{ to_id: string; hash: string }>('SELECT to_id, hash FROM audit_checkpoints ORDER BY to_id DESC LIMIT 1');
        const after = last[0] ? Number(last[0].to_id) : 0;
        const { rows } = await tx.query<AuditRow>(
          `SELECT ${ROW_COLUMNS} FROM audit_log WHERE id > $1 AND recorded_at <= now() - make_interval(secs => $2::double precision / 1000)
           ORDER BY id LIMIT ${CHECKPOINT_ROWS}`, [after, settleMs]);
        // Stop before a row written since (a lower id may still commit below it).
        const { rows: unsettled } = await tx.query<{ first: string | null }>(
          `SELECT min(id) AS first FROM audit_log WHERE id > $1 AND recorded_at > now() - make_interval(secs => $2::double precision / 1000)`, [after, settleMs]);
        const limit = unsettled[0]?.first ? Number(unsettled[0].first) : Infinity;
        const take = rows.filter((r) => Number(r.id) < limit);
        if (take.length === 0) return 0;
        const rowHashes = take.map((r) => `${r.id} ${auditRowHash(r)}`).join('\n');
        const key = this.#keys.current();
        const prevHash = last[0]?.hash ?? null;
        const cp: Checkpoint = { v: 1, fromId: after + 1, toId: Number(take[take.length - 1].id), rowHashes, prevHash, hash: chainHash(prevHash, rowHashes), madeAt: new Date().toISOString(), keyId: key.id };
        const signature = signCanonical(cp, key.privateKey);
        await tx.query(
          'INSERT INTO audit_checkpoints (from_id, to_id, row_hashes, prev_hash, hash, key_id, signature, made_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
          [cp.fromId, cp.toId, cp.rowHashes, cp.prevHash, cp.hash, cp.keyId, signature, cp.madeAt]);
        return take.length;
      });
      covered += n;
      if (n < CHECKPOINT_ROWS) return covered;
    }
  }

  /** Recomputes every checkpointed row and checks each checkpoint's chain and signature. */
  async verify(keys: readonly PublishedKey[]): Promise<AuditVerifyReport> {
    const problems: string[] = [];
    const { rows: cps } = await this.#client.query<{ id: string; from_id: string; to_id: string; row_hashes: string; prev_hash: string | null; hash: string; key_id: string; signature: string; made_at: string }>(
      'SELECT id, from_id, to_id, row_hashes, prev_hash, hash, key_id, signature, made_at FROM audit_checkpoints ORDER BY to_id');
    let prev: string | null = null;
    let expectFrom = 1;
    for (const c of cps) {
      const cp: Checkpoint = { v: 1, fromId: Number(c.from_id), toId: Number(c.to_id), rowHashes: c.row_hashes, prevHash: c.prev_hash, hash: c.hash, madeAt: c.made_at, keyId: c.key_id };
      const name = `checkpoint of rows ${cp.fromId} to ${cp.toId}`;
      const key = keys.find((k) => k.id === cp.keyId);
      if (!key || !verifyCanonical(cp, c.signature, key.publicKey)) problems.push(`the ${name} is not signed by a published key (it was changed, or its key ${cp.keyId} is unknown)`);
      if (cp.fromId !== expectFrom) problems.push(`the checkpoints of rows ${expectFrom} to ${cp.fromId - 1} are missing`);
      if (cp.prevHash !== prev || cp.hash !== chainHash(cp.prevHash, cp.rowHashes)) problems.push(`the ${name} does not chain to the one before it`);
      prev = cp.hash;
      expectFrom = cp.toId + 1;
      const sealed = new Map(cp.rowHashes.split('\n').map((l) => l.split(' ') as [string, string]));
      const { rows } = await this.#client.query<AuditRow>(`SELECT ${ROW_COLUMNS} FROM audit_log WHERE id >= $1 AND id <= $2 ORDER BY id`, [cp.fromId, cp.toId]);
      const seen = new Set<string>();
      for (const r of rows) {
        const id = String(r.id);
        seen.add(id);
        const want = sealed.get(id);
        if (want === undefined) problems.push(`audit row ${id} was added after its range was checkpointed`);
        else if (want !== auditRowHash(r)) problems.push(`audit row ${id} (${r.action} by ${r.actor}) was changed since it was checkpointed`);
      }
      for (const id of sealed.keys()) if (!seen.has(id)) problems.push(`audit row ${id} was deleted`);
    }
    const coveredToId = expectFrom - 1;
    return {
      status: problems.length ? 'tampered' : 'verified',
      summary: problems.length ? `${problems.length} problem(s): ${problems[0]}` : `verified: ${cps.length} signed checkpoints cover the audit log up to row ${coveredToId}`,
      problems,
      checkpoints: cps.length,
      coveredToId,
    };
  }
}
