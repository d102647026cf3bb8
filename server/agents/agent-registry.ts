// The agents the hub trusts (migration 13): each agent's public key, pending until an admin
// approves it or it came with a one-time enrollment token, enrolled until revoked. The persister
// asks it about every bus entry (trustOf), from a cache refreshed every few seconds and at once
// (at most every 2 s) when an agent it does not know appears; revocation reaches every hub within
// the refresh.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { AgentIdentityView } from '../../common/api-contract.ts';
import { batchSignatureHolds, keyFingerprint, publicKeyPem, type BatchProof, type SignedItem } from '../../common/agent-identity.ts';
import type { Logger } from '../../common/log.ts';
import type { SqlClient } from '../store/sql-client.ts';
import type { PublishedKey } from '../recordings/trust/manifest.ts';
import { iso } from '../store/sql-time.ts';

const COLUMNS = `id, public_key, fingerprint, status, ${iso('requested_at')} AS requested_at, requested_from,
  ${iso('enrolled_at')} AS enrolled_at, enrolled_by, ${iso('revoked_at')} AS revoked_at, revoked_by, revoke_reason`;

interface Row {
  id: string; public_key: string; fingerprint: string; status: AgentIdentityView['status']; requested_at: string; requested_from: string | null;
  enrolled_at: string | null; enrolled_by: string | null; revoked_at: string | null; revoked_by: string | null; revoke_reason: string | null;
}

const toView = (r: Row): AgentIdentityView => ({
  id: r.id, fingerprint: r.fingerprint, status: r.status, requestedAt: r.requested_at, requestedFrom: r.requested_from,
  enrolledAt: r.enrolled_at, enrolledBy: r.enrolled_by, revokedAt: r.revoked_at, revokedBy: r.revoked_by, revokeReason: r.revoke_reason,
});

const REFRESH_MS = 5000;
const UNKNOWN_REFRESH_MS = 2000;
const HUB_KEY_GRACE_MS = 10 * 60_000;
export const AGENT_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** ok with hub: the hub's own entry (a session end it wrote for an agent that could not). */
export type BatchTrust = { ok: true; agent: string; hub?: boolean } | { ok: false; agent: string | null; reason: string };

/** The agent name a hub signs its own entries with, by the id of its manifest key. */
export const HUB_SIGNER_PREFIX = 'vigil-hub:';

export class EnrollmentError extends Error {
  constructor(readonly status: 400 | 403 | 409, message: string) {
    super(message);
  }
}

const hashToken = (token: string) => crypto.createHash('sha256').update(token).digest('hex');

export class AgentRegistry {
  readonly #client: SqlClient;
  readonly #log: Logger;
  #cache = new Map<string, { status: Row['status']; key: crypto.KeyObject }>();
  #loadedAt = 0;
  #unknownAt = 0;
  #loading: Promise<void> | null = null;

  readonly #hubKeys: () => Promise<PublishedKey[]>;
  #hubKeysCache: PublishedKey[] = [];
  /** The hub's data directory, whose agent keys are the operator's (enrollLocal). */
  #localDir: string | null = null;
  #hubKeysAt = 0;

  /** hubKeys: the hubs' published manifest keys, which sign the ends hubs write (recording-keys.ts). */
  constructor(client: SqlClient, logger: Logger, hubKeys: () => Promise<PublishedKey[]> = async () => []) {
    this.#client = client;
    this.#log = logger.child({ component: 'agents' });
    this.#hubKeys = hubKeys;
  }

  /** Whether a bus entry is an enrolled agent's, signed by it, and names only sessions it served. */
  async trustOf(proof: BatchProof | undefined, items: readonly SignedItem[]): Promise<BatchTrust> {
    if (!proof) return { ok: false, agent: null, reason: 'unsigned: no agent signed this entry' };
    if (proof.agent.startsWith(HUB_SIGNER_PREFIX)) return this.#hubTrust(proof, items);
    let known = await this.#lookup(proof.agent, false);
    if (!known) known = await this.#lookup(proof.agent, true);
    if (!known && this.#localDir && AGENT_ID.test(proof.agent) && fs.existsSync(path.join(this.#localDir, 'agent-keys', `${proof.agent}.pem`))) {
      // The operator's own agent, not enrolled yet only because the store did not answer: the
      // entry waits (not acknowledged) rather than be refused.
      throw new Error(`agent ${proof.agent}'s key is in the hub's data directory but it could not be enrolled yet`);
    }
    if (!known) return { ok: false, agent: proof.agent, reason: `agent ${proof.agent} is not enrolled` };
    if (known.status !== 'enrolled') return { ok: false, agent: proof.agent, reason: `agent ${proof.agent} is ${known.status === 'revoked' ? 'revoked' : 'not approved yet'}` };
    if (!batchSignatureHolds(proof, known.key, items)) return { ok: false, agent: proof.agent, reason: `the signature does not hold for agent ${proof.agent}'s key` };
    return { ok: true, agent: proof.agent };
  }

