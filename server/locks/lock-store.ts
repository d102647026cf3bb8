// Locks as the hub keeps them (migration 9), over the store's SqlClient. What is in force goes to
// the agents as a list (lock-service.ts); the rest stays for the record.
import crypto from 'node:crypto';
import type { LockView } from '../../common/api-contract.ts';
import type { Lock } from '../../common/locks.ts';
import type { SqlClient } from '../store/sql-client.ts';
import { iso } from '../store/sql-time.ts';

export interface NewLock {
  user?: string;
  target?: string;
  token?: string;
  by: string;
  reason: string;
  expiresAt?: string;
}

const LOCK_COLUMNS = `id, user_name, target, token, created_by, reason, ${iso('created_at')} AS created_at,
  ${iso('expires_at')} AS expires_at, ${iso('lifted_at')} AS lifted_at, lifted_by,
  CASE WHEN lifted_at IS NOT NULL THEN 'lifted' WHEN expires_at <= now() THEN 'expired' ELSE 'in force' END AS state`;
const IN_FORCE = 'lifted_at IS NULL AND (expires_at IS NULL OR expires_at > now())';

interface LockRow {
  id: string; user_name: string | null; target: string | null; token: string | null; created_by: string; reason: string;
  created_at: string; expires_at: string | null; lifted_at: string | null; lifted_by: string | null; state: LockView['state'];
}

const toView = (r: LockRow): LockView => ({
  id: r.id, user: r.user_name, target: r.target, token: r.token, by: r.created_by, reason: r.reason,
  createdAt: r.created_at, expiresAt: r.expires_at, liftedAt: r.lifted_at, liftedBy: r.lifted_by, state: r.state,
});

/** The lock as agents apply it. */
export function lockOf(view: LockView): Lock {
  return {
    id: view.id, by: view.by, reason: view.reason, createdAt: view.createdAt,
    ...(view.user === null ? {} : { user: view.user }),
    ...(view.target === null ? {} : { target: view.target }),
    ...(view.token === null ? {} : { token: view.token }),
    ...(view.expiresAt === null ? {} : { expiresAt: view.expiresAt }),
  };
}

export class LockStore {
  readonly #client: SqlClient;

  constructor(client: SqlClient) {
    this.#client = client;
  }

  async create(lock: NewLock): Promise<LockView> {
    // Short enough to type in `vigil lock rm`, random enough never to be guessed or repeated.
    const id = `L-${crypto.randomBytes(6).toString('base64url')}`;
    const { rows } = await this.#client.query<LockRow>(
      `INSERT INTO locks (id, user_name, target, token, created_by, reason, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7::timestamptz) RETURNING ${LOCK_COLUMNS}`,
      [id, lock.user ?? null, lock.target ?? null, lock.token ?? null, lock.by, lock.reason, lock.expiresAt ?? null]);
    return toView(rows[0]);
  }

  /** Lifts a lock in force; null when there is none by that id (or it had ended already). */
  async lift(id: string, by: string): Promise<LockView | null> {
    const { rows } = await this.#client.query<LockRow>(
      `UPDATE locks SET lifted_at = now(), lifted_by = $2 WHERE id = $1 AND ${IN_FORCE} RETURNING ${LOCK_COLUMNS}`, [id, by]);
    return rows[0] ? toView(rows[0]) : null;
  }

  async get(id: string): Promise<LockView | null> {
    const { rows } = await this.#client.query<LockRow>(`SELECT ${LOCK_COLUMNS} FROM locks WHERE id = $1`, [id]);
    return rows[0] ? toView(rows[0]) : null;
  }

  /** Locks in force, oldest first. */
  async inForce(): Promise<LockView[]> {
    const { rows } = await this.#client.query<LockRow>(`SELECT ${LOCK_COLUMNS} FROM locks WHERE ${IN_FORCE} ORDER BY created_at, id`);
    return rows.map(toView);
  }

  /** Newest first: those in force, and with `all` the lifted and expired ones too (at most `limit`). */
  async list(opts: { all?: boolean; limit?: number } = {}): Promise<LockView[]> {
    const { rows } = await this.#client.query<LockRow>(
      `SELECT ${LOCK_COLUMNS} FROM locks ${opts.all ? '' : `WHERE ${IN_FORCE}`} ORDER BY created_at DESC, id DESC LIMIT $1`,
      [opts.limit ?? 200]);
    return rows.map(toView);
  }
}
