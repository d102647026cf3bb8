// Shares of recordings and the notes pinned to them (migration 7), over the store's SqlClient.
import type { AnnotationView, ShareView } from '../../common/api-contract.ts';
import type { SqlClient } from '../store/sql-client.ts';
import { iso } from '../store/sql-time.ts';

export interface NewShare {
  sessionId: string;
  createdBy: string;
  users: string[];
  group: string | null;
  note: string;
  expiresAt: string;
}

/** Who is asking whether a share lets them in. */
export interface Recipient {
  subject: string;
  groups: readonly string[];
}

const SHARE_COLUMNS = `id, session_id, created_by, users, group_name, note, ${iso('created_at')} AS created_at,
  ${iso('expires_at')} AS expires_at, ${iso('revoked_at')} AS revoked_at, revoked_by`;

interface ShareRow {
  id: number; session_id: string; created_by: string; users: string[]; group_name: string | null; note: string;
  created_at: string; expires_at: string; revoked_at: string | null; revoked_by: string | null;
}

const toShare = (r: ShareRow): ShareView => ({
  id: Number(r.id), sessionId: r.session_id, createdBy: r.created_by, users: r.users, group: r.group_name, note: r.note,
  createdAt: r.created_at, expiresAt: r.expires_at, revokedAt: r.revoked_at, revokedBy: r.revoked_by,
});

// A share names the recipient as a user, or a group the recipient is in.
const FOR_RECIPIENT = `($2 = ANY(users) OR group_name = ANY($3::text[]))`;

export class ShareStore {
  readonly #client: SqlClient;

  constructor(client: SqlClient) {
    this.#client = client;
  }

  async create(share: NewShare): Promise<ShareView> {
    const { rows } = await this.#client.query<ShareRow>(
      `INSERT INTO shares (session_id, created_by, users, group_name, note, expires_at)
       VALUES ($1, $2, $3::text[], $4, $5, $6::timestamptz) RETURNING ${SHARE_COLUMNS}`,
      [share.sessionId, share.createdBy, share.users, share.group, share.note, share.expiresAt]);
    return toShare(rows[0]);
  }

  async get(id: number): Promise<ShareView | null> {
    const { rows } = await this.#client.query<ShareRow>(`SELECT ${SHARE_COLUMNS} FROM shares WHERE id = $1`, [id]);
    return rows[0] ? toShare(rows[0]) : null;
  }

  async forSession(sessionId: string): Promise<ShareView[]> {
    const { rows } = await this.#client.query<ShareRow>(`SELECT ${SHARE_COLUMNS} FROM shares WHERE session_id = $1 ORDER BY id DESC`, [sessionId]);
    return rows.map(toShare);
  }

  /** Revokes a share in force; null when it was not (revoked or expired already, or no such). */
  async revoke(id: number, by: string): Promise<ShareView | null> {
    const { rows } = await this.#client.query<ShareRow>(
      `UPDATE shares SET revoked_at = now(), revoked_by = $2 WHERE id = $1 AND revoked_at IS NULL AND expires_at > now()
       RETURNING ${SHARE_COLUMNS}`, [id, by]);
    return rows[0] ? toShare(rows[0]) : null;
  }

  /**
   * The share that lets the recipient see the session now (the latest to expire), or, when none
   * does, `lapsed`: the most recent one that did and has expired or been revoked.
   */
  async access(sessionId: string, who: Recipient): Promise<{ inForce: ShareView | null; lapsed: ShareView | null }> {
    const { rows } = await this.#client.query<ShareRow & { in_force: boolean }>(
      `SELECT ${SHARE_COLUMNS}, revoked_at IS NULL AND expires_at > now() AS in_force FROM shares
       WHERE session_id = $1 AND ${FOR_RECIPIENT} ORDER BY in_force DESC, expires_at DESC LIMIT 1`,
      [sessionId, who.subject, [...who.groups]]);
    const row = rows[0];
    if (!row) return { inForce: null, lapsed: null };
    return row.in_force ? { inForce: toShare(row), lapsed: null } : { inForce: null, lapsed: toShare(row) };
  }

  /** Shares in force for the recipient, newest first. */
  async sharedWith(who: Recipient, limit = 200): Promise<ShareView[]> {
    const { rows } = await this.#client.query<ShareRow>(
      `SELECT ${SHARE_COLUMNS} FROM shares WHERE revoked_at IS NULL AND expires_at > now() AND ${FOR_RECIPIENT.replace('$2', '$1').replace('$3', '$2')}
       ORDER BY id DESC LIMIT $3`, [who.subject, [...who.groups], limit]);
    return rows.map(toShare);
  }

  async annotate(a: { sessionId: string; seq: number; author: string; text: string }): Promise<AnnotationView> {
    const { rows } = await this.#client.query<{ id: number; created_at: string }>(
      `INSERT INTO annotations (session_id, seq, author, text) VALUES ($1, $2, $3, $4) RETURNING id, ${iso('created_at')} AS created_at`,
      [a.sessionId, a.seq, a.author, a.text]);
    return { id: Number(rows[0].id), sessionId: a.sessionId, seq: a.seq, author: a.author, text: a.text, createdAt: rows[0].created_at };
  }

  async annotations(sessionId: string, limit = 5000): Promise<AnnotationView[]> {
    const { rows } = await this.#client.query<{ id: number; seq: number; author: string; text: string; created_at: string }>(
      `SELECT id, seq, author, text, ${iso('created_at')} AS created_at FROM annotations WHERE session_id = $1 ORDER BY seq, id LIMIT $2`,
      [sessionId, limit]);
    return rows.map((r) => ({ id: Number(r.id), sessionId, seq: Number(r.seq), author: r.author, text: r.text, createdAt: r.created_at }));
  }
}
