// The agent's catalog look-ups against a real PostgreSQL: column order for INSERTs without a
// column list, odd names, DDL seen after forget(), errors, timeouts and lost connections.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import crypto from 'node:crypto';
import pg from 'pg';
import { CatalogClient, CatalogQueryError } from '../../proxy-agent/postgres/catalog/catalog-client.ts';
import { TableColumns } from '../../proxy-agent/postgres/catalog/table-columns.ts';
import type { UpstreamSettings } from '../../proxy-agent/postgres/upstream-login.ts';

const suffix = crypto.randomBytes(4).toString('hex');
const database = `vigil_catalog_${suffix}`;
const reader = `vigil_catalog_reader_${suffix}`;

const ODD_SCHEMA = 'Odd "Schema" ü';
const ODD_TABLE = `Mixed Case "Table" it's \\ naïve`;
const INJECTION = `users'); DROP TABLE users; --`;

let admin: pg.Client;
let settings: UpstreamSettings;

const SEED = `
  CREATE TABLE users (id int, name text, dropped text, password text);
  ALTER TABLE users DROP COLUMN dropped;
  CREATE SCHEMA vault;
  CREATE TABLE vault.keys (id int, secret text);
  CREATE TABLE vault.users (login text, token text);
  CREATE SCHEMA "Odd ""Schema"" ü";
  CREATE TABLE "Odd ""Schema"" ü"."Mixed Case ""Table"" it's \\ naïve" ("Id" int, "pass word" text, "ключ" text);
  CREATE TABLE "Mixed Case ""Table"" it's \\ naïve" (only_in_public int);
  CREATE TABLE "UPPER" ("X" int);
  CREATE TABLE upper (y int);
  CREATE TABLE no_columns ();
  CREATE SCHEMA locked;
  CREATE TABLE locked.hidden (a int);
`;

/** The backend pids of this database's catalog connections. */
async function catalogPids(): Promise<number[]> {
  const r = await admin.query(
    `SELECT pid FROM pg_stat_activity WHERE datname = $1 AND application_name = 'vigil-agent catalog' ORDER BY pid`,
    [database],
  );
  return r.rows.map((row) => row.pid as number);
}

