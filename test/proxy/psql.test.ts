// The real psql through the agent: it must work as if connected directly, and every query,
// result and error must land in the store, in order, with gapless sequence numbers.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { spawn } from 'node:child_process';
import { startHarness, type Harness } from '../support/agent-harness.ts';
import type { VigilEvent } from '../../common/events/index.ts';

const SEED = `
  CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL, price numeric(10,2));
  INSERT INTO items VALUES (1, 'apple', 1.20), (2, 'pear', 2.50), (3, 'plum', 0.80);
`;

let h: Harness;

beforeAll(async () => {
  h = await startHarness({ postgresUrl: inject('postgresUrl'), redisUrl: inject('redisUrl'), seed: SEED });
});
afterAll(async () => {
  await h?.stop();
});

function expectGapless(events: VigilEvent[]) {
  expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
  expect(events[0].type).toBe('session.start');
  expect(events.at(-1)!.type).toBe('session.end');
}

describe('psql through the agent', () => {
  it('when psql runs simple queries, then it prints the rows and the recording holds query and result in order', async () => {
    const r = await h.psql(['-At', '-c', 'select id, name from items order by id']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('1|apple\n2|pear\n3|plum\n');
    const events = await h.sessionWhere((e) => e.type === 'db.query' && e.data.sql.includes('from items order by id'));
    expectGapless(events);
    const query = events.find((e) => e.type === 'db.query' && e.data.sql.includes('from items'));
    expect(query).toBeDefined();
    const result = events.find((e) => e.type === 'db.result' && e.data.querySeq === query!.seq);
    expect(result).toMatchObject({
      data: { command: 'SELECT 3', rowCount: 3, rows: [['1', 'apple'], ['2', 'pear'], ['3', 'plum']], columns: [{ name: 'id', typeOid: 23 }, { name: 'name', typeOid: 25 }] },
    });
    expect(events.at(-1)).toMatchObject({ type: 'session.end', data: { reason: 'client_terminate' } });
  });

  it('when psql runs \\d meta-commands, then they work through the agent', async () => {
    const r = await h.psql(['-c', '\\d items', '-c', '\\dt']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Table "public.items"');
    expect(r.stdout).toMatch(/price\s+\|\s+numeric\(10,2\)/);
    expect(r.stdout).toMatch(/items\s+\|\s+table/);
  });

  it('when a query fails, then psql prints the error and the recording holds a db.error tied to the query', async () => {
    const r = await h.psql(['-c', 'select * from no_such_table']);
    expect(r.stderr).toContain('relation "no_such_table" does not exist');
    const events = await h.sessionWhere((e) => e.type === 'db.query' && e.data.sql.includes('no_such_table'));
    expectGapless(events);
    const query = events.find((e) => e.type === 'db.query' && e.data.sql.includes('no_such_table'))!;
    const error = events.find((e) => e.type === 'db.error');
    expect(error).toMatchObject({ data: { code: '42P01', querySeq: query.seq, severity: 'ERROR' } });
  });

  it('when one query string holds several statements, then each gets its own result with its index', async () => {
    const r = await h.psql(['-At', '-c', "select 1; select 'two'; update items set price = price where id = 1"]);
    expect(r.stdout).toContain('1\ntwo\n');
    const events = await h.sessionWhere((e) => e.type === 'db.query' && e.data.sql.startsWith('select 1;'));
    expectGapless(events);
    const query = events.find((e) => e.type === 'db.query' && e.data.sql.startsWith('select 1;'))!;
    const results = events.filter((e) => e.type === 'db.result' && e.data.querySeq === query.seq);
    expect(results.map((e) => e.type === 'db.result' && [e.data.statementIndex, e.data.command])).toEqual([
      [0, 'SELECT 1'],
      [1, 'SELECT 1'],
      [2, 'UPDATE 1'],
    ]);
  });

  it('when psql copies to and from STDIN/STDOUT, then the data flows and db.copy events record it', async () => {
    const input = 'create temp table t (a int, b text);\n\\copy t from stdin\n1\tone\n2\ttwo\n\\.\n\\copy t to stdout\n';
    const r = await h.psql(['-At'], { input });
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('1\tone\n2\ttwo\n');
    const events = await h.sessionWhere((e) => e.type === 'db.query' && e.data.sql.startsWith('create temp table t'));
    expectGapless(events);
    const copies = events.filter((e) => e.type === 'db.copy');
    expect(copies).toHaveLength(2);
    expect(copies[0]).toMatchObject({ data: { direction: 'in', rows: 2, content: '1\tone\n2\ttwo\n', outcome: 'done' } });
    expect(copies[1]).toMatchObject({ data: { direction: 'out', rows: 2, content: '1\tone\n2\ttwo\n', outcome: 'done' } });
  });

  it('when psql is interrupted during pg_sleep(30), then the cancel reaches the server through the agent', async () => {
    const child = spawn('psql', ['-X', await h.uri(), '-c', 'select pg_sleep(30)']);
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    // Wait until the query is running on the server, then Ctrl-C (psql sends a CancelRequest).
    await waitUntil(async () => {
      const r = await h.psql(['-At', '-c', "select count(*) from pg_stat_activity where query = 'select pg_sleep(30)' and state = 'active'"]);
      return r.stdout.trim() === '1';
    });
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stderr).toContain('canceling statement due to user request');
    expect(code).not.toBe(0);
    const events = await h.sessionWhere((e) => e.type === 'db.query' && e.data.sql === 'select pg_sleep(30)');
    expectGapless(events);
    expect(events.find((e) => e.type === 'db.error')).toMatchObject({ data: { code: '57014' } });
  });
});

async function waitUntil(check: () => Promise<boolean>, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}
