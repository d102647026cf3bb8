// The hub's manifest signing keys. Each hub signs with its own Ed25519 key, kept in its data
// directory (recording-keys/current.pem, mode 0600) and never in the store; the public halves are
// published in the store (recording_keys), with when each came into use and when it was retired,
// for every hub and verifier to read. Rotating makes a new key and retires the old one: its
// private half is deleted, its public half stays published, so what it signed keeps verifying.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { SqlClient } from '../../store/sql-client.ts';
import { readEd25519Key, writeNewEd25519Key } from '../../../common/ed25519.ts';
import { keyIdOf, type PublishedKey } from './manifest.ts';
import { iso } from '../../store/sql-time.ts';

interface KeyRow {
  id: string;
  public_key: string;
  created_at: string;
  retired_at: string | null;
}

const toKey = (r: KeyRow): PublishedKey => ({ id: r.id, publicKey: r.public_key, createdAt: r.created_at, retiredAt: r.retired_at });

export interface SigningKey {
  id: string;
  privateKey: crypto.KeyObject;
}

export class RecordingKeys {
  readonly #client: SqlClient;
  readonly #dir: string;
  #current: SigningKey;

  private constructor(client: SqlClient, dir: string, current: SigningKey) {
    this.#client = client;
    this.#dir = dir;
    this.#current = current;
  }

  /** Loads this hub's key from `dataDir` (made on first use) and publishes its public half. */
  static async open(client: SqlClient, dataDir: string): Promise<RecordingKeys> {
    const dir = path.join(dataDir, 'recording-keys');
    const file = path.join(dir, 'current.pem');
    if (!fs.existsSync(file)) writeNewKey(dir);
    const keys = new RecordingKeys(client, dir, loadKey(file));
    await keys.#publish(keys.#current);
    return keys;
  }

  current(): SigningKey {
    return this.#current;
  }

  async published(): Promise<PublishedKey[]> {
    const { rows } = await this.#client.query<KeyRow>(
      `SELECT id, public_key, ${iso('created_at')} AS created_at, ${iso('retired_at')} AS retired_at FROM recording_keys ORDER BY created_at, id`);
    return rows.map(toKey);
  }

  /** A new key for this hub; the old one is retired (published still, its private half deleted). */
  async rotate(): Promise<{ retired: string; current: PublishedKey }> {
    const old = this.#current;
    const file = writeNewKey(this.#dir);
    const next = loadKey(file);
    await this.#client.transaction(async (tx) => {
      await tx.query('UPDATE recording_keys SET retired_at = now() WHERE id = $1 AND retired_at IS NULL', [old.id]);
    });
    this.#current = next;
    await this.#publish(next);
    const current = (await this.published()).find((k) => k.id === next.id)!;
    return { retired: old.id, current };
  }

  async #publish(key: SigningKey): Promise<void> {
    const publicKey = crypto.createPublicKey(key.privateKey).export({ type: 'spki', format: 'pem' }).toString();
    await this.#client.query('INSERT INTO recording_keys (id, public_key) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING', [key.id, publicKey]);
  }
}

function writeNewKey(dir: string): string {
  const file = path.join(dir, 'current.pem');
  writeNewEd25519Key(file);
  return file;
}

function loadKey(file: string): SigningKey {
  const privateKey = readEd25519Key(file);
  return { id: keyIdOf(crypto.createPublicKey(privateKey)), privateKey };
}
