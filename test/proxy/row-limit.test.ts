// `maxRows` guardrails with real clients: psql (simple protocol), node-postgres (extended, with
// parameters and named statements) and a raw pipelining frontend. A write past its limit fails as
// if the server had refused it (nothing it wrote is left, an open block is aborted, pipelined
// messages up to Sync are skipped); under the limit the client reads its plain result. An approve
// rule holds the write open while an approver, who sees the count, decides. The rows are counted
// on a connection straight to PostgreSQL.
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it, vi } from 'vitest';
import pg from 'pg';
import { serialize } from 'pg-protocol';
import type { AccessDraft, AccessStatus } from '../../common/control/control-bus.ts';
import { createInProcessControlBus } from '../../common/control/in-process-control-bus.ts';
import { startHarness, type Harness } from '../support/agent-harness.ts';
import { RawClient, type RawMessage } from '../support/raw-client.ts';
import { liveSessionOf, ofType } from '../support/recordings.ts';

vi.setConfig({ testTimeout: 60_000, hookTimeout: 120_000 });

const GUARDRAILS = [
  { name: 'no-drops', statements: ['DROP'], action: 'deny' },
  { name: 'bounded-deletes', statements: ['DELETE', 'UPDATE'], maxRows: 3, action: 'deny' },
  { name: 'bulk-inserts', statements: ['INSERT'], maxRows: 3, action: 'approve' },
  { name: 'bounded-copies', statements: ['COPY'], maxRows: 3, action: 'deny', message: 'load files through the batch job' },
];

const control = createInProcessControlBus();
const drafts: AccessDraft[] = [];
let h: Harness;
let direct: pg.Client;

beforeAll(async () => {
  await control.serveAccessRequests(async (draft) => {
    drafts.push(draft);
    return { requestId: drafts.length, status: 'pending' };
  });
  h = await startHarness({
    postgresUrl: inject('postgresUrl'),
    control,
    seed: 'CREATE TABLE t (id int PRIMARY KEY, v int);',
    target: { guardrails: GUARDRAILS },
  });
  direct = new pg.Client({ connectionString: h.directUrl });
  await direct.connect();
});
afterAll(async () => {
  await direct?.end();
  await h?.stop();
  await control.close();
});
beforeEach(async () => {
  await direct.query('TRUNCATE t; INSERT INTO t SELECT i, i FROM generate_series(1, 10) i');
});

async function rows(): Promise<number> {
  return (await direct.query('SELECT count(*)::int AS n FROM t')).rows[0].n;
}

const overLimit = (n: number) => `Vigil guardrail bounded-deletes: this DELETE would remove ${n} rows; the limit is 3`;