  /** A hub's entry: signed with a published hub key in use, and holding only ends hubs write. */
  async #hubTrust(proof: BatchProof, items: readonly SignedItem[]): Promise<BatchTrust> {
    const keyId = proof.agent.slice(HUB_SIGNER_PREFIX.length);
    if (Date.now() - this.#hubKeysAt > REFRESH_MS || !this.#hubKeysCache.some((k) => k.id === keyId)) {
      this.#hubKeysCache = await this.#hubKeys();
      this.#hubKeysAt = Date.now();
    }
    // A key retired moments ago still signs the ends written just before the rotation.
    const key = this.#hubKeysCache.find((k) => k.id === keyId && (k.retiredAt === null || Date.now() - Date.parse(k.retiredAt) < HUB_KEY_GRACE_MS));
    if (!key || !batchSignatureHolds(proof, crypto.createPublicKey(key.publicKey), items)) return { ok: false, agent: proof.agent, reason: `the signature does not hold for hub key ${keyId}` };
    const endsOnly = items.every((i) => {
      const e = JSON.parse(i.body) as { type?: string; data?: { writtenBy?: string } };
      return e.type === 'session.end' && e.data?.writtenBy === 'hub';
    });
    return endsOnly ? { ok: true, agent: proof.agent, hub: true } : { ok: false, agent: proof.agent, reason: 'a hub signs only the session ends it writes' };
  }

  async list(): Promise<AgentIdentityView[]> {
    const { rows } = await this.#client.query<Row>(`SELECT ${COLUMNS} FROM agent_identities ORDER BY requested_at DESC, id`);
    return rows.map(toView);
  }

  async revoked(): Promise<AgentIdentityView[]> {
    const { rows } = await this.#client.query<Row>(`SELECT ${COLUMNS} FROM agent_identities WHERE status = 'revoked' ORDER BY id`);
    return rows.map(toView);
  }

  /** A one-time token for `vigil agent enroll --token`, valid for ttlMs. */
  async createToken(by: string, ttlMs: number): Promise<{ token: string; expiresAt: string }> {
    const token = `vgl-enroll-${crypto.randomBytes(24).toString('base64url')}`;
    const expiresAt = new Date(Date.now() + ttlMs).toISOString();
    await this.#client.query('INSERT INTO agent_enrollment_tokens (token_hash, created_by, expires_at) VALUES ($1, $2, $3)', [hashToken(token), by, expiresAt]);
    return { token, expiresAt };
  }

  /**
   * An agent asks to be trusted with this key. With a valid token it is enrolled at once (the
   * token is used up); without, it waits for an admin's approval. A key other than the one
   * enrolled for this id is refused: revoke the old one first.
   */
  async enroll(req: { id: string; publicKey: string; token?: string; from: string | null }): Promise<AgentIdentityView> {
    if (!AGENT_ID.test(req.id)) throw new EnrollmentError(400, 'agent ids are letters, digits, ., _ and - (up to 128)');
    let key: crypto.KeyObject;
    try {
      key = crypto.createPublicKey(req.publicKey);
    } catch {
      throw new EnrollmentError(400, 'publicKey is not a PEM public key');
    }
    if (key.asymmetricKeyType !== 'ed25519') throw new EnrollmentError(400, 'publicKey must be an Ed25519 key');
    const pem = key.export({ type: 'spki', format: 'pem' }).toString();
    const fingerprint = keyFingerprint(key);
    return this.#client.transaction(async (tx) => {
      const { rows: current } = await tx.query<Row>(`SELECT ${COLUMNS} FROM agent_identities WHERE id = $1 FOR UPDATE`, [req.id]);
      const existing = current[0];
      if (existing && existing.status === 'enrolled' && existing.fingerprint !== fingerprint) {
        throw new EnrollmentError(409, `agent ${req.id} is enrolled with another key (${existing.fingerprint}): revoke it first`);
      }
      if (existing && existing.status === 'enrolled') return toView(existing);
      let by: string | null = null;
      if (req.token !== undefined) {
        const { rows } = await tx.query<{ created_by: string }>(
          `UPDATE agent_enrollment_tokens SET used_at = now(), used_by = $2 WHERE token_hash = $1 AND used_at IS NULL AND expires_at > now() RETURNING created_by`,
          [hashToken(req.token), req.id]);
        if (!rows[0]) throw new EnrollmentError(403, 'the enrollment token is unknown, used or expired');
        by = `token from ${rows[0].created_by}`;
      }
      const { rows } = await tx.query<Row>(
        `INSERT INTO agent_identities (id, public_key, fingerprint, status, requested_from, enrolled_at, enrolled_by)
         VALUES ($1, $2, $3, $4, $5, CASE WHEN $6::text IS NULL THEN NULL ELSE now() END, $6)
         ON CONFLICT (id) DO UPDATE SET public_key = EXCLUDED.public_key, fingerprint = EXCLUDED.fingerprint, status = EXCLUDED.status,
           requested_at = now(), requested_from = EXCLUDED.requested_from, enrolled_at = EXCLUDED.enrolled_at, enrolled_by = EXCLUDED.enrolled_by,
           revoked_at = NULL, revoked_by = NULL, revoke_reason = NULL
         RETURNING ${COLUMNS}`,
        [req.id, pem, fingerprint, by ? 'enrolled' : 'pending', req.from, by]);
      this.#loadedAt = 0;
      return toView(rows[0]);
    });
  }

  async approve(id: string, by: string): Promise<AgentIdentityView | null> {
    const { rows } = await this.#client.query<Row>(
      `UPDATE agent_identities SET status = 'enrolled', enrolled_at = now(), enrolled_by = $2 WHERE id = $1 AND status = 'pending' RETURNING ${COLUMNS}`, [id, by]);
    this.#loadedAt = 0;
    return rows[0] ? toView(rows[0]) : null;
  }

  async revoke(id: string, by: string, reason: string): Promise<AgentIdentityView | null> {
    const { rows } = await this.#client.query<Row>(
      `UPDATE agent_identities SET status = 'revoked', revoked_at = now(), revoked_by = $2, revoke_reason = $3 WHERE id = $1 AND status <> 'revoked' RETURNING ${COLUMNS}`,
      [id, by, reason]);
    this.#loadedAt = 0;
    return rows[0] ? toView(rows[0]) : null;
  }

  async get(id: string): Promise<AgentIdentityView | null> {
    const { rows } = await this.#client.query<Row>(`SELECT ${COLUMNS} FROM agent_identities WHERE id = $1`, [id]);
    return rows[0] ? toView(rows[0]) : null;
  }

  /**
   * Agents whose keys are in the hub's own data directory (`vigil dev`, an agent on the hub's
   * machine run by its operator) are enrolled as the operator's: nothing to approve.
   */
  async enrollLocal(dataDir: string): Promise<string[]> {
    this.#localDir = dataDir;
    const dir = path.join(dataDir, 'agent-keys');
    const done: string[] = [];
    let files: string[];
    try {
      files = fs.readdirSync(dir).filter((f) => f.endsWith('.pem'));
    } catch {
      return done;
    }
    for (const file of files) {
      const id = file.slice(0, -'.pem'.length);
      if (!AGENT_ID.test(id)) continue;
      try {
        const pem = publicKeyPem(crypto.createPrivateKey(fs.readFileSync(path.join(dir, file))));
        const existing = await this.get(id);
        if (existing?.status === 'revoked') continue;
        if (existing?.status === 'enrolled' && existing.fingerprint === keyFingerprint(pem)) continue;
        await this.#client.query(
          `INSERT INTO agent_identities (id, public_key, fingerprint, status, requested_from, enrolled_at, enrolled_by)
           VALUES ($1, $2, $3, 'enrolled', 'the hub''s data directory', now(), 'the hub''s operator')
           ON CONFLICT (id) DO UPDATE SET public_key = EXCLUDED.public_key, fingerprint = EXCLUDED.fingerprint, status = 'enrolled',
             enrolled_at = now(), enrolled_by = EXCLUDED.enrolled_by`,
          [id, pem, keyFingerprint(pem)]);
        done.push(id);
      } catch (err) {
        this.#log.warn({ file, err: (err as Error).message }, 'an agent key in the data directory could not be read');
      }
    }
    this.#loadedAt = 0;
    if (done.length) this.#log.info({ agents: done }, 'agents enrolled from the hub\'s data directory');
    return done;
  }

  async #lookup(id: string, fresh: boolean): Promise<{ status: Row['status']; key: crypto.KeyObject } | undefined> {
    if (fresh) {
      // An agent this hub does not know: looked for again, at most every UNKNOWN_REFRESH_MS.
      if (Date.now() - this.#unknownAt < UNKNOWN_REFRESH_MS) return this.#cache.get(id);
      this.#unknownAt = Date.now();
      // One started after the hub on the hub's own machine (`vigil dev`): its key is new there.
      if (this.#localDir) await this.enrollLocal(this.#localDir);
      await this.#load();
    } else if (Date.now() - this.#loadedAt > REFRESH_MS) {
      await this.#load();
    }
    return this.#cache.get(id);
  }

  #load(): Promise<void> {
    this.#loading ??= (async () => {
      try {
        const { rows } = await this.#client.query<{ id: string; public_key: string; status: Row['status'] }>('SELECT id, public_key, status FROM agent_identities');
        const next = new Map<string, { status: Row['status']; key: crypto.KeyObject }>();
        for (const r of rows) next.set(r.id, { status: r.status, key: crypto.createPublicKey(r.public_key) });
        this.#cache = next;
        this.#loadedAt = Date.now();
      } catch (err) {
        // The store is away: the agents known a moment ago stay known (tried again in a second);
        // with nothing known yet, the caller cannot decide and the entry waits (persister).
        if (this.#loadedAt === 0) throw err;
        this.#loadedAt = Date.now() - REFRESH_MS + 1000;
        this.#log.warn({ err: (err as Error).message }, 'agents: cannot read the enrolled agents; going on with the last list');
      } finally {
        this.#loading = null;
      }
    })();
    return this.#loading;
  }
}
