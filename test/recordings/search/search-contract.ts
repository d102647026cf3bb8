// What search must do on every engine (search-pglite.test.ts, search-postgres.test.ts): the same
// recordings, extracted and stored the same way, give the same answers, whichever way a search is
// planned (every match at once, or a walk over sessions a window at a time).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionEndReason, VigilEvent } from '../../../common/events/index.ts';
import { migrate, MIGRATIONS } from '../../../server/store/migrations.ts';
import type { SqlClient } from '../../../server/store/sql-client.ts';
import { StoreInputError } from '../../../server/recordings/store/session-filter.ts';
import { SearchExtractor } from '../../../server/recordings/search/search-documents.ts';
import {
  listStatements, loadExtractor, saveExtractor, searchRecordings, searchSession, writeDocuments, writeStatements,
  type SearchQuery, type SearchResults, type SearchTuning,
} from '../../../server/recordings/search/search-index.ts';
import { EventScript } from '../../../server/recordings/search/test-support.ts';

export const SEARCH_MIGRATION_ID = MIGRATIONS.at(-1)!.id + 1;

interface Recording {
  script: EventScript;
  events: VigilEvent[];
  user: string;
  target: string;
  endReason: SessionEndReason | null;
}

/** Stores a recording as the hub would: its session row, then what the extractor makes of its events. */
async function store(client: SqlClient, r: Recording): Promise<void> {
  const first = r.events[0];
  const end = [...r.events].reverse().find((e) => e.type === 'session.end');
  await client.query(
    `INSERT INTO sessions (id, protocol, user_name, target, client_addr, agent_id, started_at, start_seen, ended_at, end_reason, last_seq, event_count)
     VALUES ($1, $2, $3, $4, '10.0.0.7:52114', 'agent-1', $5, true, $6, $7, $8, $8)`,
    [r.script.sessionId, r.script.protocol, r.user, r.target, first.time, end?.time ?? null, r.endReason, r.events.length],
  );
  const extracted = SearchExtractor.start(r.script.sessionId).push(r.events);
  await writeDocuments(client, extracted.documents);
  await writeStatements(client, extracted.statements);
}

function recording(day: number, protocol: 'postgres' | 'ssh' | 'http', user: string, target: string, endReason: SessionEndReason | null,
  body: (s: EventScript) => VigilEvent[]): Recording {
  const script = new EventScript({ protocol, startedAt: `2030-01-${String(day).padStart(2, '0')}T09:00:00.000Z` });
  const events = [script.start(), ...body(script)];
  if (endReason) events.push(script.event('session.end', { reason: endReason, durationMs: 1000 }));
  return { script, events, user, target, endReason };
}

function queryAndResult(s: EventScript, sql: string, rows: string[][] = []): VigilEvent[] {
  const q = s.query(sql);
  return [q, s.result(q.seq, { rows, command: rows.length ? `SELECT ${rows.length}` : 'UPDATE 1' })];
}

/** The corpus: a few distinct recordings, then a run of similar ones for paging. */
function corpus() {
  const orders = recording(1, 'postgres', 'alice', 'orders-db', 'killed', (s) => {
    const select = queryAndResult(s, 'SELECT * FROM payments WHERE id = 7', [['7', '[EMAIL]', '100%']]);
    const drop = s.query('DROP TABLE payments');
    return [...select, drop, s.error(drop.seq, 'must be owner of table payments')];
  });
  const web = recording(2, 'ssh', 'bob', 'web-1', 'client_disconnect', (s) => [
    s.event('ssh.shell', { channel: 0 }),
    s.output('bob@web-1:~$ '),
    s.input('sudo rm -rf /var/log/payments\r'),
    s.output('sudo rm -rf /var/log/payments\r\nfirmware 2.1 installed\r\nbob@web-1:~$ '),
    s.event('ssh.exec', { channel: 1, command: 'cat /etc/hosts' }),
  ]);
  const billing = recording(3, 'postgres', 'carol', 'billing-db', 'client_terminate', (s) => [
    ...queryAndResult(s, 'select drop_count, table_name from stats', [['3', 'invoices']]),
    ...queryAndResult(s, 'UPDATE invoices SET paid = true WHERE id = 9'),
  ]);
  const live = recording(4, 'ssh', 'alice', 'web-1', null, (s) => [
    s.event('ssh.exec', { channel: 0, command: 'systemctl restart payments' }),
    s.output('Payments service restarted\n'),
    s.event('ssh.exit', { channel: 0, exitCode: 0 }),
  ]);
  const api = recording(5, 'http', 'erin', 'billing-api', 'idle', (s) => {
    const get = s.event('http.request', { method: 'GET', path: '/v1/ledgers/77', query: 'expand=entries', version: '1.1', headers: [] });
    const events = [get,
      s.event('http.response', { requestSeq: get.seq, status: 404, headers: [] }),
      s.event('http.body', { requestSeq: get.seq, direction: 'response', contentType: 'application/json', text: '{"error":"ledger archived"}', bytes: 27 })];
    const post = s.event('http.request', { method: 'POST', path: '/v1/credit-notes', query: '', version: '2', headers: [] });
    events.push(post, s.event('http.body', { requestSeq: post.seq, direction: 'request', contentType: 'application/json', text: '{"reason":"duplicate charge"}', bytes: 29 }));
    const ws = s.event('http.request', { method: 'GET', path: '/stream', query: '', version: '1.1', headers: [] });
    events.push(ws, s.event('ws.message', { requestSeq: ws.seq, direction: 'target', kind: 'text', text: 'ledger 77 reopened', bytes: 18 }));
    return events;
  });
  const paging = Array.from({ length: 7 }, (_, i) => recording(10 + i, 'postgres', 'dave', 'load-db', 'client_terminate', (s) => [
    ...queryAndResult(s, `select pay_day from calendar where month = ${i + 1}`, [[`2030-0${(i % 9) + 1}-25`]]),
    ...(i % 2 === 0 ? queryAndResult(s, 'select pay_day, count(*) from payroll group by pay_day') : []),
  ]));
  return { orders, web, billing, live, api, paging, all: [orders, web, billing, live, api, ...paging] };
}

