// The behaviour every EventBus transport owes its callers, run against each of them (Redis and
// in-process), the way socket.io runs one adapter suite over every adapter.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BusEvent, Delivery, EventBus } from '../../common/bus/event-bus.ts';
import { busEvents, newSessionId, waitUntil } from '../persist/fixtures.ts';

export interface BusHarness {
  /** A bus on fresh state, isolated from every other test. */
  open(): Promise<EventBus>;
  /** Another bus on the same state as the last open(): a restarted process. */
  reopen(): Promise<EventBus>;
}

const bodies = (ds: Delivery[]) => ds.flatMap((d) => d.bodies);
/** One append() per event: each event its own log entry. */
const appendEach = async (bus: EventBus, events: BusEvent[]) => {
  for (const e of events) await bus.append([e]);
};
const read = (bus: EventBus, group: string, consumer: string, count = 100) =>
  bus.readGroup({ group, consumer, count, blockMs: 0 });

export function describeEventBusContract(name: string, makeHarness: () => BusHarness): void {
  describe(`EventBus contract: ${name}`, () => {
    let harness: BusHarness;
    const opened: EventBus[] = [];
    const open = async () => { const b = await harness.open(); opened.push(b); return b; };
    const reopen = async () => { const b = await harness.reopen(); opened.push(b); return b; };

    beforeEach(() => { harness = makeHarness(); });
    afterEach(async () => {
      await Promise.all(opened.splice(0).map((b) => b.close()));
    });

    it('when events are appended, then a group reads them in append order, bodies unchanged', async () => {
      const bus = await open();
      const s = newSessionId();
      const events = busEvents(s, 1, 10);
      await bus.ensureGroup('g');
      await bus.append(events.slice(0, 4));
      await bus.append(events.slice(4));
      const got = await read(bus, 'g', 'c1');
      expect(bodies(got)).toEqual(events.map((e) => e.body));
    });

    it('when entries were appended before the group existed, then the group still reads them', async () => {
      const bus = await open();
      const events = busEvents(newSessionId(), 1, 3);
      await bus.append(events);
      await bus.ensureGroup('late');
      expect(bodies(await read(bus, 'late', 'c1'))).toEqual(events.map((e) => e.body));
      // Reading a group nobody created yet behaves the same (it is created on the way).
      expect(bodies(await read(bus, 'never-created', 'c1'))).toEqual(events.map((e) => e.body));
    });

    it('when one append carries many events, then they are one entry, delivered together in order', async () => {
      const bus = await open();
      const events = busEvents(newSessionId(), 1, 7);
      await bus.ensureGroup('g');
      await bus.append(events);
      await bus.append([]);
      const got = await read(bus, 'g', 'c1', 1);
      expect(got).toHaveLength(1);
      expect(got[0].bodies).toEqual(events.map((e) => e.body));
      expect(await read(bus, 'g', 'c1')).toEqual([]);
    });

    it('when two consumers of one group read, then each entry goes to one of them, and another group gets all', async () => {
      const bus = await open();
      const events = busEvents(newSessionId(), 1, 6);
      await bus.ensureGroup('g');
      await bus.ensureGroup('other');
      await appendEach(bus, events);
      const a = await read(bus, 'g', 'a', 4);
      expect(a).toHaveLength(4);
      const b = await read(bus, 'g', 'b', 100);
      expect([...bodies(a), ...bodies(b)]).toEqual(events.map((e) => e.body));
      expect(await read(bus, 'g', 'a')).toEqual([]);
      expect(bodies(await read(bus, 'other', 'a'))).toEqual(events.map((e) => e.body));
    });

    it('when nothing is there yet, then readGroup waits for the next append', async () => {
      const bus = await open();
      await bus.ensureGroup('g');
      const reading = bus.readGroup({ group: 'g', consumer: 'c', count: 10, blockMs: 10_000 });
      await new Promise((r) => setTimeout(r, 50));
      const events = busEvents(newSessionId(), 1, 2);
      await bus.append(events);
      const got = await reading;
      expect(bodies(got)).toEqual(events.map((e) => e.body));
    });

    it('when a consumer restarts without acknowledging, then readPending gives it its entries again', async () => {
      const bus = await open();
      const events = busEvents(newSessionId(), 1, 5);
      await bus.ensureGroup('g');
      await appendEach(bus, events);
      const first = await read(bus, 'g', 'c1');
      await bus.ack('g', [first[0].id]);

      const again = await reopen();
      const pending = await again.readPending({ group: 'g', consumer: 'c1', count: 100 });
      expect(bodies(pending)).toEqual(events.slice(1).map((e) => e.body));
      expect(pending.map((d) => d.id)).toEqual(first.slice(1).map((d) => d.id));
      // Another consumer has nothing pending of its own; nothing new is there either.
      expect(await again.readPending({ group: 'g', consumer: 'c2', count: 100 })).toEqual([]);
      expect(await read(again, 'g', 'c1')).toEqual([]);
      await again.ack('g', pending.map((d) => d.id));
      expect(await again.readPending({ group: 'g', consumer: 'c1', count: 100 })).toEqual([]);
    });

    it('when a consumer died with entries pending, then claimStale hands them to another once idle', async () => {
      const bus = await open();
      const events = busEvents(newSessionId(), 1, 4);
      await bus.ensureGroup('g');
      await bus.append(events);
      await read(bus, 'g', 'dead');
      expect(await bus.claimStale({ group: 'g', consumer: 'alive', minIdleMs: 600_000, count: 100 })).toEqual([]);
      let claimed: Delivery[] = [];
      await waitUntil(async () => {
        claimed = await bus.claimStale({ group: 'g', consumer: 'alive', minIdleMs: 100, count: 100 });
        return claimed.length > 0;
      }, 10_000, 'claim');
      expect(bodies(claimed)).toEqual(events.map((e) => e.body));
      expect(bodies(await bus.readPending({ group: 'g', consumer: 'alive', count: 100 }))).toEqual(events.map((e) => e.body));
      expect(await bus.readPending({ group: 'g', consumer: 'dead', count: 100 })).toEqual([]);
    });

    it('when consumers send heartbeats or not, then consumers() reports what each holds and how long each has been silent', async () => {
      const bus = await open();
      const events = busEvents(newSessionId(), 1, 3);
      await bus.ensureGroup('g');
      await appendEach(bus, events);
      await bus.heartbeat('g', 'a');
      await read(bus, 'g', 'a', 2);
      await read(bus, 'g', 'b', 1); // b never sends a heartbeat (a hub of an older version)
      const first = await bus.consumers('g');
      expect(first.map((c) => [c.name, c.pending])).toEqual([['a', 2], ['b', 1]]);
      expect(first[0].silentMs).toBeGreaterThanOrEqual(0);
      expect(first[0].silentMs).toBeLessThan(5000);
      expect(first[1].silentMs).toBeNull();
      for (const c of first) expect(c.idleMs).toBeGreaterThanOrEqual(0);

      // Silence grows by the transport's clock, and a heartbeat ends it.
      await new Promise((r) => setTimeout(r, 300));
      const later = (await bus.consumers('g'))[0];
      expect(later.silentMs).toBeGreaterThanOrEqual(200);
      await bus.heartbeat('g', 'a');
      expect((await bus.consumers('g'))[0].silentMs).toBeLessThan(later.silentMs!);
      expect(await bus.consumers('no-such-group')).toEqual([]);
    });

    it('when claimStale names a consumer, then only that consumer\'s idle entries move, once', async () => {
      const bus = await open();
      const events = busEvents(newSessionId(), 1, 4);
      await bus.ensureGroup('g');
      await appendEach(bus, events);
      await read(bus, 'g', 'dead', 2);
      await read(bus, 'g', 'other', 2);
      const claim = (from: string, minIdleMs: number) => bus.claimStale({ group: 'g', consumer: 'heir', from, minIdleMs, count: 100 });
      expect(await claim('dead', 600_000)).toEqual([]);
      let claimed: Delivery[] = [];
      await waitUntil(async () => {
        claimed = await claim('dead', 100);
        return claimed.length > 0;
      }, 10_000, 'claim');
      expect(bodies(claimed)).toEqual(events.slice(0, 2).map((e) => e.body));
      const pending = new Map((await bus.consumers('g')).map((c) => [c.name, c.pending]));
      expect(pending).toEqual(new Map([['dead', 0], ['heir', 2], ['other', 2]]));
      // Claimed just now: a second hub looking at the same dead consumer finds nothing to take.
      expect(await claim('dead', 100)).toEqual([]);
      expect(await claim('heir', 100)).toEqual([]);
      expect(bodies(await bus.readPending({ group: 'g', consumer: 'heir', count: 100 }))).toEqual(events.slice(0, 2).map((e) => e.body));
    });

    it('when removeConsumer is asked, then it deletes only a consumer that holds nothing and is silent long enough', async () => {
      const bus = await open();
      const events = busEvents(newSessionId(), 1, 3);
      await bus.ensureGroup('g');
      await appendEach(bus, events);
      await bus.heartbeat('g', 'x');
      const [entry] = await read(bus, 'g', 'x', 1);
      expect(await bus.removeConsumer('g', 'x', 0)).toBe(false); // holds an entry
      await bus.ack('g', [entry.id]);
      expect(await bus.removeConsumer('g', 'x', 600_000)).toBe(false); // beat just now
      expect(await bus.removeConsumer('g', 'x', 0)).toBe(true);
      expect((await bus.consumers('g')).map((c) => c.name)).toEqual([]);
      expect(await bus.removeConsumer('g', 'x', 0)).toBe(false);

      // A consumer that never sent a heartbeat has no silence to wait for.
      const [old] = await read(bus, 'g', 'old', 1);
      await bus.ack('g', [old.id]);
      expect(await bus.removeConsumer('g', 'old', 600_000)).toBe(true);

      // Back after its removal: a member again, its old heartbeat forgotten.
      await read(bus, 'g', 'x', 1);
      expect(await bus.consumers('g')).toEqual([expect.objectContaining({ name: 'x', pending: 1, silentMs: null })]);
      expect(await bus.removeConsumer('no-such-group', 'x', 0)).toBe(false);
    });

    it('when acknowledged entries are trimmed, then unacknowledged and undelivered ones stay', async () => {
      const bus = await open();
      const events = busEvents(newSessionId(), 1, 6);
      await bus.ensureGroup('g');
      await appendEach(bus, events.slice(0, 5));
      const got = await read(bus, 'g', 'c');
      await bus.ack('g', [got[0].id, got[1].id, got[3].id]);
      await bus.append(events.slice(5)); // never delivered
      await bus.trimAcknowledged('g');

      // The pending ones (3 and 5) are still readable by their consumer.
      expect(bodies(await bus.readPending({ group: 'g', consumer: 'c', count: 100 })))
        .toEqual([events[2].body, events[4].body]);
      // The undelivered one is still delivered.
      expect(bodies(await read(bus, 'g', 'c'))).toEqual([events[5].body]);
      // The log now starts at the oldest unacknowledged entry: a new group sees 3..6.
      await bus.ensureGroup('late');
      expect(bodies(await read(bus, 'late', 'x'))).toEqual(events.slice(2).map((e) => e.body));
    });

    it('when entries wait, are handed out and acknowledged, then the backlog counts them', async () => {
      const bus = await open();
      const events = busEvents(newSessionId(), 1, 3);
      await bus.ensureGroup('g');
      expect(await bus.backlog('g')).toEqual({ undelivered: 0, pending: 0 });
      await appendEach(bus, events);
      expect(await bus.backlog('g')).toEqual({ undelivered: 3, pending: 0 });
      const got = await read(bus, 'g', 'c', 2);
      expect(await bus.backlog('g')).toEqual({ undelivered: 1, pending: 2 });
      await bus.ack('g', [got[0].id]);
      expect(await bus.backlog('g')).toEqual({ undelivered: 1, pending: 1 });
    });

    it('when watermarks are set lower than stored, then they do not go down', async () => {
      const bus = await open();
      const [a, b, c] = [newSessionId(), newSessionId(), newSessionId()];
      await bus.setWatermarks(new Map([[a, 5], [b, 2]]));
      await bus.setWatermarks(new Map([[a, 3], [b, 9]]));
      const marks = await bus.watermarks([a, b, c]);
      expect(marks.get(a)).toBe(5);
      expect(marks.get(b)).toBe(9);
      expect(marks.get(c) ?? 0).toBe(0);
      expect((await bus.watermarks([])).size).toBe(0);
    });

    it('when subscribed to a session, then its live events arrive in order and others do not', async () => {
      const bus = await open();
      const [s1, s2] = [newSessionId(), newSessionId()];
      const seen: BusEvent[] = [];
      const seen2: BusEvent[] = [];
      const off = await bus.subscribe(s1, (e) => seen.push(e));
      const off2 = await bus.subscribe(s2, (e) => seen2.push(e));
      const e1 = busEvents(s1, 1, 8);
      const e2 = busEvents(s2, 1, 3);
      await bus.append([...e1.slice(0, 3), ...e2, ...e1.slice(3, 5)]);
      await bus.append(e1.slice(5));
      await waitUntil(() => seen.length >= 8 && seen2.length >= 3, 10_000, 'live events');
      expect(seen).toEqual(e1);
      expect(seen2).toEqual(e2);

      await off();
      await bus.append(busEvents(s1, 9, 9));
      await bus.append(busEvents(s2, 4, 4));
      await waitUntil(() => seen2.length >= 4, 10_000, 'live event after unsubscribe');
      expect(seen).toHaveLength(8);
      await off2();
    });

    it('when the last subscriber of a session leaves as a new one arrives, then the new one gets its live events', async () => {
      const bus = await open();
      const s = newSessionId();
      const off = await bus.subscribe(s, () => undefined);
      const seen: BusEvent[] = [];
      // Not awaited: the leaving and the arriving overlap, as two viewers' do.
      const leaving = off();
      const off2 = await bus.subscribe(s, (e) => seen.push(e));
      await leaving;
      const events = busEvents(s, 1, 3);
      await bus.append(events);
      await waitUntil(() => seen.length >= 3, 10_000, 'live events after the overlap');
      expect(seen).toEqual(events);
      await off2();
    });

    it('when a body is not a valid event, then it is delivered as it is (the consumer validates)', async () => {
      const bus = await open();
      const s = newSessionId();
      await bus.ensureGroup('g');
      const weird = ['not json {', '', '{"v":1}', 'ünïcødé \u0000 nul', 'two\nlines', '3:abc'];
      await bus.append(weird.map((body, i) => ({ sessionId: s, seq: i + 1, body })));
      expect(bodies(await read(bus, 'g', 'c'))).toEqual(weird);
    });

    it('when connected, then status is up', async () => {
      const bus = await open();
      expect(bus.status()).toBe('up');
    });
  });
}
