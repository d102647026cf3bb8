// node-postgres and raw pipelined frontends through the agent: parameterized and prepared
// statements, pipelining with an error in the middle, and the agent's upstream logins.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import pg from 'pg';
import { serialize } from 'pg-protocol';
import { startHarness, type Harness } from '../support/agent-harness.ts';
import { RawClient } from '../support/raw-client.ts';
import type { VigilEvent } from '../../common/events/index.ts';

let h: Harness;

beforeAll(async () => {
  h = await startHarness({
    postgresUrl: inject('postgresUrl'),
    seed: `CREATE TABLE kv (k text PRIMARY KEY, v int);
           INSERT INTO kv VALUES ('a', 1), ('b', 2), ('c', 3);`,
  });
});
afterAll(async () => {
  await h?.stop();
});

const sessionWith = (pred: (e: VigilEvent) => boolean) => h.sessionWhere(pred);

describe('extended query protocol through the agent', () => {
  it('when node-postgres runs parameterized and prepared queries, then results are right and recorded with their parameters', async () => {
    const c = await h.client('bob');
    const r1 = await c.query('select v from kv where k = $1', ['b']);
    expect(r1.rows).toEqual([{ v: 2 }]);
    const prepared = { name: 'by_key', text: 'select k, v from kv where k = any($1::text[]) order by k', values: [['a', 'c']] };
    expect((await c.query(prepared)).rows).toEqual([{ k: 'a', v: 1 }, { k: 'c', v: 3 }]);
    expect((await c.query({ ...prepared, values: [['b']] })).rows).toEqual([{ k: 'b', v: 2 }]);
    await c.end();

    const events = await sessionWith((e) => e.type === 'db.query' && e.data.sql === 'select v from kv where k = $1');
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    const queries = events.filter((e): e is Extract<VigilEvent, { type: 'db.query' }> => e.type === 'db.query');
    expect(queries[0].data).toMatchObject({ protocol: 'extended', sql: 'select v from kv where k = $1', params: [{ value: 'b', format: 'text' }] });
    expect(queries[1].data).toMatchObject({ statement: 'by_key', params: [{ value: '{"a","c"}' }] });
    expect(queries[2].data).toMatchObject({ statement: 'by_key', params: [{ value: '{"b"}' }] });
    const results = events.filter((e) => e.type === 'db.result');
    expect(results.map((e) => e.type === 'db.result' && [e.data.querySeq, e.data.rows])).toEqual([
      [queries[0].seq, [['2']]],
      [queries[1].seq, [['a', '1'], ['c', '3']]],
      [queries[2].seq, [['b', '2']]],
    ]);
  });

  it('when a client pipelines statements with an error in the middle, then results pair with their statements and the rest of the batch is skipped', async () => {
    const c = await RawClient.login(h.port, 'carol', await h.token('carol'));
    c.write(
      serialize.parse({ text: 'select 1 as one' }), serialize.bind({}), serialize.describe({ type: 'P' }), serialize.execute({}),
      serialize.parse({ text: 'select 1/0' }), serialize.bind({}), serialize.describe({ type: 'P' }), serialize.execute({}),
      serialize.parse({ text: 'select 3 as three' }), serialize.bind({}), serialize.describe({ type: 'P' }), serialize.execute({}),
      serialize.sync(),
      serialize.parse({ text: "select 'after' as four" }), serialize.bind({}), serialize.describe({ type: 'P' }), serialize.execute({}),
      serialize.sync(),
    );
    await c.waitFor((m) => m.name === 'readyForQuery', 3);
    c.end();
    await c.waitClosed();

    const events = await sessionWith((e) => e.type === 'db.query' && e.data.sql === "select 'after' as four");
    const q = (sql: string) => events.find((e) => e.type === 'db.query' && e.data.sql === sql)!;
    const resultOf = (seq: number) => events.find((e) => e.type === 'db.result' && e.data.querySeq === seq);
    expect(resultOf(q('select 1 as one').seq)).toMatchObject({ data: { columns: [{ name: 'one' }], rows: [['1']], command: 'SELECT 1' } });
    expect(events.find((e) => e.type === 'db.error')).toMatchObject({ data: { code: '22012', querySeq: q('select 1/0').seq } });
    expect(resultOf(q('select 3 as three').seq)).toBeUndefined();
    expect(resultOf(q("select 'after' as four").seq)).toMatchObject({ data: { rows: [['after']] } });
  });

  it('when Execute has a row limit, then each portal suspension and resumption is recorded', async () => {
    const c = await RawClient.login(h.port, 'dave', await h.token('dave'));
    c.write(
      serialize.query('begin'),
    );
    await c.waitFor((m) => m.name === 'readyForQuery', 2);
    c.write(
      serialize.parse({ text: 'select k from kv order by k' }), serialize.bind({ portal: 'p1' }), serialize.describe({ type: 'P', name: 'p1' }),
      serialize.execute({ portal: 'p1', rows: 2 }), serialize.execute({ portal: 'p1', rows: 2 }), serialize.sync(),
    );
    await c.waitFor((m) => m.name === 'readyForQuery', 3);
    c.end();
    await c.waitClosed();
    const events = await sessionWith((e) => e.type === 'db.query' && e.data.portal === 'p1');
    const results = events.filter((e) => e.type === 'db.result' && e.data.rows.length > 0 && e.data.columns[0]?.name === 'k');
    expect(results.map((e) => e.type === 'db.result' && [e.data.command, e.data.rows])).toEqual([
      ['SUSPENDED', [['a'], ['b']]],
      ['SELECT 1', [['c']]],
    ]);
  });
});

describe('upstream login with the target credentials', () => {
  // The agents of these tests record into the store of the file's harness: a store of their own
  // takes seconds to open. So each waits for one ended session more than the store held before.
  for (const [user, method] of [['scram_user', 'scram-sha-256'], ['md5_user', 'md5'], ['clear_user', 'password']] as const) {
    it(`when the target requires ${method}, then the agent logs in with the configured password and the client never sees it`, async () => {
      const admin = new pg.Client({ connectionString: h.directUrl });
      await admin.connect();
      await admin.query(`SET password_encryption = '${method === 'md5' ? 'md5' : 'scram-sha-256'}'`);
      await admin.query(`DROP ROLE IF EXISTS ${user}; CREATE ROLE ${user} LOGIN PASSWORD 'Upstr3am-secret'; GRANT SELECT ON kv TO ${user}`);
      await admin.end();
      const endedBefore = (await h.waitForEnded(0)).length;
      const scoped = await startHarness({
        postgresUrl: inject('postgresUrl'),
        target: { upstream: { user, password: 'Upstr3am-secret', database: h.database } },
        stores: h.stores,
      });
      try {
        const r = await scoped.psql(['-At', '-c', 'select current_user, count(*) from kv']);
        expect(r.stderr).toBe('');
        expect(r.stdout.trim()).toBe(`${user}|3`);
        const all = await scoped.waitForEnded(endedBefore + 1);
        const bodies = JSON.stringify(all);
        expect(bodies).not.toContain('Upstr3am-secret');
      } finally {
        await scoped.stop();
      }
    });
  }

  it('when the configured upstream password is wrong, then psql gets a FATAL naming the failed login', async () => {
    const scoped = await startHarness({
      postgresUrl: inject('postgresUrl'),
      target: { upstream: { user: 'scram_user', password: 'wrong', database: h.database } },
      stores: h.stores,
    });
    try {
      const r = await scoped.psql(['-c', 'select 1']);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain("the target refused the agent's login");
      expect(r.stderr).not.toContain('wrong');
    } finally {
      await scoped.stop();
    }
  });
});