describe('a row limit with psql (simple protocol)', () => {
  it('when a DELETE stays within the limit, then it runs and commits and psql reads its plain result', async () => {
    const r = await h.psql(['-c', 'delete from t where id <= 2']);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('DELETE 2');
    expect(await rows()).toBe(8);
  });

  it('when a DELETE would pass the limit, then psql gets an error naming the rule and the count, and every row is still there', async () => {
    const r = await h.psql(['-c', 'delete from t where id > 0', '-c', 'select count(*) from t']);
    expect(r.stderr).toContain(overLimit(10));
    // The session goes on, idle: the next statement runs on its own.
    expect(r.stdout.trim().split('\n').at(-2)?.trim()).toBe('10');
    expect(await rows()).toBe(10);

    const events = await h.sessionWhere((e) => e.type === 'guardrail.hit' && e.data.rule === 'bounded-deletes' && e.data.statement === 'delete from t where id > 0');
    const hit = ofType(events, 'guardrail.hit')[0];
    expect(hit.data).toMatchObject({ rule: 'bounded-deletes', action: 'deny', rows: 10, statement: 'delete from t where id > 0' });
    const query = ofType(events, 'db.query').find((e) => e.data.sql === 'delete from t where id > 0')!;
    expect(hit.data.querySeq).toBe(query.seq);
    // The recording has what psql saw: the refusal as the statement's error, none of the agent's own BEGIN/ROLLBACK.
    expect(ofType(events, 'db.error').map((e) => ({ querySeq: e.data.querySeq, code: e.data.code, message: e.data.message }))).toEqual([
      { querySeq: query.seq, code: '42501', message: overLimit(10) },
    ]);
    expect(ofType(events, 'db.result').map((e) => e.data.command)).toEqual(['SELECT 1']);
  });

  it('when a DELETE within the limit is recorded, then its result is the statement\'s own and no BEGIN or COMMIT shows', async () => {
    await h.psql(['-c', 'delete from t where id = 10 returning id']);
    const events = await h.sessionWhere((e) => e.type === 'db.query' && e.data.sql === 'delete from t where id = 10 returning id');
    expect(ofType(events, 'db.result').map((e) => ({ command: e.data.command, rows: e.data.rows }))).toEqual([{ command: 'DELETE 1', rows: [['10']] }]);
    expect(ofType(events, 'guardrail.hit')).toEqual([]);
  });

  it('when a DELETE past the limit runs inside BEGIN, then the block is aborted as by a failed statement, and after ROLLBACK the rows are there', async () => {
    const r = await h.psql(['-c', 'BEGIN', '-c', 'delete from t where id > 0', '-c', 'select 1', '-c', 'ROLLBACK', '-c', 'select count(*) from t']);
    expect(r.stderr).toContain(overLimit(10));
    expect(r.stderr).toContain('current transaction is aborted');
    expect(await rows()).toBe(10);
  });

  it('when a DELETE within the limit runs inside BEGIN, then it is the block\'s to commit', async () => {
    const r = await h.psql(['-c', 'BEGIN', '-c', 'delete from t where id in (1, 2, 3)', '-c', 'update t set v = 0 where id = 4', '-c', 'COMMIT']);
    expect(r.stderr).toBe('');
    expect(r.stdout.split('\n')).toEqual(expect.arrayContaining(['DELETE 3', 'UPDATE 1', 'COMMIT']));
    expect(await rows()).toBe(7);
  });

  it('when a DELETE ... RETURNING stays within the limit, then the rows come back; past it, the error comes after them and nothing is gone', async () => {
    const under = await h.psql(['-At', '-c', 'delete from t where id <= 2 returning id']);
    expect(under.stdout.trim().split('\n')).toEqual(['1', '2', 'DELETE 2']);
    const over = await h.psql(['-At', '-c', 'update t set v = v + 1 returning id']);
    expect(over.stderr).toContain('Vigil guardrail bounded-deletes: this UPDATE would change 8 rows; the limit is 3');
    expect((await direct.query('SELECT sum(v)::int AS s FROM t')).rows[0].s).toBe(52);
    expect(await rows()).toBe(8);
  });

  it('when psql copies rows in from STDIN, then the data flows while the count is awaited, and past the limit nothing stays', async () => {
    const under = await h.psql(['-c', '\\copy t (id, v) from stdin'], { input: '11\t11\n12\t12\n\\.\n' });
    expect(under.stderr).toBe('');
    expect(under.stdout.trim()).toBe('COPY 2');
    expect(await rows()).toBe(12);
    const data = [21, 22, 23, 24, 25].map((i) => `${i}\t${i}\n`).join('');
    const over = await h.psql(['-c', '\\copy t (id, v) from stdin', '-c', 'select count(*) from t'], { input: `${data}\\.\n` });
    expect(over.stderr).toContain('Vigil guardrail bounded-copies: this COPY would copy 5 rows; the limit is 3; load files through the batch job');
    expect(over.stdout).toContain('12');
    expect(await rows()).toBe(12);
  });

  it('when a denied statement without a row limit is sent, then it is refused as before', async () => {
    const r = await h.psql(['-c', 'drop table t']);
    expect(r.stderr).toContain('Vigil guardrail no-drops denied this statement');
    expect(await rows()).toBe(10);
  });
});

