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
import { describeSegmentContract } from './segment-contract.ts';
import { SessionEvents } from './event-factory.ts';

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

      expect(applied.flat().sort((a, b) => a - b)).toEqual(MIGRATIONS.map((m) => m.id));
      expect(rows.map((r) => r.id)).toEqual(MIGRATIONS.map((m) => m.id));
      expect(await migrate(clients[1])).toEqual([]);
    } finally {
      await Promise.all(clients.map((c) => c.close()));
    }
  });

  it('when two hubs write overlapping batches of one new session at once, then every event is stored once, in runs that never overlap', async () => {
    const url = await freshDatabase();
    const [a, b] = [await createStore({ databaseUrl: url, dataDir: os.tmpdir() }), await createStore({ databaseUrl: url, dataDir: os.tmpdir() })];
    try {
      const s = new SessionEvents();
      const events = [s.start(), ...s.queries(399)];
      const batches = Array.from({ length: 40 }, (_, i) => events.slice(i * 10, i * 10 + 15));
      const results = await Promise.all(batches.map((batch, i) => (i % 2 ? a : b).recordings.append(batch)));

      expect(results.reduce((n, r) => n + r.inserted, 0)).toBe(400);
      const segments = await a.recordings.listSegments(s.sessionId);
      for (let i = 1; i < segments.length; i++) expect(segments[i].firstSeq).toBe(segments[i - 1].lastSeq + 1);
      expect((await b.recordings.readEvents(s.sessionId, 1, 10_000)).map((e) => e.body)).toEqual(events.map((e) => e.body));
      expect(await a.recordings.getSession(s.sessionId)).toMatchObject({ eventCount: 400, persistedSeq: 400, lastSeq: 400 });
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});

// File-level beforeAll (the database) runs before the contract's own beforeAll (the store).
describeRecordingStoreContract('PostgreSQL', () => createStore({ databaseUrl: contractUrl, dataDir: os.tmpdir() }));
describeSegmentContract('PostgreSQL', () => createStore({ databaseUrl: contractUrl, dataDir: os.tmpdir() }),
  async () => new PgSqlClient({ connectionString: await freshDatabase() }));