const sessionIds = (r: SearchResults) => r.sessions.map((s) => s.sessionId);

/** Every page of a search, following cursors. */
async function allPages(client: SqlClient, query: SearchQuery, tuning?: SearchTuning): Promise<SearchResults['sessions']> {
  const sessions: SearchResults['sessions'] = [];
  let cursor: string | undefined;
  for (let pages = 0; pages < 50; pages++) {
    const page = await searchRecordings(client, { ...query, ...(cursor ? { cursor } : {}) }, tuning);
    sessions.push(...page.sessions);
    if (!page.nextCursor) return sessions;
    cursor = page.nextCursor;
  }
  throw new Error('too many pages');
}

/** Every search walks all sessions, one a window (the probe never holds every match). */
const WALK: SearchTuning = { probeLimit: 1, windowEvents: 1, budgetEvents: 1_000_000 };
/** Every search walks one session, then takes every match in the rest from the indexes. */
const PROBE: SearchTuning = { probeLimit: 1000, windowEvents: 1, budgetEvents: 1 };

export function describeSearchContract(name: string, open: () => Promise<SqlClient>): void {
  describe(`search contract: ${name}`, () => {
    let client: SqlClient;
    const data = corpus();
    const id = (r: Recording) => r.script.sessionId;

    beforeAll(async () => {
      client = await open();
      await migrate(client, { migrations: MIGRATIONS });
      for (const r of data.all) await store(client, r);
    });

    afterAll(async () => {
      await client?.close();
    });

    it('when the same events are extracted and written again, then nothing changes', async () => {
      const r = data.orders;
      const again = SearchExtractor.start(id(r)).push(r.events);
      expect(again.documents.length).toBeGreaterThan(0);
      expect(await writeDocuments(client, again.documents)).toBe(0);
      expect(await writeStatements(client, again.statements)).toBe(0);
      expect(await migrate(client, { migrations: MIGRATIONS })).toEqual([]);
    });

    it('when part of a word is searched, then every recording holding it is found, newest first', async () => {
      const found = await searchRecordings(client, { text: 'payments', limit: 10 });
      expect(sessionIds(found)).toEqual([id(data.live), id(data.web), id(data.orders)]);
      expect(found.nextCursor).toBeNull();
      const orders = found.sessions[2];
      expect(orders).toMatchObject({ user: 'alice', target: 'orders-db', protocol: 'postgres', startedAt: '2030-01-01T09:00:00.000Z', endReason: 'killed', hitCount: 3 });
      expect(orders.endedAt).not.toBeNull();
      expect(found.sessions[0]).toMatchObject({ endedAt: null, endReason: null });
    });

    it('when two words are searched, then the statement holding them together is the best hit', async () => {
      const found = await searchRecordings(client, { text: 'drop table' });
      expect(sessionIds(found)).toEqual([id(data.billing), id(data.orders)]);
      const [billing, orders] = found.sessions;
      expect(orders.hits[0]).toMatchObject({ seq: 4, kind: 'query', rank: 5, snippet: { text: 'DROP TABLE payments', highlights: [{ start: 0, end: 4 }, { start: 5, end: 10 }] } });
      // Both words, as whole words (drop_count is the words drop and count), but not together.
      expect(billing.hits[0]).toMatchObject({ kind: 'query', rank: 3, snippet: { text: 'select drop_count, table_name from stats' } });
      expect(orders.hits.map((h) => h.rank)).toEqual([...orders.hits.map((h) => h.rank)].sort((a, b) => b - a));
    });

    it('when a short word is searched, then it matches whole words only', async () => {
      const found = await searchRecordings(client, { text: 'rm' });
      expect(sessionIds(found)).toEqual([id(data.web)]);
      expect(found.sessions[0].hits.map((h) => [h.seq, h.kind])).toEqual([[4, 'input'], [3, 'output']]);
      expect((await searchRecordings(client, { text: 'ware' })).sessions.map((s) => s.hits[0].snippet.text)).toEqual([expect.stringContaining('firmware 2.1')]);
    });

    it('when the search holds LIKE wildcards, quotes or tsquery syntax, then they are plain characters', async () => {
      expect(sessionIds(await searchRecordings(client, { text: '100%' }))).toEqual([id(data.orders)]);
      expect(sessionIds(await searchRecordings(client, { text: 'pay_day' }))).toHaveLength(7);
      expect(sessionIds(await searchRecordings(client, { text: 'payXday' }))).toEqual([]);
      for (const text of ["drop & !table | (", "'; DROP TABLE sessions; --", 'payments:*', '"unclosed quote', 'pay\\ments', 'pay\u0000ments']) {
        await expect(searchRecordings(client, { text })).resolves.toBeDefined();
      }
      expect(sessionIds(await searchRecordings(client, { text: '"table payments"' }))).toEqual([id(data.orders)]);
    });

    it('when an HTTP recording is searched, then its request lines, status lines, bodies and WebSocket messages are found', async () => {
      const found = await searchSession(client, id(data.api), 'ledger');
      expect(found.hits.map((h) => [h.seq, h.kind])).toEqual([[2, 'command'], [4, 'output'], [8, 'output']]);
      expect(sessionIds(await searchRecordings(client, { text: 'credit-notes' }))).toEqual([id(data.api)]);
      expect(sessionIds(await searchRecordings(client, { text: '"404 Not Found"', protocol: 'http' }))).toEqual([id(data.api)]);
      expect(sessionIds(await searchRecordings(client, { text: 'duplicate charge' }))).toEqual([id(data.api)]);
      expect(sessionIds(await searchRecordings(client, { text: 'ledger', protocol: 'postgres' }))).toEqual([]);
    });

    it('when sessions are filtered, then only those that match the filters are searched', async () => {
      const search = (q: Omit<SearchQuery, 'text'>) => searchRecordings(client, { text: 'payments', ...q }).then(sessionIds);
      expect(await search({ user: 'alice' })).toEqual([id(data.live), id(data.orders)]);
      expect(await search({ target: 'web-1' })).toEqual([id(data.live), id(data.web)]);
      // Users and targets by any part of their name, whatever its case (as the Sessions list); LIKE's wildcards are themselves.
      expect(await search({ user: 'LIC' })).toEqual([id(data.live), id(data.orders)]);
      expect(await search({ target: 'web' })).toEqual([id(data.live), id(data.web)]);
      expect(await search({ target: 'db' })).toEqual([id(data.orders)]);
      expect(await search({ user: '%' })).toEqual([]);
      expect(await search({ protocol: 'postgres' })).toEqual([id(data.orders)]);
      expect(await search({ from: '2030-01-02T00:00:00Z', to: '2030-01-04T09:00:00.000Z' })).toEqual([id(data.web)]);
      expect(await search({ ended: 'killed' })).toEqual([id(data.orders)]);
    });

    it('when a viewer may see only some users\' or targets\' sessions, then no other session is found', async () => {
      const search = (q: Omit<SearchQuery, 'text'>) => searchRecordings(client, { text: 'payments', ...q }).then(sessionIds);
      expect(await search({ allowedUsers: ['bob'] })).toEqual([id(data.web)]);
      expect(await search({ allowedUsers: ['bob'], allowedTargets: ['orders-db'] })).toEqual([id(data.web), id(data.orders)]);
      expect(await search({ allowedTargets: [] })).toEqual([]);
      expect(await search({ allowedUsers: ['bob'], user: 'alice' })).toEqual([]);
    });

    it('when results span pages, then the pages hold each session once, newest first, with its best hits', async () => {
      const first = await searchRecordings(client, { text: 'pay_day', limit: 3, perSession: 1 });
      expect(first.sessions).toHaveLength(3);
      expect(first.nextCursor).not.toBeNull();
      const all = await allPages(client, { text: 'pay_day', limit: 3, perSession: 1 });
      expect(all.map((s) => s.sessionId)).toEqual(data.paging.map(id).reverse());
      expect(all.map((s) => s.hitCount)).toEqual([2, 1, 2, 1, 2, 1, 2]);
      expect(all.every((s) => s.hits.length === 1 && s.hits[0].kind === 'query')).toBe(true);
    });

    it('when a search walks the sessions or takes every match from the indexes, then the answers are the same', async () => {
      for (const query of [{ text: 'payments' }, { text: 'drop table' }, { text: 'rm' }, { text: 'ledger' }, { text: 'pay_day', limit: 2 }, { text: 'payments', user: 'alice', perSession: 1 }]) {
        const walked = await allPages(client, query, WALK);
        expect(await allPages(client, query, PROBE)).toEqual(walked);
        expect(await allPages(client, query)).toEqual(walked);
      }
      // The probe's page is the walk's page: the first session walked, the rest from the indexes.
      const statements: string[] = [];
      const watching: SqlClient = {
        query: (text, params) => { statements.push(text); return client.query(text, params); },
        exec: (script) => client.exec(script),
        transaction: (fn) => client.transaction(fn),
        close: () => client.close(),
      };
      expect(sessionIds(await searchRecordings(watching, { text: 'pay_day', limit: 4 }, PROBE))).toEqual(data.paging.map(id).reverse().slice(0, 4));
      expect(statements.filter((t) => t.includes('WITH m AS'))).toHaveLength(1);
    });

    it('when a walk runs out of budget, then its page ends early and the cursor goes on from there', async () => {
      const tight: SearchTuning = { probeLimit: 1, windowEvents: 1, budgetEvents: 1 };
      const page = await searchRecordings(client, { text: 'payments' }, tight);
      expect(page.sessions.length).toBeLessThanOrEqual(1);
      expect(page.nextCursor).not.toBeNull();
      expect(await allPages(client, { text: 'payments' }, tight)).toEqual(await allPages(client, { text: 'payments' }));
    });

    it('when one recording is searched, then every hit is listed in seq order, a page at a time', async () => {
      const all = await searchSession(client, id(data.orders), 'payments');
      expect(all.hits.map((h) => [h.seq, h.kind, h.rank])).toEqual([[2, 'query', 3], [4, 'query', 3], [5, 'output', 2]]);
      expect(all.nextSeq).toBeNull();
      const page = await searchSession(client, id(data.orders), 'payments', { limit: 2 });
      expect(page.hits.map((h) => h.seq)).toEqual([2, 4]);
      expect(page.nextSeq).toBe(5);
      expect((await searchSession(client, id(data.orders), 'payments', { fromSeq: 5 })).hits.map((h) => h.seq)).toEqual([5]);
      expect((await searchSession(client, 'no-such-session', 'payments')).hits).toEqual([]);
    });

    it('when the statement index is read, then each statement comes with its answer, by seq', async () => {
      const entries = await listStatements(client, id(data.orders));
      expect(entries).toEqual([
        { sessionId: id(data.orders), seq: 2, time: data.orders.events[1].time, endSeq: 3, protocol: 'simple', sql: 'SELECT * FROM payments WHERE id = 7', rowCount: 1, error: null, durationMs: 1.5, tag: 'SELECT 1' },
        { sessionId: id(data.orders), seq: 4, time: data.orders.events[3].time, endSeq: 5, protocol: 'simple', sql: 'DROP TABLE payments', rowCount: null, error: { code: '42P01', message: 'must be owner of table payments' }, durationMs: 100, tag: null },
      ]);
      expect((await listStatements(client, id(data.orders), 3, 10)).map((e) => e.seq)).toEqual([4]);
      expect((await listStatements(client, id(data.billing), 1, 1)).map((e) => e.seq)).toEqual([2]);
    });

    it('when an extractor is saved and loaded, then it goes on where it stood, and an older state never replaces a newer one', async () => {
      const r = data.web;
      const half = SearchExtractor.start(id(r));
      half.push(r.events.slice(0, 4));
      const older = SearchExtractor.restore(half.snapshot());
      half.push(r.events.slice(4, 6));
      await saveExtractor(client, half);
      await saveExtractor(client, older);
      const loaded = await loadExtractor(client, id(r));
      expect(loaded?.snapshot()).toEqual(half.snapshot());
      expect(loaded!.push(r.events.slice(6))).toEqual(half.push(r.events.slice(6)));
      expect(await loadExtractor(client, 'no-such-session')).toBeNull();
    });

    it('when a search is not one, then it is refused as input, not as a store failure', async () => {
      for (const query of [{ text: '' }, { text: '&& ||' }, { text: 'x', cursor: 'not-a-cursor' }, { text: 'x', ended: 'bored' }, { text: 'x', limit: 0 }, { text: 'x', from: 'yesterday' }]) {
        await expect(searchRecordings(client, query as SearchQuery)).rejects.toThrow(StoreInputError);
      }
      await expect(searchSession(client, id(data.orders), '')).rejects.toThrow(StoreInputError);
      await expect(listStatements(client, id(data.orders), 0)).rejects.toThrow(StoreInputError);
    });
  });
}
