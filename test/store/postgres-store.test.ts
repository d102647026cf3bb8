// The store contract on a real PostgreSQL (the suite's private server), in a database of its own
// that is dropped afterwards; plus concurrent migration, which only a shared server can race.
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createStore } from '../../server/store/create-store.ts';
import { migrate, MIGRATIONS } from '../../server/store/migrations.ts';
import { PgSqlClient } from '../../server/store/pg-sql-client.ts';
import { describeRecordingStoreContract } from './store-contract.ts';

const adminUrl = inject('postgresUrl');
const created: string[] = [];

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** A fresh, empty database on the private server; returns its URL. */
async function freshDatabase(): Promise<string> {
  const name = `vigil_store_${randomBytes(6).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  created.push(name);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

afterAll(async () => {
  await admin(async (c) => {
    for (const name of created) await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  });
});

let contractUrl: string;
beforeAll(async () => {
  contractUrl = await freshDatabase();
});

describe('PostgreSQL store', () => {
  it('when two hubs migrate one fresh database at once, then each migration is applied exactly once', async () => {
    const url = await freshDatabase();
    const clients = [new PgSqlClient({ connectionString: url }), new PgSqlClient({ connectionString: url })];
    try {
      const applied = await Promise.all(clients.map((c) => migrate(c)));
      const { rows } = await clients[0].query<{ id: number }>('SELECT id FROM vigil_migrations ORDER BY id');

      expect(applied.flat().sort()).toEqual(MIGRATIONS.map((m) => m.id));
      expect(rows.map((r) => r.id)).toEqual(MIGRATIONS.map((m) => m.id));
      expect(await migrate(clients[1])).toEqual([]);
    } finally {
      await Promise.all(clients.map((c) => c.close()));
    }
  });
});

// File-level beforeAll (the database) runs before the contract's own beforeAll (the store).
describeRecordingStoreContract('PostgreSQL', () => createStore({ databaseUrl: contractUrl, dataDir: os.tmpdir() }));