async function waitFor(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Closes a client and waits for its backend to leave, so the next test counts only its own. */
async function closeAndWait(client: CatalogClient | undefined): Promise<void> {
  await client?.close();
  await waitFor(async () => (await catalogPids()).length === 0, 'the catalog connection to close');
}

beforeAll(async () => {
  const url = inject('postgresUrl');
  const root = new pg.Client({ connectionString: url });
  await root.connect();
  await root.query(`CREATE DATABASE ${database}`);
  await root.query(`CREATE ROLE ${reader} LOGIN`);
  await root.end();
  admin = new pg.Client({ connectionString: url.replace(/\/[^/]*$/, `/${database}`) });
  await admin.connect();
  await admin.query(SEED);
  const { hostname, port } = new URL(url);
  settings = { host: hostname, port: Number(port), database, user: 'postgres', tls: 'disable' };
});

afterAll(async () => {
  await admin?.end();
  const root = new pg.Client({ connectionString: inject('postgresUrl') });
  await root.connect();
  await root.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  await root.query(`DROP ROLE IF EXISTS ${reader}`);
  await root.end();
});

describe('CatalogClient', () => {
  let client: CatalogClient;
  beforeAll(() => {
    client = new CatalogClient(settings);
  });
  afterAll(async () => closeAndWait(client));

  it('when a column was dropped, then the columns come in order without it', async () => {
    expect(await client.tableColumns(undefined, 'users')).toEqual(['id', 'name', 'password']);
    expect(await client.tableColumns('public', 'users')).toEqual(['id', 'name', 'password']);
  });

  it('when the table is in another schema, then the qualified name finds it and the unqualified one does not', async () => {
    expect(await client.tableColumns('vault', 'keys')).toEqual(['id', 'secret']);
    expect(await client.tableColumns(undefined, 'keys')).toBeNull();
    expect(await client.tableColumns('vault', 'users')).toEqual(['login', 'token']);
  });

  it('when names hold quotes, spaces, capitals, a backslash and non-ASCII letters, then they resolve exactly', async () => {
    expect(await client.tableColumns(ODD_SCHEMA, ODD_TABLE)).toEqual(['Id', 'pass word', 'ключ']);
    expect(await client.tableColumns(undefined, ODD_TABLE)).toEqual(['only_in_public']);
    expect(await client.tableColumns(undefined, 'UPPER')).toEqual(['X']);
    expect(await client.tableColumns(undefined, 'upper')).toEqual(['y']);
    expect(await client.tableColumns(undefined, 'Upper')).toBeNull();
  });

  it('when the table or its schema does not exist, then the answer is null', async () => {
    expect(await client.tableColumns(undefined, 'nope')).toBeNull();
    expect(await client.tableColumns('no_such_schema', 'users')).toBeNull();
    expect(await client.tableColumns(undefined, 'with\0nul')).toBeNull();
  });

  it('when the table has no columns, then the answer is an empty list, not null', async () => {
    expect(await client.tableColumns(undefined, 'no_columns')).toEqual([]);
  });

  it('when a name is written to break out of the literal, then it is only a name', async () => {
    expect(await client.tableColumns(undefined, INJECTION)).toBeNull();
    expect(await client.tableColumns('public', INJECTION)).toBeNull();
    expect(await client.tableColumns(`public'); DROP TABLE users; --`, 'users')).toBeNull();
    expect(await client.tableColumns(undefined, `\\'); DROP TABLE users; --`)).toBeNull();
    const still = await admin.query(`SELECT count(*)::int AS n FROM pg_catalog.pg_tables WHERE tablename = 'users'`);
    expect(still.rows[0].n).toBe(2);
  });

  it('when many calls come at once, then they all get their own answer over one connection', async () => {
    const answers = await Promise.all([
      client.tableColumns(undefined, 'users'),
      client.tableColumns('vault', 'keys'),
      client.tableColumns(undefined, 'nope'),
      client.tableColumns(undefined, 'upper'),
    ]);
    expect(answers).toEqual([['id', 'name', 'password'], ['id', 'secret'], null, ['y']]);
    expect(await catalogPids()).toHaveLength(1);
  });

  it('when the catalog connection is terminated, then the next call opens a new one', async () => {
    await client.tableColumns(undefined, 'users');
    const [before] = await catalogPids();
    await admin.query('SELECT pg_terminate_backend($1, 5000)', [before]);
    expect(await client.tableColumns(undefined, 'users')).toEqual(['id', 'name', 'password']);
    const after = await catalogPids();
    expect(after).toHaveLength(1);
    expect(after[0]).not.toBe(before);
  });

  it('when the connection is terminated while nothing waits, then a call moments later still gets its answer', async () => {
    await client.tableColumns(undefined, 'users');
    const [before] = await catalogPids();
    // Not waiting for the backend to exit: the call may go out on the dying connection.
    await admin.query('SELECT pg_terminate_backend($1)', [before]);
    expect(await client.tableColumns('vault', 'keys')).toEqual(['id', 'secret']);
  });
});

describe('CatalogClient errors and lifetime', () => {
  it('when the server answers one call with an error, then only that call fails and the connection stays', async () => {
    const client = new CatalogClient({ ...settings, user: reader });
    try {
      const denied = client.tableColumns('locked', 'hidden');
      await expect(denied).rejects.toBeInstanceOf(CatalogQueryError);
      await expect(denied).rejects.toMatchObject({ sqlstate: '42501' });
      const [pid] = await catalogPids();
      expect(await client.tableColumns(undefined, 'users')).toEqual(['id', 'name', 'password']);
      expect(await catalogPids()).toEqual([pid]);
    } finally {
      await closeAndWait(client);
    }
  });

  it('when a query gets no answer in time, then that call fails and the next one opens a new connection', async () => {
    const client = new CatalogClient(settings, { timeoutMs: 1_000 });
    const blocker = new pg.Client({ connectionString: inject('postgresUrl').replace(/\/[^/]*$/, `/${database}`) });
    await blocker.connect();
    try {
      await client.tableColumns(undefined, 'users');
      const [before] = await catalogPids();
      // Reading pg_attribute waits for this lock (per database: other tests are not held up).
      await blocker.query('BEGIN; LOCK TABLE pg_catalog.pg_attribute IN ACCESS EXCLUSIVE MODE');
      await expect(client.tableColumns(undefined, 'users')).rejects.toThrow(/no answer within 1000 ms/);
      await blocker.query('ROLLBACK');
      expect(await client.tableColumns(undefined, 'users')).toEqual(['id', 'name', 'password']);
      await waitFor(async () => !(await catalogPids()).includes(before), 'the timed-out backend to go');
      expect(await catalogPids()).toHaveLength(1);
    } finally {
      await blocker.end();
      await closeAndWait(client);
    }
  });

  it('when the client is idle for idleMs, then its connection closes, and the next call opens one again', async () => {
    const client = new CatalogClient(settings, { idleMs: 200 });
    try {
      await client.tableColumns(undefined, 'users');
      expect(await catalogPids()).toHaveLength(1);
      await waitFor(async () => (await catalogPids()).length === 0, 'the idle connection to close');
      expect(await client.tableColumns(undefined, 'users')).toEqual(['id', 'name', 'password']);
      expect(await catalogPids()).toHaveLength(1);
    } finally {
      await closeAndWait(client);
    }
  });

  it('when closed, then its connection ends and later calls are refused', async () => {
    const client = new CatalogClient(settings);
    await client.tableColumns(undefined, 'users');
    await closeAndWait(client);
    await expect(client.tableColumns(undefined, 'users')).rejects.toThrow(/closed/);
  });

  it('when the target cannot be reached, then the call fails without naming the password', async () => {
    const client = new CatalogClient({ ...settings, port: 1, password: 'Never-Sh0wn' });
    try {
      const err = await client.tableColumns(undefined, 'users').catch((e: Error) => e);
      expect(err).toBeInstanceOf(Error);
      expect(String((err as Error).message)).not.toContain('Never-Sh0wn');
    } finally {
      await closeAndWait(client);
    }
  });
});

describe('TableColumns over CatalogClient', () => {
  it('when a column is added after the columns were learned, then forget() and a new look-up see it', async () => {
    const client = new CatalogClient(settings);
    const columns = new TableColumns((schema, table) => client.tableColumns(schema, table));
    try {
      await admin.query('CREATE TABLE accounts (id int, login text)');
      expect(columns.get(undefined, 'accounts')).toBeUndefined();
      columns.learn(undefined, 'accounts');
      await columns.settled();
      expect(columns.get(undefined, 'accounts')).toEqual(['id', 'login']);

      await admin.query('ALTER TABLE accounts ADD COLUMN password text');
      expect(columns.get(undefined, 'accounts')).toEqual(['id', 'login']); // DDL not seen yet
      columns.forget();
      expect(columns.get(undefined, 'accounts')).toBeUndefined();
      columns.learn(undefined, 'accounts');
      await columns.settled();
      expect(columns.get(undefined, 'accounts')).toEqual(['id', 'login', 'password']);

      columns.learn(ODD_SCHEMA, ODD_TABLE);
      columns.learn(undefined, 'nope');
      await columns.settled();
      expect(columns.get(ODD_SCHEMA, ODD_TABLE)).toEqual(['Id', 'pass word', 'ключ']);
      expect(columns.get(undefined, 'nope')).toBeUndefined();
      expect(columns.failedLookups).toBe(0);
    } finally {
      await columns.close();
      await closeAndWait(client);
    }
  });

  it('when the catalog connection was terminated, then the next look-up still learns the table', async () => {
    const client = new CatalogClient(settings);
    const columns = new TableColumns((schema, table) => client.tableColumns(schema, table));
    try {
      columns.learn('vault', 'keys');
      await columns.settled();
      const [pid] = await catalogPids();
      await admin.query('SELECT pg_terminate_backend($1, 5000)', [pid]);
      columns.learn('vault', 'users');
      await columns.settled();
      expect(columns.get('vault', 'users')).toEqual(['login', 'token']);
      expect(columns.failedLookups).toBe(0);
    } finally {
      await columns.close();
      await closeAndWait(client);
    }
  });
});
