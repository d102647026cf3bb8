// The event pipeline end to end on each bus: EventPublisher (agent) -> bus -> Persister (hub) ->
// store, and the persisted watermarks back to the publisher.
import crypto from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import type { EventBus } from '../../common/bus/event-bus.ts';
import { createInProcessBus } from '../../common/bus/in-process-bus.ts';
import { createRedisBus } from '../../common/bus/redis-bus.ts';
import { silentLogger } from '../../common/log.ts';
import { EventPublisher } from '../../proxy-agent/publish/event-publisher.ts';
import { Persister, type PersisterOptions } from '../../server/recordings/ingest/persister.ts';
import { createMemoryStore, type HubStores } from '../../server/store/create-store.ts';
import type { RecordingStore } from '../../server/recordings/store/recording-store.ts';
import { freePort } from '../support/free-port.ts';
import { busEvent, busEvents, newSessionId, waitUntil } from './fixtures.ts';
import { TestRecordingStore } from './memory-recording-store.ts';

interface BusKind {
  name: string;
  /** A bus on fresh state, and a function opening another bus on the same state. */
  fresh(): Promise<{ bus: EventBus; again(): Promise<EventBus> }>;
}

const kinds: BusKind[] = [
  {
    name: 'in-process',
    async fresh() {
      const bus = createInProcessBus();
      return { bus, again: async () => bus };
    },
  },
  {
    name: 'redis',
    async fresh() {
      const keyPrefix = `p:${crypto.randomBytes(6).toString('hex')}:`;
      const open = () => createRedisBus(inject('redisUrl'), { keyPrefix });
      return { bus: await open(), again: open };
    },
  },
];