describe('a row limit with node-postgres (extended protocol)', () => {
  it('when parameterized DELETEs run, then past the limit they fail with nothing gone and within it they return their count, in and out of a transaction', async () => {
    const c = await h.client('bob');
    try {
      await expect(c.query('DELETE FROM t WHERE id > $1', [0])).rejects.toMatchObject({ code: '42501', message: overLimit(10) });
      expect(await rows()).toBe(10);
      expect((await c.query('DELETE FROM t WHERE id > $1', [8])).rowCount).toBe(2);
      expect(await rows()).toBe(8);

      await c.query('BEGIN');
      await expect(c.query('DELETE FROM t WHERE id > $1', [0])).rejects.toMatchObject({ code: '42501' });
      await expect(c.query('SELECT 1')).rejects.toMatchObject({ code: '25P02' });
      await c.query('ROLLBACK');
      expect(await rows()).toBe(8);

      await c.query('BEGIN');
      expect((await c.query('DELETE FROM t WHERE id = $1', [1])).rowCount).toBe(1);
      await c.query('COMMIT');
      expect(await rows()).toBe(7);
    } finally {
      await c.end();
    }
  });

  it('when a named statement is reused, then every execution is counted', async () => {
    const c = await h.client('bob');
    try {
      const named = { name: 'delete_above', text: 'DELETE FROM t WHERE id > $1' };
      expect((await c.query({ ...named, values: [8] })).rowCount).toBe(2);
      await expect(c.query({ ...named, values: [0] })).rejects.toMatchObject({ code: '42501', message: overLimit(8) });
      expect((await c.query({ ...named, values: [7] })).rowCount).toBe(1);
      expect(await rows()).toBe(7);
    } finally {
      await c.end();
    }
  });
});

const fields = (m: RawMessage) => (m as unknown as { fields: string[] }).fields;

describe('a row limit under pipelining', () => {
  it('when a limited DELETE past the limit is pipelined before a SELECT and Sync, then the client reads the error, the SELECT is skipped, and the next batch runs', async () => {
    const c = await RawClient.login(h.port, 'carol', await h.token('carol'));
    c.write(
      serialize.parse({ text: 'DELETE FROM t WHERE id > 0' }), serialize.bind({}), serialize.execute({}),
      serialize.parse({ text: 'SELECT 42 AS answer' }), serialize.bind({}), serialize.describe({ type: 'P' }), serialize.execute({}),
      serialize.sync(),
      serialize.query('SELECT count(*) FROM t'),
    );
    // (The first ReadyForQuery is the login's.)
    await c.waitFor((m) => m.name === 'readyForQuery', 3);
    c.end();
    const names = c.messages.map((m) => m.name);
    expect(names.filter((n) => n === 'error')).toHaveLength(1);
    expect(String(c.messages.find((m) => m.name === 'error')!.message)).toBe(overLimit(10));
    expect(c.messages.filter((m) => m.name === 'dataRow').map(fields)).toEqual([['10']]);
    expect(names.slice(names.indexOf('error'))).toEqual(['error', 'readyForQuery', 'rowDescription', 'dataRow', 'commandComplete', 'readyForQuery']);
    expect(c.messages.filter((m) => m.name === 'readyForQuery').map((m) => m.status)).toEqual(['I', 'I', 'I']);
    expect(await rows()).toBe(10);
  });

  it('when a limited DELETE within the limit is pipelined before an INSERT, then both run and commit at Sync', async () => {
    const c = await RawClient.login(h.port, 'carol', await h.token('carol'));
    c.write(
      serialize.parse({ text: 'DELETE FROM t WHERE id <= 2' }), serialize.bind({}), serialize.execute({}),
      serialize.parse({ text: 'INSERT INTO t VALUES (100, 100)' }), serialize.bind({}), serialize.execute({}),
      serialize.sync(),
    );
    await c.waitFor((m) => m.name === 'readyForQuery', 2);
    c.end();
    expect(c.messages.filter((m) => m.name === 'commandComplete').map((m) => m.text)).toEqual(['DELETE 2', 'INSERT 0 1']);
    expect(c.messages.some((m) => m.name === 'error')).toBe(false);
    expect(await rows()).toBe(9);
  });

  it('when simple Queries are pipelined around a limited DELETE, then it waits for the BEGIN before it and the block is aborted', async () => {
    const c = await RawClient.login(h.port, 'dave', await h.token('dave'));
    c.write(
      serialize.query('BEGIN'),
      serialize.query('DELETE FROM t WHERE id > 0'),
      serialize.query('SELECT 1'),
      serialize.query('ROLLBACK'),
      serialize.query('DELETE FROM t WHERE id > 5'),
      serialize.query('SELECT count(*) FROM t'),
    );
    await c.waitFor((m) => m.name === 'readyForQuery', 7);
    c.end();
    const errors = c.messages.filter((m) => m.name === 'error');
    expect(errors.map((e) => e.code)).toEqual(['42501', '25P02', '42501']);
    expect(String(errors[2].message)).toBe(overLimit(5));
    expect(c.messages.filter((m) => m.name === 'readyForQuery').map((m) => m.status)).toEqual(['I', 'T', 'E', 'E', 'I', 'I', 'I']);
    expect(c.messages.filter((m) => m.name === 'dataRow').map(fields)).toEqual([['10']]);
    expect(await rows()).toBe(10);
  });
});

