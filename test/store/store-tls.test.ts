// PostgreSQL over TLS, on a real server with a certificate from a CA made here: the hub's store
// (DATABASE_URL with sslmode=verify-full and the CA as sslrootcert) and an agent's upstream
// (`tls: verify-full`, `caFile`) connect encrypted and check the server's certificate; one signed
// by another CA is refused with an error that says so.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStore } from '../../server/store/create-store.ts';
import { startPostgres, type PostgresInstance } from '../support/services.ts';
import { makeTestCa, type TestCa } from '../support/test-ca.ts';
import { startHarness } from '../support/agent-harness.ts';
import { SessionEvents } from './event-factory.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-store-tls-'));
let pgTls: PostgresInstance;

let ours: TestCa;
let theirs: TestCa;

beforeAll(async () => {
  ours = makeTestCa(dir, 'ours');
  theirs = makeTestCa(dir, 'theirs');
  pgTls = await startPostgres({ tls: { certFile: ours.cert, keyFile: ours.key } });
}, 60_000);

afterAll(async () => {
  await pgTls?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

const urlWith = (params: string) => `postgres://postgres@127.0.0.1:${pgTls.port}/postgres?${params}`;

describe('the store over TLS', () => {
  it('when DATABASE_URL asks for verify-full with the CA, then the store works and its connections are encrypted', async () => {
    const stores = await createStore({ databaseUrl: urlWith(`sslmode=verify-full&sslrootcert=${encodeURIComponent(ours.ca)}`), dataDir: dir });
    try {
      const s = new SessionEvents();
      await stores.recordings.append([s.start(), ...s.queries(2), s.end()]);
      expect(await stores.recordings.readEvents(s.sessionId)).toHaveLength(4);
      const pg = await import('pg');
      const client = new pg.default.Client({ connectionString: urlWith(`sslmode=verify-full&sslrootcert=${encodeURIComponent(ours.ca)}`) });
      await client.connect();
      const { rows } = await client.query<{ ssl: boolean }>('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()');
      await client.end();
      expect(rows[0].ssl).toBe(true);
    } finally {
      await stores.close();
    }
  });

  it('when the server\'s certificate was signed by another CA, then the store refuses to start, saying why', async () => {
    await expect(createStore({ databaseUrl: urlWith(`sslmode=verify-full&sslrootcert=${encodeURIComponent(theirs.ca)}`), dataDir: dir }))
      .rejects.toThrow(/certificate/i);
  });

  it('when an agent\'s upstream is verify-full with the CA, then psql through the agent reaches the target over TLS; with another CA it is refused', async () => {
    const upstream = (ca: string) => ({ upstream: { user: 'postgres', tls: 'verify-full', caFile: ca } });
    const good = await startHarness({ postgresUrl: pgTls.url, target: upstream(ours.ca) });
    try {
      const r = await good.psql(['-At', '-c', 'select ssl from pg_stat_ssl where pid = pg_backend_pid()']);
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe('t\n');
    } finally {
      await good.stop();
    }
    const bad = await startHarness({ postgresUrl: pgTls.url, target: upstream(theirs.ca) });
    try {
      const r = await bad.psql(['-At', '-c', 'select 1']);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/certificate/i);
    } finally {
      await bad.stop();
    }
  }, 60_000);
});
