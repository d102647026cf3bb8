// Legal holds (migration 12): a session, or every session of a user or a target, kept whatever
// its retention says until the hold is released. Released holds stay, for the record.
import crypto from 'node:crypto';
import type { HoldView } from '../../../common/api-contract.ts';
import type { SqlClient } from '../../store/sql-client.ts';
import { iso } from '../../store/sql-time.ts';

const COLUMNS = `id, session_id, user_name, target, reason, created_by, ${iso('created_at')} AS created_at, ${iso('released_at')} AS released_at, released_by`;

interface HoldRow {
  id: string; session_id: string | null; user_name: string | null; target: string | null; reason: string;
  created_by: string; created_at: string; released_at: string | null; released_by: string | null;
}

const toHold = (r: HoldRow): HoldView => ({
  id: r.id, sessionId: r.session_id, user: r.user_name, target: r.target, reason: r.reason,
  createdBy: r.created_by, createdAt: r.created_at, releasedAt: r.released_at, releasedBy: r.released_by,
});

/** SQL: true when an unreleased hold covers the session row aliased `s`. */
export const HELD = `EXISTS (SELECT 1 FROM legal_holds h WHERE h.released_at IS NULL
  AND (h.session_id = s.id OR h.user_name = s.user_name OR h.target = s.target))`;

export interface NewHold {
  sessionId?: string;
  user?: string;
  target?: string;
  reason: string;
  createdBy: string;
}

export class HoldStore {
  readonly #client: SqlClient;

  constructor(client: SqlClient) {
    this.#client = client;
  }

  async create(h: NewHold): Promise<HoldView> {
    const id = `H-${crypto.randomBytes(6).toString('base64url')}`;
    const { rows } = await this.#client.query<HoldRow>(
      `INSERT INTO legal_holds (id, session_id, user_name, target, reason, created_by) VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${COLUMNS}`,
      [id, h.sessionId ?? null, h.user ?? null, h.target ?? null, h.reason, h.createdBy]);
    return toHold(rows[0]);
  }

  async list(all = false): Promise<HoldView[]> {
    const { rows } = await this.#client.query<HoldRow>(`SELECT ${COLUMNS} FROM legal_holds ${all ? '' : 'WHERE released_at IS NULL'} ORDER BY created_at DESC, id LIMIT 1000`);
    return rows.map(toHold);
  }

  async get(id: string): Promise<HoldView | null> {
    const { rows } = await this.#client.query<HoldRow>(`SELECT ${COLUMNS} FROM legal_holds WHERE id = $1`, [id]);
    return rows[0] ? toHold(rows[0]) : null;
  }

  /** Null when there is no such hold or it was released already. */
  async release(id: string, by: string): Promise<HoldView | null> {
    const { rows } = await this.#client.query<HoldRow>(
      `UPDATE legal_holds SET released_at = now(), released_by = $2 WHERE id = $1 AND released_at IS NULL RETURNING ${COLUMNS}`, [id, by]);
    return rows[0] ? toHold(rows[0]) : null;
  }

  /** The unreleased holds that cover a session. */
  async covering(session: { id: string; user: string; target: string }): Promise<HoldView[]> {
    const { rows } = await this.#client.query<HoldRow>(
      `SELECT ${COLUMNS} FROM legal_holds WHERE released_at IS NULL AND (session_id = $1 OR user_name = $2 OR target = $3) ORDER BY created_at`,
      [session.id, session.user, session.target]);
    return rows.map(toHold);
  }
}
