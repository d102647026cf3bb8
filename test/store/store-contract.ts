// The behaviour every RecordingStore must have, run against each engine (postgres-store.test.ts,
// pglite-store.test.ts) on a real database.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RecordingStore, SessionSummary, StoredEvent } from '../../server/recordings/store/recording-store.ts';
import { encodeSessionCursor, StoreInputError } from '../../server/recordings/store/session-filter.ts';
import { SessionEvents, uniqueName } from './event-factory.ts';
import { hubEndEvent } from '../../server/liveness/hub-end.ts';
import type { HubStores } from '../../server/store/create-store.ts';

export function describeRecordingStoreContract(name: string, make: () => Promise<HubStores>): void {
  describe(`RecordingStore contract: ${name}`, () => {
    let stores: HubStores;
    let store: RecordingStore;

    beforeAll(async () => {
      stores = await make();
      store = stores.recordings;
    });

    afterAll(async () => {
      await stores?.close();
    });

    const seqs = (events: readonly StoredEvent[]) => events.map((e) => e.event.seq);

    it('when people register SSH keys, then each key is one person\'s, listed, found and removed by its owner only', async () => {
      const alice = uniqueName('alice');
      const bob = uniqueName('bob');
      const fp = (n: number) => `SHA256:${uniqueName('fp')}${n}`;
      const [k1, k2] = [fp(1), fp(2)];
      const added = await stores.sshKeys.add({ fingerprint: k1, user: alice, publicKey: 'ssh-ed25519 AAAA1', name: 'laptop' });
      expect(added).toMatchObject({ fingerprint: k1, user: alice, publicKey: 'ssh-ed25519 AAAA1', name: 'laptop' });
      expect(Date.parse(added!.addedAt)).toBeGreaterThan(0);
      await stores.sshKeys.add({ fingerprint: k2, user: alice, publicKey: 'ssh-ed25519 AAAA2', name: 'desktop' });
      // The same key for someone else is refused: a key names one person.
      expect(await stores.sshKeys.add({ fingerprint: k1, user: bob, publicKey: 'ssh-ed25519 AAAA1', name: 'mine' })).toBeNull();
      expect((await stores.sshKeys.list(alice)).map((k) => k.name)).toEqual(['laptop', 'desktop']);
      expect(await stores.sshKeys.list(bob)).toEqual([]);
      expect((await stores.sshKeys.list()).find((k) => k.fingerprint === k2)?.user).toBe(alice);
      expect(await stores.sshKeys.remove(bob, k1)).toBe(false);
      expect(await stores.sshKeys.remove(alice, k1)).toBe(true);
      expect((await stores.sshKeys.list()).find((k) => k.fingerprint === k1)).toBeUndefined();
    });

    it('when events are appended out of order, then they read back in seq order with byte-exact bodies', async () => {
      const s = new SessionEvents();
      const tricky = ['quote " and \\ backslash', '{"a":[1,2]},', 'NULL', 'é ü 中文 🎉', 'line\nbreak\ttab', '\u2028\u2029', "it's"];
      const events = [s.start(), ...tricky.map((m) => s.notice(m)), s.end()];
      const shuffled = [events[3], events[0], events[8], events[1], events[5], events[2], events[7], events[4], events[6]];

      const result = await store.append(shuffled);
      const read = await store.readEvents(s.sessionId);

      expect(result.inserted).toBe(events.length);
      expect(seqs(read)).toEqual(seqs(events));
      expect(read.map((e) => e.body)).toEqual(events.map((e) => e.body));
      expect(read.map((e) => e.event)).toEqual(events.map((e) => e.event));
    });

    it('when the same batch is appended twice, then the second inserts nothing, changes no counter and still reports the watermark', async () => {
      const s = new SessionEvents();
      const q = s.query();
      const batch = [s.start(), q, s.result(q.event.seq), s.error(q.event.seq), s.end()];
      await store.append(batch);
      const before = await store.getSession(s.sessionId);

      const again = await store.append(batch);

      expect(again.inserted).toBe(0);
      expect(again.watermarks).toEqual(new Map([[s.sessionId, 5]]));
      expect(await store.getSession(s.sessionId)).toEqual(before);
      expect(await store.readEvents(s.sessionId)).toHaveLength(5);
    });

    it('when a batch repeats an event inside itself, then it is stored once', async () => {
      const s = new SessionEvents();
      const start = s.start();
      const q = s.query();

      const result = await store.append([start, q, q, start]);

      expect(result.inserted).toBe(2);
      expect((await store.getSession(s.sessionId))?.queryCount).toBe(1);
    });

    it('when a session starts, queries, fails and ends, then its summary says who, where, when, how it ended and how many queries and errors', async () => {
      const s = new SessionEvents({ user: 'bob', target: 'billing-db', startedAt: '2030-02-03T10:00:00.000Z', client: '10.1.1.1:4000', agent: 'agent-7' });
      const start = s.start();
      const q1 = s.query('select 1');
      const r1 = s.result(q1.event.seq);
      const q2 = s.query('select * from nope');
      const e2 = s.error(q2.event.seq);
      const q3 = s.query('select 3');
      const end = s.end('client_disconnect');

      await store.append([start, q1, r1, q2]);
      const live = await store.getSession(s.sessionId);
      await store.append([e2, q3, end]);
      const done = await store.getSession(s.sessionId);

      expect(live).toMatchObject({ endedAt: null, endReason: null, queryCount: 2, errorCount: 0, lastSeq: 4 });
      expect(done).toEqual<SessionSummary>({
        id: s.sessionId, protocol: 'postgres', user: 'bob', target: 'billing-db', client: '10.1.1.1:4000', agent: 'agent-7',
        startedAt: '2030-02-03T10:00:00.000Z', endedAt: s.timeOf(7), endReason: 'client_disconnect',
        lastSeq: 7, persistedSeq: 7, eventCount: 7, queryCount: 3, errorCount: 1,
      });
    });

    it('when seq 3 is missing, then persisted_seq stays at 2, and when it arrives, then it jumps to the last seq', async () => {
      const s = new SessionEvents();
      const events = [s.start(), ...s.queries(5)];
      const withoutThree = events.filter((e) => e.event.seq !== 3);

      const first = await store.append(withoutThree);
      const gap = await store.getSession(s.sessionId);
      const second = await store.append([events[2]]);

      expect(first.watermarks.get(s.sessionId)).toBe(2);
      expect(gap).toMatchObject({ persistedSeq: 2, lastSeq: 6, eventCount: 5 });
      expect(second.watermarks.get(s.sessionId)).toBe(6);
      expect(await store.getSession(s.sessionId)).toMatchObject({ persistedSeq: 6, lastSeq: 6, eventCount: 6 });
    });

    it('when every other event comes first and then the rest, then the watermark crosses all the stored runs behind each gap', async () => {
      const s = new SessionEvents();
      const events = [s.start(), ...s.queries(1_400)];
      const odd = events.filter((e) => e.event.seq % 2 === 1);
      const even = events.filter((e) => e.event.seq % 2 === 0);

      const first = await store.append(odd);
      const second = await store.append(even);

      expect(first.watermarks.get(s.sessionId)).toBe(1);
      expect(second.watermarks.get(s.sessionId)).toBe(1_401);
      expect(await store.getSession(s.sessionId)).toMatchObject({ persistedSeq: 1_401, lastSeq: 1_401, eventCount: 1_401, queryCount: 1_400 });
      expect(seqs(await store.readEvents(s.sessionId, 1, 10_000))).toEqual(events.map((e) => e.event.seq));
    });

    it('when a session\'s events arrive before its session.start, then the summary exists from their metadata and the start fills it in', async () => {
      const s = new SessionEvents({ user: uniqueName('early'), target: 'early-db', startedAt: '2030-03-01T08:00:00.000Z' });
      const start = s.start();
      const q = s.query();
      const rest = [q, s.result(q.event.seq), s.end('upstream_closed')];

      const early = await store.append(rest);
      const before = await store.getSession(s.sessionId);
      await store.append([start]);
      const after = await store.getSession(s.sessionId);

      expect(early.watermarks.get(s.sessionId)).toBe(0);
      expect(before).toMatchObject({
        user: s.user, target: 'early-db', protocol: 'postgres', client: s.client, agent: s.agent,
        startedAt: s.timeOf(2), endReason: 'upstream_closed', persistedSeq: 0, lastSeq: 4, queryCount: 1,
      });
      expect(after).toMatchObject({ startedAt: '2030-03-01T08:00:00.000Z', persistedSeq: 4, lastSeq: 4, eventCount: 4, queryCount: 1 });
      expect((await store.listSessions({ user: s.user })).map((x) => x.id)).toEqual([s.sessionId]);
      expect(seqs(await store.readEvents(s.sessionId))).toEqual([1, 2, 3, 4]);
    });

    it('when one batch spans several sessions, then each gets its own summary and watermark', async () => {
      const a = new SessionEvents();
      const b = new SessionEvents();
      const batch = [a.start(), b.start(), a.query(), b.query(), b.query()];

      const result = await store.append(batch);

      expect(result.watermarks).toEqual(new Map([[a.sessionId, 2], [b.sessionId, 3]]));
      expect((await store.getSession(a.sessionId))?.queryCount).toBe(1);
      expect((await store.getSession(b.sessionId))?.queryCount).toBe(2);
    });

    it('when sessions are listed, then user, target, protocol, live and time filters apply, newest first', async () => {
      const user = uniqueName('lister');
      const other = uniqueName('other');
      const mk = (u: string, target: string, day: string) => new SessionEvents({ user: u, target, startedAt: `2031-05-${day}T12:00:00.000Z` });
      const s1 = mk(user, 'db-a', '01');
      const s2 = mk(user, 'db-b', '02');
      const s3 = mk(user, 'db-a', '03');
      const s4 = mk(other, 'db-a', '04');
      await store.append([s1.start(), s1.end(), s2.start(), s3.start(), s4.start()]);
      const ids = (list: SessionSummary[]) => list.map((x) => x.id);

      expect(ids(await store.listSessions({ user }))).toEqual([s3.sessionId, s2.sessionId, s1.sessionId]);
      expect(ids(await store.listSessions({ user, target: 'db-a' }))).toEqual([s3.sessionId, s1.sessionId]);
      expect(ids(await store.listSessions({ user, live: true }))).toEqual([s3.sessionId, s2.sessionId]);
      expect(ids(await store.listSessions({ user, live: false }))).toEqual([s1.sessionId]);
      expect(ids(await store.listSessions({ user, protocol: 'postgres' }))).toHaveLength(3);
      expect(await store.listSessions({ user, protocol: 'ssh' })).toEqual([]);
      expect(ids(await store.listSessions({ user, from: '2031-05-02T00:00:00.000Z', to: '2031-05-03T12:00:00.000Z' })))
        .toEqual([s2.sessionId]);
      expect(ids(await store.listSessions({ target: 'db-a', from: '2031-05-01T12:00:00.000Z', to: '2031-05-05T00:00:00Z' })))
        .toEqual(expect.arrayContaining([s4.sessionId, s3.sessionId, s1.sessionId]));
      expect(ids(await store.listSessions({ user: other }))).toEqual([s4.sessionId]);
      // What a person may see: their own sessions or those of the targets they approve.
      const seen = (visibleTo: { users: string[]; targets: string[] }, more = {}) =>
        store.listSessions({ from: '2031-05-01T00:00:00.000Z', to: '2031-05-05T00:00:00Z', ...more, visibleTo }).then(ids);
      expect(await seen({ users: [other], targets: [] })).toEqual([s4.sessionId]);
      expect(await seen({ users: [other], targets: ['db-b'] })).toEqual([s4.sessionId, s2.sessionId]);
      expect(await seen({ users: [other], targets: ['db-b'] }, { user })).toEqual([s2.sessionId]);
      expect(await seen({ users: [], targets: [] })).toEqual([]);
    });

    it('when sessions start and end, then the live count follows', async () => {
      const before = await store.countLiveSessions();
      const a = new SessionEvents({ user: uniqueName('counted') });
      const b = new SessionEvents({ user: uniqueName('counted') });
      await store.append([a.start(), b.start()]);
      expect(await store.countLiveSessions()).toBe(before + 2);
      await store.append([a.end()]);
      expect(await store.countLiveSessions()).toBe(before + 1);
    });

    it('when a listing is paged with a limit and the cursor of each page\'s last session, then every session comes once, newest first', async () => {
      const user = uniqueName('pager');
      const sessions = ['01', '02', '03', '04', '05'].map((d) => new SessionEvents({ user, startedAt: `2032-01-${d}T00:00:00.000Z` }));
      // Two sessions share a start time: the id breaks the tie, so paging neither skips nor repeats.
      sessions.push(new SessionEvents({ user, startedAt: '2032-01-03T00:00:00.000Z' }));
      await store.append(sessions.map((s) => s.start()));

      const pages: string[][] = [];
      let before: string | undefined;
      for (;;) {
        const page = await store.listSessions({ user, limit: 2, before });
        if (page.length === 0) break;
        pages.push(page.map((p) => p.id));
        before = encodeSessionCursor(page[page.length - 1]);
      }
      const all = await store.listSessions({ user });

      expect(pages.map((p) => p.length)).toEqual([2, 2, 2]);
      expect(pages.flat()).toEqual(all.map((s) => s.id));
      expect(new Set(pages.flat()).size).toBe(6);
      expect(all.map((s) => s.startedAt)).toEqual([...all.map((s) => s.startedAt)].sort().reverse());
    });

    it('when the listing input is malformed, then it is refused with a StoreInputError', async () => {
      await expect(store.listSessions({ before: 'not-a-cursor' })).rejects.toBeInstanceOf(StoreInputError);
      await expect(store.listSessions({ from: 'yesterday' })).rejects.toBeInstanceOf(StoreInputError);
      await expect(store.listSessions({ limit: 0 })).rejects.toBeInstanceOf(StoreInputError);
    });

    it('when no limit is given, then at most 50 sessions come back, and a larger limit is capped at 500', async () => {
      const user = uniqueName('many');
      const sessions = Array.from({ length: 55 }, () => new SessionEvents({ user }));
      await store.append(sessions.map((s) => s.start()));

      expect(await store.listSessions({ user })).toHaveLength(50);
      expect(await store.listSessions({ user, limit: 10_000 })).toHaveLength(55);
    });

    it('when events are read from a seq with a limit, then exactly that window comes back', async () => {
      const s = new SessionEvents();
      await store.append([s.start(), ...s.queries(9)]);

      expect(seqs(await store.readEvents(s.sessionId, 4, 3))).toEqual([4, 5, 6]);
      expect(seqs(await store.readEvents(s.sessionId, 9))).toEqual([9, 10]);
      expect(await store.readEvents(s.sessionId, 11)).toEqual([]);
      expect(await store.readEvents('no-such-session')).toEqual([]);
      expect(await store.getSession('no-such-session')).toBeNull();
    });

    it('when a stored body is not a valid event, then reading it throws naming the session and seq', async () => {
      const s = new SessionEvents();
      const start = s.start();
      const broken = s.query();
      await store.append([start, { event: broken.event, body: broken.body.replace('"v":1', '"v":2') }]);

      await expect(store.readEvents(s.sessionId)).rejects.toThrow(`${s.sessionId}#2`);
    });

    it('when 5,000 events come in one append, then all are stored in one go and the watermark reaches the last', async () => {
      const s = new SessionEvents();
      const events = [s.start(), ...s.queries(4_999)];

      const result = await store.append(events);
      const tail = await store.readEvents(s.sessionId, 4_990, 100);

      expect(result.inserted).toBe(5_000);
      expect(result.watermarks.get(s.sessionId)).toBe(5_000);
      expect(await store.getSession(s.sessionId)).toMatchObject({ eventCount: 5_000, queryCount: 4_999, persistedSeq: 5_000, lastSeq: 5_000 });
      expect(tail.map((e) => e.body)).toEqual(events.slice(4_989).map((e) => e.body));
    });

    it('when appends and reads run concurrently, then each append is whole and none is lost', async () => {
      const sessions = Array.from({ length: 6 }, () => new SessionEvents());
      const batches = sessions.map((s) => [s.start(), ...s.queries(20), s.end()]);

      const results = await Promise.all([
        ...batches.map((b) => store.append(b)),
        ...sessions.map((s) => store.readEvents(s.sessionId)),
      ]);

      expect(results.slice(0, 6).map((r) => 'inserted' in r && r.inserted)).toEqual([22, 22, 22, 22, 22, 22]);
      for (const s of sessions) {
        expect(await store.getSession(s.sessionId)).toMatchObject({ persistedSeq: 22, eventCount: 22, queryCount: 20 });
      }
    });

    it('when migrate runs again on a migrated store, then nothing changes', async () => {
      const s = new SessionEvents();
      await store.append([s.start(), s.query()]);
      const before = await store.getSession(s.sessionId);

      await store.migrate();
      await store.migrate();

      expect(await store.getSession(s.sessionId)).toEqual(before);
      expect(seqs(await store.readEvents(s.sessionId))).toEqual([1, 2]);
    });

    it('when a hub ends a live session, then it is ended by the hub, listed live no more, and the same end again changes nothing', async () => {
      const s = new SessionEvents();
      await store.append([s.start(), s.query()]);
      expect((await store.liveSessions()).map((l) => l.id)).toContain(s.sessionId);
      const end = hubEndEvent((await store.getSession(s.sessionId))!, { reason: 'agent_lost', message: 'gone', reportedSeq: 4 });
      expect(end.event).toMatchObject({ seq: 5, data: { writtenBy: 'hub', lastSeq: 2, missing: 2 } });
      await store.append([end]);
      expect(await store.getSession(s.sessionId)).toMatchObject({ endReason: 'agent_lost', lastSeq: 5, eventCount: 3 });
      expect((await store.liveSessions()).map((l) => l.id)).not.toContain(s.sessionId);
      expect((await store.append([end])).inserted).toBe(0);
    });

    it('when a hub ends a session, then the watermark told to the agent stops below the hub\'s end, so the agent still sends its own event at that seq', async () => {
      const s = new SessionEvents();
      const head = [s.start(), s.query()];
      await store.append(head);
      const end = hubEndEvent((await store.getSession(s.sessionId))!, { reason: 'agent_lost', message: 'gone' });
      expect((await store.append([end])).watermarks.get(s.sessionId)).toBe(2);
      // The agent's own seq 3 (from its outbox) replaces the hub's end.
      const own = s.query();
      expect((await store.append([own])).watermarks.get(s.sessionId)).toBe(3);
      expect((await store.readEvents(s.sessionId)).map((e) => e.body)).toEqual([...head, own].map((e) => e.body));
    });

    it('when the agent delivers events past a hub\'s end, then the hub\'s end gives way and the agent\'s own end ends the session', async () => {
      const s = new SessionEvents();
      const head = [s.start(), s.query()];
      await store.append(head);
      await store.append([hubEndEvent((await store.getSession(s.sessionId))!, { reason: 'agent_lost', message: 'gone' })]);
      // The agent's outbox, delivered after a restart: seq 3 collides with the hub's end.
      const late = [s.query(), s.query()];
      await store.append(late);
      expect(await store.getSession(s.sessionId)).toMatchObject({ endedAt: null, endReason: null, lastSeq: 4, persistedSeq: 4, eventCount: 4 });
      expect((await store.readEvents(s.sessionId)).map((e) => e.body)).toEqual([...head, ...late].map((e) => e.body));
      const end = s.end('agent_restarted');
      await store.append([end]);
      expect(await store.getSession(s.sessionId)).toMatchObject({ endReason: 'agent_restarted', lastSeq: 5, persistedSeq: 5, eventCount: 5 });
    });

    it('when the agent\'s own end arrives below a hub\'s end, then the hub\'s end is removed', async () => {
      const s = new SessionEvents();
      await store.append([s.start()]);
      const q = s.query();
      const end = s.end('client_terminate');
      // The hub knew of seq 3 (the lease) but had only seq 1: its end is seq 4.
      await store.append([hubEndEvent((await store.getSession(s.sessionId))!, { reason: 'agent_lost', message: 'gone', reportedSeq: 3 })]);
      await store.append([q, end]);
      expect(await store.getSession(s.sessionId)).toMatchObject({ endReason: 'client_terminate', lastSeq: 3, persistedSeq: 3, eventCount: 3 });
      expect(seqs(await store.readEvents(s.sessionId))).toEqual([1, 2, 3]);
    });

    it('when a hub\'s end comes for a session that ended or moved on meanwhile, then it is dropped', async () => {
      const ended = new SessionEvents();
      await store.append([ended.start()]);
      const stale = hubEndEvent((await store.getSession(ended.sessionId))!, { reason: 'agent_lost', message: 'gone' });
      await store.append([ended.query(), ended.end()]);
      expect((await store.append([stale])).inserted).toBe(0);
      expect(await store.getSession(ended.sessionId)).toMatchObject({ endReason: 'client_terminate', lastSeq: 3 });

      const moved = new SessionEvents();
      await store.append([moved.start()]);
      const behind = hubEndEvent((await store.getSession(moved.sessionId))!, { reason: 'agent_lost', message: 'gone' });
      await store.append([moved.query(), moved.query()]);
      expect((await store.append([behind])).inserted).toBe(0);
      expect(await store.getSession(moved.sessionId)).toMatchObject({ endedAt: null, lastSeq: 3 });
    });

    it('when an empty batch is appended, then nothing is written', async () => {
      expect(await store.append([])).toEqual({ inserted: 0, watermarks: new Map() });
    });
  });
}