async function seqsOf(store: RecordingStore, sessionId: string): Promise<number[]> {
  return (await store.readEvents(sessionId)).map((e) => e.event.seq);
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

/** Log entries delivered to a consumer of the persister group and not acknowledged. */
async function pendingWith(bus: EventBus, consumer: string): Promise<number> {
  return (await bus.consumers('vigil-persister')).find((c) => c.name === consumer)?.pending ?? 0;
}

describe.each(kinds)('event pipeline on the $name bus', (kind) => {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  const setup = async () => {
    const { bus, again } = await kind.fresh();
    cleanups.push(() => bus.close());
    const store = new TestRecordingStore();
    const persister = (opts: Partial<PersisterOptions> = {}) => {
      const p = new Persister({ bus, store, logger: silentLogger, blockMs: 100, consumer: 'c1', ...opts });
      cleanups.push(() => p.stop());
      return p;
    };
    const publisher = () => {
      const p = new EventPublisher(bus, { maxEvents: 100_000, maxBytes: 100_000_000, logger: silentLogger, watermarkPollMs: 20 });
      cleanups.push(() => p.close());
      return p;
    };
    return { bus, again, store, persister, publisher };
  };

  it('when events are published, then they arrive in the store in order, none twice, and drain resolves after persistence', async () => {
    const { store, persister, publisher } = await setup();
    persister().start();
    const pub = publisher();
    const sessions = [newSessionId(), newSessionId(), newSessionId()];
    const sent = new Map<string, string[]>(sessions.map((s) => [s, []]));
    for (let seq = 1; seq <= 200; seq++) {
      for (const s of sessions) {
        const e = busEvent(s, seq);
        sent.get(s)!.push(e.body);
        expect(pub.publish(e)).toBe(true);
      }
      if (seq % 50 === 0) await new Promise((r) => setImmediate(r));
    }
    await pub.drain(30_000);
    // drain() resolved: the store already holds everything, nothing to wait for.
    for (const s of sessions) {
      const stored = await store.readEvents(s);
      expect(stored.map((e) => e.event.seq)).toEqual(range(200));
      expect(stored.map((e) => e.body)).toEqual(sent.get(s));
    }
    expect(pub.stats()).toMatchObject({ queued: 0, unconfirmed: 0, dropped: 0 });
  });

  it('when a body on the bus is invalid, then it is counted and skipped and the next valid event still lands', async () => {
    const { bus, store, persister } = await setup();
    const p = persister();
    p.start();
    const s = newSessionId();
    // A valid event laid out with a line break is not canonical: a segment could not hold it.
    const spaced = busEvent(s, 2);
    await bus.append([busEvent(s, 1), { sessionId: s, seq: 2, body: '{"password":"hunter2"' }, { sessionId: s, seq: 2, body: '{"v":1}' },
      { ...spaced, body: spaced.body.replace(',', ',\n') }]);
    await bus.append([busEvent(s, 2)]);
    await waitUntil(async () => (await seqsOf(store, s)).length === 2, 15_000, 'valid events stored');
    expect(await seqsOf(store, s)).toEqual([1, 2]);
    expect(p.metrics()).toMatchObject({ invalid: 3, persisted: 2 });
  });

  it('when the store fails, then nothing is acknowledged and the events land once it recovers', async () => {
    const { bus, store, persister } = await setup();
    store.failNext = 3;
    const p = persister();
    p.start();
    const s = newSessionId();
    await bus.append(busEvents(s, 1, 20));
    await waitUntil(async () => (await seqsOf(store, s)).length === 20, 20_000, 'events stored after store failures');
    expect(await seqsOf(store, s)).toEqual(range(20));
    expect(p.metrics().errors).toBeGreaterThanOrEqual(3);
  });

  it('when a persister is stopped with entries pending, then a new one with the same name processes them', async () => {
    const { bus, again, store, persister } = await setup();
    store.failing = true;
    const first = persister({ consumer: 'same' });
    first.start();
    const s = newSessionId();
    await bus.append(busEvents(s, 1, 10));
    // The ten events are one log entry (one append): pending with 'same' once its write failed.
    await waitUntil(async () => first.metrics().errors >= 1 && await pendingWith(bus, 'same') === 1, 15_000, 'first persister read and failed');
    await first.stop();

    store.failing = false;
    const bus2 = await again();
    if (bus2 !== bus) cleanups.push(() => bus2.close());
    // Claiming is out of the picture (an hour): only its own pending list can bring them back.
    const second = new Persister({ bus: bus2, store, logger: silentLogger, blockMs: 100, consumer: 'same', claimIdleMs: 3_600_000 });
    cleanups.push(() => second.stop());
    second.start();
    await waitUntil(async () => (await seqsOf(store, s)).length === 10, 15_000, 'pending entries stored');
    expect(await seqsOf(store, s)).toEqual(range(10));
  });

  it('when a consumer died with entries pending, then a second consumer claims and persists them', async () => {
    const { bus, store, persister } = await setup();
    store.failing = true;
    const dead = persister({ consumer: 'dead' });
    dead.start();
    const s = newSessionId();
    await bus.append(busEvents(s, 1, 10));
    await waitUntil(async () => dead.metrics().errors >= 1 && await pendingWith(bus, 'dead') === 1, 15_000, 'dead consumer read and failed');
    await dead.stop();

    store.failing = false;
    // 'dead' sent heartbeats: the silence limit, not claimIdleMs, decides when it counts as dead.
    const heir = persister({ consumer: 'heir', claimIdleMs: 200, deadAfterMs: 300 });
    heir.start();
    await waitUntil(async () => (await seqsOf(store, s)).length === 10, 15_000, 'claimed entries stored');
    expect(await seqsOf(store, s)).toEqual(range(10));
  });

  const GROUP = 'vigil-persister';
  const consumerNames = async (bus: EventBus) => (await bus.consumers(GROUP)).map((c) => c.name);

  it('when a consumer\'s heartbeat stops with entries pending, then another persister stores them and deletes it from the group', async () => {
    const { bus, store, persister } = await setup();
    const s = newSessionId();
    await bus.ensureGroup(GROUP);
    for (let from = 1; from <= 30; from += 10) await bus.append(busEvents(s, from, from + 9));
    // A hub that beat once, read, and died before storing anything.
    await bus.heartbeat(GROUP, 'dead');
    expect(await bus.readGroup({ group: GROUP, consumer: 'dead', count: 2, blockMs: 0 })).toHaveLength(2);

    const heir = persister({ consumer: 'heir', deadAfterMs: 300 });
    heir.start();
    await waitUntil(async () => (await seqsOf(store, s)).length === 30, 15_000, 'all events stored');
    await waitUntil(async () => !(await consumerNames(bus)).includes('dead'), 15_000, 'dead consumer removed');
    expect(await seqsOf(store, s)).toEqual(range(30));
    expect(heir.metrics()).toMatchObject({ takenOver: 2, consumersRemoved: 1, persisted: 30 });
    expect(await bus.backlog(GROUP)).toEqual({ undelivered: 0, pending: 0 });
  });

  it('when a consumer\'s store write is slow, then its heartbeat keeps its entries from the others', async () => {
    const { bus, store, persister } = await setup();
    const slowStore = new TestRecordingStore();
    // Four times the silence that makes a consumer dead. The silence is a second, not less: on a
    // loaded machine (the whole suite in parallel) a 300 ms silence happens to live consumers too.
    slowStore.delayMs = 4000;
    const slow = persister({ consumer: 'slow', store: slowStore, deadAfterMs: 1000 });
    slow.start();
    const s = newSessionId();
    await bus.append(busEvents(s, 1, 10));
    await waitUntil(() => slowStore.appendCalls === 1, 15_000, 'slow write begun');
    const other = persister({ consumer: 'other', deadAfterMs: 1000 });
    other.start();

    await waitUntil(async () => (await seqsOf(slowStore, s)).length === 10, 15_000, 'slow write done');
    expect(other.metrics()).toMatchObject({ takenOver: 0, consumersRemoved: 0 });
    expect(await seqsOf(store, s)).toEqual([]);
    expect(slowStore.appendCalls).toBe(1);
    expect(await consumerNames(bus)).toContain('slow');
  });

  it('when a consumer never sent heartbeats (an older hub), then it counts as dead only after claimIdleMs', async () => {
    const { bus, store, persister } = await setup();
    const s = newSessionId();
    await bus.ensureGroup(GROUP);
    await bus.append(busEvents(s, 1, 5));
    expect(await bus.readGroup({ group: GROUP, consumer: 'old', count: 10, blockMs: 0 })).toHaveLength(1);
    const startedAt = Date.now();
    const heir = persister({ consumer: 'heir', deadAfterMs: 200, claimIdleMs: 2500 });
    heir.start();
    await waitUntil(async () => (await seqsOf(store, s)).length === 5, 15_000, 'events of the old consumer stored');
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(2000);
    await waitUntil(async () => !(await consumerNames(bus)).includes('old'), 15_000, 'old consumer removed');
  });

  it('when a persister stops holding nothing, then it leaves the group at once', async () => {
    const { bus, store, persister } = await setup();
    const p = persister({ consumer: 'leaving' });
    p.start();
    const s = newSessionId();
    await bus.append(busEvents(s, 1, 3));
    await waitUntil(async () => (await seqsOf(store, s)).length === 3, 15_000, 'events stored');
    expect(await consumerNames(bus)).toContain('leaving');
    await p.stop();
    expect(await consumerNames(bus)).not.toContain('leaving');
  });

  it('when the persister is stopped, then stop returns while the bus is idle', async () => {
    const { persister } = await setup();
    const p = persister({ blockMs: 1000 });
    p.start();
    await new Promise((r) => setTimeout(r, 50));
    await p.stop();
    expect(p.metrics().errors).toBe(0);
  });
});

describe('event pipeline with the SQL store (in-memory PGlite)', () => {
  let stores: HubStores;
  let store: RecordingStore;
  beforeAll(async () => {
    stores = await createMemoryStore();
    store = stores.recordings;
  }, 120_000);
  afterAll(async () => {
    await stores?.close();
  });

  it('when events are published through Redis, then the SQL store holds each once and drain resolves', async () => {
    const bus = await createRedisBus(inject('redisUrl'), { keyPrefix: `sql:${crypto.randomBytes(6).toString('hex')}:` });
    const persister = new Persister({ bus, store, logger: silentLogger, blockMs: 100 });
    const pub = new EventPublisher(bus, { maxEvents: 10_000, maxBytes: 10_000_000, logger: silentLogger, watermarkPollMs: 20 });
    try {
      persister.start();
      const [a, b] = [newSessionId(), newSessionId()];
      for (let seq = 1; seq <= 50; seq++) {
        pub.publish(busEvent(a, seq));
        pub.publish(busEvent(b, seq));
      }
      // A duplicate, as after a reconnect: stored once.
      await pub.flush();
      await bus.append(busEvents(a, 10, 20));
      await pub.drain(60_000);
      expect(await seqsOf(store, a)).toEqual(range(50));
      expect(await seqsOf(store, b)).toEqual(range(50));
    } finally {
      await pub.close();
      await persister.stop();
      await bus.close();
    }
  });
});

describe('agent spool with Redis unreachable', () => {
  it('when the bus is down and the limits are hit, then the spool reports full and refuses events', async () => {
    // Nothing listens on this port: the bus starts down and stays down.
    const bus = await createRedisBus(`redis://127.0.0.1:${await freePort()}`);
    const pub = new EventPublisher(bus, { maxEvents: 5, maxBytes: 1_000_000, logger: silentLogger });
    try {
      expect(bus.status()).toBe('down');
      const changes: boolean[] = [];
      pub.onCapacity((room) => changes.push(room));
      const s = newSessionId();
      const taken = busEvents(s, 1, 6).map((e) => pub.publish(e));
      expect(taken).toEqual([true, true, true, true, true, false]);
      expect(pub.hasRoom()).toBe(false);
      expect(changes).toEqual([false]);
      await new Promise((r) => setTimeout(r, 200)); // a few failed appends later
      expect(pub.stats()).toMatchObject({ queued: 5, unconfirmed: 0, appended: 0, dropped: 1 });
      await expect(pub.flush(100)).rejects.toThrow(/timed out/);
    } finally {
      await pub.close();
      await bus.close();
    }
  });
});