describe('a row limit under an approve rule', () => {
  const decide = (requestId: number, status: AccessStatus) =>
    control.publish({ kind: 'access', requestId, scope: 'statement', user: 'alice', target: 'pg', status, by: 'aaron', at: new Date().toISOString() });

  async function nextDraft(count: number): Promise<AccessDraft> {
    await expect.poll(() => drafts.length, { timeout: 10_000 }).toBe(count);
    return drafts[count - 1];
  }

  it('when an INSERT past the limit is held, then the approver sees the count; approved, it commits; refused, nothing is written', async () => {
    const approved = h.psql(['-c', 'insert into t (id, v) select i, i from generate_series(101, 105) i']);
    const first = await nextDraft(drafts.length + 1);
    expect(first).toMatchObject({ scope: 'statement', rule: 'bulk-inserts', statement: 'insert into t (id, v) select i, i from generate_series(101, 105) i — would add 5 rows (limit 3)' });
    await decide(drafts.length, 'granted');
    const r = await approved;
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('INSERT 0 5');
    expect(await rows()).toBe(15);

    const c = await h.client('alice');
    try {
      const refused = c.query('INSERT INTO t (id, v) SELECT i, i FROM generate_series($1::int, $2::int) i', [201, 210]).then(() => null, (err: Error & { code?: string }) => err);
      const second = await nextDraft(drafts.length + 1);
      expect(second.statement).toMatch(/— would add 10 rows \(limit 3\)$/);
      await decide(drafts.length, 'denied');
      const err = await refused;
      expect(err?.message).toBe(`Vigil guardrail bulk-inserts: this INSERT would add 10 rows (the limit is 3) and it was not approved: request #${drafts.length} was denied by aaron`);
      expect((await c.query('SELECT count(*)::int AS n FROM t')).rows).toEqual([{ n: 15 }]);
    } finally {
      await c.end();
    }
    expect(await rows()).toBe(15);
  });

  it('when the session is killed while its write waits for approvers, then it ends and nothing is written', async () => {
    const c = await h.client('erin');
    c.on('error', () => undefined);
    const pending = c.query('INSERT INTO t (id, v) SELECT i, i FROM generate_series(301, 310) i').then(() => null, (err: Error) => err);
    await nextDraft(drafts.length + 1);
    const sessionId = await liveSessionOf(h.store, 'erin');
    await control.publish({ kind: 'kill', sessionId, by: 'aaron', reason: 'runaway insert', at: new Date().toISOString() });
    expect((await pending)?.message).toMatch(/aaron/);
    await h.sessionWhere((e) => e.type === 'session.end' && e.sessionId === sessionId);
    expect(await rows()).toBe(10);
    await expect.poll(async () => (await direct.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE state = 'idle in transaction' AND datname = current_database()")).rows[0].n).toBe(0);
  });
});
