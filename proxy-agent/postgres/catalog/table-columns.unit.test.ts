import { describe, expect, it } from 'vitest';
import { TableColumns, type ColumnLookup } from './table-columns.ts';

/** A lookup whose answers the test releases one by one, recording every call. */
function controlledLookup() {
  const calls: { schema: string | undefined; table: string; answer(columns: string[] | null): void; fail(err: Error): void }[] = [];
  const lookup: ColumnLookup = (schema, table) =>
    new Promise((resolve, reject) => calls.push({ schema, table, answer: resolve, fail: reject }));
  return { lookup, calls };
}

function clock(start = 1_000) {
  const c = { t: start, now: () => c.t };
  return c;
}

describe('TableColumns', () => {
  it('when a table is unknown, then get() misses until learn() has an answer, then hits', async () => {
    const cache = new TableColumns(async (schema, table) => (table === 'users' ? ['id', 'name', 'password'] : null));
    expect(cache.get(undefined, 'users')).toBeUndefined();
    cache.learn(undefined, 'users');
    expect(cache.get(undefined, 'users')).toBeUndefined(); // pending: never waits
    await cache.settled();
    expect(cache.get(undefined, 'users')).toEqual(['id', 'name', 'password']);
  });

  it('when a name is qualified, then it is a different key from the same name unqualified', async () => {
    const cache = new TableColumns(async (schema) => (schema === 'app' ? ['a', 'b'] : ['x']));
    cache.learn('app', 'users');
    await cache.settled();
    expect(cache.get('app', 'users')).toEqual(['a', 'b']);
    expect(cache.get(undefined, 'users')).toBeUndefined();
    cache.learn(undefined, 'users');
    await cache.settled();
    expect(cache.get(undefined, 'users')).toEqual(['x']);
    expect(cache.get('app', 'users')).toEqual(['a', 'b']);
  });

  it('when a schema and table could be joined into the same string, then they stay different keys', async () => {
    const cache = new TableColumns(async (schema, table) => [`${schema}|${table}`]);
    cache.learn('a.b', 'c');
    cache.learn('a', 'b.c');
    cache.learn(undefined, 'a.b.c');
    await cache.settled();
    expect(cache.get('a.b', 'c')).toEqual(['a.b|c']);
    expect(cache.get('a', 'b.c')).toEqual(['a|b.c']);
    expect(cache.get(undefined, 'a.b.c')).toEqual(['undefined|a.b.c']);
  });

  it('when the table does not exist, then get() misses and learn() does not ask again until the answer expires', async () => {
    const c = clock();
    let asked = 0;
    const cache = new TableColumns(async () => (asked++, null), { ttlMs: 1_000, now: c.now });
    cache.learn(undefined, 'nope');
    await cache.settled();
    expect(cache.get(undefined, 'nope')).toBeUndefined();
    cache.learn(undefined, 'nope');
    await cache.settled();
    expect(asked).toBe(1);
    c.t += 1_000;
    cache.learn(undefined, 'nope');
    await cache.settled();
    expect(asked).toBe(2);
  });

  it('when the TTL has passed, then the answer is gone and learn() asks again', async () => {
    const c = clock();
    let version = 1;
    const cache = new TableColumns(async () => [`v${version}`], { ttlMs: 60_000, now: c.now });
    cache.learn(undefined, 't');
    await cache.settled();
    c.t += 59_999;
    expect(cache.get(undefined, 't')).toEqual(['v1']);
    version = 2;
    cache.learn(undefined, 't'); // still fresh: no new look-up
    await cache.settled();
    expect(cache.get(undefined, 't')).toEqual(['v1']);
    c.t += 1;
    expect(cache.get(undefined, 't')).toBeUndefined();
    cache.learn(undefined, 't');
    await cache.settled();
    expect(cache.get(undefined, 't')).toEqual(['v2']);
  });

  it('when forget() runs during a look-up, then its stale answer is dropped and a new look-up may start', async () => {
    const { lookup, calls } = controlledLookup();
    const cache = new TableColumns(lookup);
    cache.learn(undefined, 't');
    cache.forget();
    cache.learn(undefined, 't'); // the first one no longer counts as pending
    expect(calls).toHaveLength(2);
    calls[1].answer(['id', 'added_by_ddl']);
    calls[0].answer(['id']); // arrives last, from before the DDL
    await cache.settled();
    expect(cache.get(undefined, 't')).toEqual(['id', 'added_by_ddl']);
  });

  it('when forget() runs during a look-up and nothing asks again, then nothing is cached', async () => {
    const { lookup, calls } = controlledLookup();
    const cache = new TableColumns(lookup);
    cache.learn(undefined, 't');
    cache.forget();
    calls[0].answer(['stale']);
    await cache.settled();
    expect(cache.get(undefined, 't')).toBeUndefined();
  });

  it('when forget() runs, then every cached table is forgotten', async () => {
    const cache = new TableColumns(async (_s, table) => [table]);
    cache.learn(undefined, 'a');
    cache.learn('s', 'b');
    await cache.settled();
    cache.forget();
    expect(cache.get(undefined, 'a')).toBeUndefined();
    expect(cache.get('s', 'b')).toBeUndefined();
  });

  it('when a look-up fails, then the error is counted, not thrown, and retried only after a back-off', async () => {
    const c = clock();
    let fail = true;
    let asked = 0;
    const cache = new TableColumns(async () => {
      asked++;
      if (fail) throw new Error('target down');
      return ['id'];
    }, { now: c.now });
    cache.learn(undefined, 't');
    await cache.settled();
    expect(cache.failedLookups).toBe(1);
    expect(cache.get(undefined, 't')).toBeUndefined();
    c.t += 1_000;
    cache.learn(undefined, 't');
    await cache.settled();
    expect(asked).toBe(1);
    fail = false;
    c.t += 5_000;
    cache.learn(undefined, 't');
    await cache.settled();
    expect(asked).toBe(2);
    expect(cache.get(undefined, 't')).toEqual(['id']);
    expect(cache.failedLookups).toBe(1);
  });

  it('when the lookup throws synchronously, then it is handled like a rejection', async () => {
    const cache = new TableColumns(() => {
      throw new Error('boom');
    });
    cache.learn(undefined, 't');
    await cache.settled();
    expect(cache.failedLookups).toBe(1);
  });

  it('when more tables are learned than fit, then the oldest are evicted', async () => {
    const cache = new TableColumns(async (_s, table) => [table], { maxTables: 3 });
    for (const t of ['a', 'b', 'c', 'd']) {
      cache.learn(undefined, t);
      await cache.settled();
    }
    expect(cache.get(undefined, 'a')).toBeUndefined();
    expect(cache.get(undefined, 'b')).toEqual(['b']);
    expect(cache.get(undefined, 'd')).toEqual(['d']);
  });

  it('when a table is learned again after it expired, then it counts as the newest', async () => {
    const c = clock();
    const cache = new TableColumns(async (_s, table) => [table], { maxTables: 2, ttlMs: 10, now: c.now });
    cache.learn(undefined, 'a');
    await cache.settled();
    cache.learn(undefined, 'b');
    await cache.settled();
    c.t += 10;
    cache.learn(undefined, 'a');
    await cache.settled();
    cache.learn(undefined, 'c'); // evicts b, the oldest now
    await cache.settled();
    expect(cache.get(undefined, 'a')).toEqual(['a']);
    expect(cache.get(undefined, 'c')).toEqual(['c']);
    expect(cache.get(undefined, 'b')).toBeUndefined();
  });

  it('when learn() is called many times for one table at once, then one look-up runs', async () => {
    const { lookup, calls } = controlledLookup();
    const cache = new TableColumns(lookup);
    for (let i = 0; i < 10; i++) cache.learn('s', 't');
    expect(calls).toHaveLength(1);
    calls[0].answer(['x']);
    await cache.settled();
    expect(cache.get('s', 't')).toEqual(['x']);
  });

  it('when many new tables arrive at once, then only a bounded number of look-ups wait', async () => {
    const { lookup, calls } = controlledLookup();
    const cache = new TableColumns(lookup);
    for (let i = 0; i < 1_000; i++) cache.learn(undefined, `t${i}`);
    expect(calls.length).toBeLessThan(1_000);
    expect(calls.length).toBeGreaterThan(0);
    for (const call of calls) call.answer([call.table]);
    await cache.settled();
    cache.learn(undefined, 't999'); // room again
    expect(calls.at(-1)?.table).toBe('t999');
  });

  it('when closed, then it waits for look-ups in flight and starts no more', async () => {
    const { lookup, calls } = controlledLookup();
    const cache = new TableColumns(lookup);
    cache.learn(undefined, 't');
    let closed = false;
    const closing = cache.close().then(() => (closed = true));
    await Promise.resolve();
    expect(closed).toBe(false);
    calls[0].answer(['x']);
    await closing;
    cache.learn(undefined, 'u');
    expect(calls).toHaveLength(1);
    expect(cache.get(undefined, 't')).toBeUndefined();
  });
});
