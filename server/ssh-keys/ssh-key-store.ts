// The public keys people registered for SSH logins, in the hub's database beside the recordings.
import type { SqlClient } from '../store/sql-client.ts';
import { iso } from '../store/sql-time.ts';

export interface SshKey {
  fingerprint: string;
  user: string;
  /** "type base64", without the comment. */
  publicKey: string;
  name: string;
  addedAt: string;
}

export interface SshKeyStore {
  /** One person's keys, oldest first; everyone's when user is omitted. */
  list(user?: string): Promise<SshKey[]>;
  /** Adds a key; null when its fingerprint is registered already (by anyone). */
  add(key: Omit<SshKey, 'addedAt'>): Promise<SshKey | null>;
  /** Removes one of user's keys; false when they have no such key. */
  remove(user: string, fingerprint: string): Promise<boolean>;
}

type Row = { fingerprint: string; user_name: string; public_key: string; name: string; added_at: string };
const COLUMNS = `fingerprint, user_name, public_key, name, ${iso('added_at')} AS added_at`;
const toKey = (r: Row): SshKey => ({ fingerprint: r.fingerprint, user: r.user_name, publicKey: r.public_key, name: r.name, addedAt: r.added_at });

export class SqlSshKeyStore implements SshKeyStore {
  constructor(private readonly client: SqlClient) {}

  async list(user?: string): Promise<SshKey[]> {
    const r = user === undefined
      ? await this.client.query<Row>(`SELECT ${COLUMNS} FROM ssh_keys ORDER BY user_name, added_at, fingerprint`)
      : await this.client.query<Row>(`SELECT ${COLUMNS} FROM ssh_keys WHERE user_name = $1 ORDER BY added_at, fingerprint`, [user]);
    return r.rows.map(toKey);
  }

  async add(key: Omit<SshKey, 'addedAt'>): Promise<SshKey | null> {
    const r = await this.client.query<Row>(
      `INSERT INTO ssh_keys (fingerprint, user_name, public_key, name) VALUES ($1, $2, $3, $4)
       ON CONFLICT (fingerprint) DO NOTHING RETURNING ${COLUMNS}`,
      [key.fingerprint, key.user, key.publicKey, key.name],
    );
    return r.rows[0] ? toKey(r.rows[0]) : null;
  }

  async remove(user: string, fingerprint: string): Promise<boolean> {
    const r = await this.client.query('DELETE FROM ssh_keys WHERE user_name = $1 AND fingerprint = $2 RETURNING fingerprint', [user, fingerprint]);
    return r.rows.length > 0;
  }
}
