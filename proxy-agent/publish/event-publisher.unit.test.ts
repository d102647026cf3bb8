import { afterEach, describe, expect, it } from 'vitest';
import type { BusEvent, BusStatus, EventBus } from '../../common/bus/event-bus.ts';
import { silentLogger } from '../../common/log.ts';
import { EventPublisher } from './event-publisher.ts';
import type { Outbox } from './outbox.ts';

/** A bus that records appends and whose failures, status and watermarks the test controls. */
class FakeBus implements EventBus {
  batches: BusEvent[][] = [];
  failing = false;
  marks = new Map<string, number>();
  private current: BusStatus = 'up';
  private readonly listeners = new Set<(s: BusStatus) => void>();

  get appended(): BusEvent[] {
    return this.batches.flat();
  }
  async append(events: readonly BusEvent[]) {
    if (this.failing) throw new Error('bus down (test)');
    this.batches.push([...events]);
  }
  async watermarks(ids: readonly string[]) {
    if (this.failing) throw new Error('bus down (test)');
    return new Map(ids.filter((id) => this.marks.has(id)).map((id) => [id, this.marks.get(id)!]));
  }
  async setWatermarks(m: ReadonlyMap<string, number>) {
    for (const [k, v] of m) this.marks.set(k, Math.max(v, this.marks.get(k) ?? 0));
  }
  /** The hub persisted everything appended so far. */
  confirmAll() {
    for (const e of this.appended) this.marks.set(e.sessionId, Math.max(e.seq, this.marks.get(e.sessionId) ?? 0));
  }
  setStatus(s: BusStatus) {
    this.current = s;
    for (const l of this.listeners) l(s);
  }
  status() { return this.current; }
  onStatus(l: (s: BusStatus) => void) { this.listeners.add(l); return () => this.listeners.delete(l); }
  async ensureGroup() {}
  async readGroup() { return []; }
  async readPending() { return []; }
  async claimStale() { return []; }
  async heartbeat() {}
  async consumers() { return []; }
  async removeConsumer() { return false; }
  async ack() {}
  async trimAcknowledged() {}
  backlogNow = { undelivered: 0, pending: 0 };
  async backlog() { return this.backlogNow; }
  async subscribe() { return async () => {}; }
  async close() {}
}

const ev = (sessionId: string, seq: number, body = `{"seq":${seq}}`): BusEvent => ({ sessionId, seq, body });
const until = async (check: () => boolean, what: string) => {
  const deadline = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe('EventPublisher', () => {
  const publishers: EventPublisher[] = [];
  const make = (bus: EventBus, limits: { maxEvents?: number; maxBytes?: number; stallMs?: number; resendAfterMs?: number } = {}) => {
    const p = new EventPublisher(bus, {
      maxEvents: limits.maxEvents ?? 10_000, maxBytes: limits.maxBytes ?? 10_000_000, logger: silentLogger, watermarkPollMs: 10, stallMs: limits.stallMs,
      resendAfterMs: limits.resendAfterMs,
    });
    publishers.push(p);
    return p;
  };
  afterEach(async () => {
    await Promise.all(publishers.splice(0).map((p) => p.close()));
  });

  it('when events are published in one tick, then they go out in one append, in order', async () => {
    const bus = new FakeBus();
    const p = make(bus);
    const events = [ev('a', 1), ev('b', 1), ev('a', 2), ev('a', 3)];
    for (const e of events) expect(p.publish(e)).toBe(true);
    await p.flush();
    expect(bus.batches).toEqual([events]);
    expect(p.stats()).toMatchObject({ queued: 0, unconfirmed: 4, appended: 4 });
  });

  it('when more than a batch is published, then appends are capped and keep the order', async () => {
    const bus = new FakeBus();
    const p = make(bus);
    const events = Array.from({ length: 2500 }, (_, i) => ev('a', i + 1));
    for (const e of events) p.publish(e);
    await p.flush();
    expect(bus.batches.length).toBeGreaterThanOrEqual(3);
    expect(Math.max(...bus.batches.map((b) => b.length))).toBeLessThanOrEqual(1000);
    expect(bus.appended).toEqual(events);
  });

  it('when the bus rejects appends, then events wait in order and go out once it accepts again', async () => {
    const bus = new FakeBus();
    bus.failing = true;
    const p = make(bus);
    p.publish(ev('a', 1));
    p.publish(ev('a', 2));
    await new Promise((r) => setTimeout(r, 30));
    p.publish(ev('a', 3));
    expect(p.stats()).toMatchObject({ queued: 3, appended: 0 });
    bus.failing = false;
    await p.flush();
    expect(bus.appended.map((e) => e.seq)).toEqual([1, 2, 3]);
  });

  it('when the watermark covers appended events, then they leave the spool and drain resolves', async () => {
    const bus = new FakeBus();
    const p = make(bus);
    for (let i = 1; i <= 5; i++) p.publish(ev('a', i));
    p.publish(ev('b', 1));
    await p.flush();
    bus.marks.set('a', 3);
    await until(() => p.stats().unconfirmed === 3, 'partial confirmation');
    const drained = p.drain();
    bus.confirmAll();
    await drained;
    expect(p.stats()).toMatchObject({ queued: 0, unconfirmed: 0, bytes: 0 });
  });

  it('when nothing confirms, then drain rejects after its timeout while flush resolves', async () => {
    const bus = new FakeBus();
    const p = make(bus);
    p.publish(ev('a', 1));
    await p.flush();
    await expect(p.drain(50)).rejects.toThrow(/drain timed out/);
  });

  it('when the bus reconnects, then unconfirmed events are appended again first, before newer ones', async () => {
    const bus = new FakeBus();
    const p = make(bus);
    p.publish(ev('a', 1));
    p.publish(ev('b', 1));
    p.publish(ev('a', 2));
    await p.flush();
    bus.marks.set('a', 1);
    await until(() => p.stats().unconfirmed === 2, 'confirmation of a:1');

    bus.failing = true;
    bus.setStatus('down');
    p.publish(ev('a', 3));
    await new Promise((r) => setTimeout(r, 30));
    bus.batches = []; // Redis came back empty
    bus.failing = false;
    bus.setStatus('up');
    await p.flush();
    expect(bus.appended.map((e) => `${e.sessionId}${e.seq}`)).toEqual(['b1', 'a2', 'a3']);
    bus.confirmAll();
    await p.drain();
  });

  it('when the bus is down and the spool reaches its limit, then publish refuses and capacity reports full, then room again', async () => {
    const bus = new FakeBus();
    bus.failing = true;
    const p = make(bus, { maxEvents: 3 });
    const changes: boolean[] = [];
    p.onCapacity((room) => changes.push(room));
    expect([1, 2, 3].map((i) => p.publish(ev('a', i)))).toEqual([true, true, true]);
    expect(p.hasRoom()).toBe(false);
    expect(p.publish(ev('a', 4))).toBe(false);
    expect(p.stats()).toMatchObject({ queued: 3, dropped: 1 });
    expect(changes).toEqual([false]);

    bus.failing = false;
    await p.flush();
    expect(p.hasRoom()).toBe(false); // appended is not persisted: still counted
    bus.confirmAll();
    await p.drain();
    expect(p.hasRoom()).toBe(true);
    expect(changes).toEqual([false, true]);
  });

  it('when an event does not fit the bytes left, then it is refused and the spool says it is full, so required recordings end instead of losing events quietly', async () => {
    const bus = new FakeBus();
    bus.failing = true;
    const p = make(bus, { maxBytes: 100 });
    const changes: boolean[] = [];
    p.onCapacity((room) => changes.push(room));
    const body = (n: number) => `{"pad":"${'x'.repeat(n)}"}`;
    expect(p.publish(ev('a', 1, body(60)))).toBe(true);
    expect(p.hasRoom()).toBe(true); // 70 of 100 bytes
    expect(p.publish(ev('a', 2, body(60)))).toBe(false);
    expect(p.stats()).toMatchObject({ dropped: 1 });
    expect(p.hasRoom()).toBe(false);
    expect(changes).toEqual([false]);
  });

  it('when a session lost an event to a full spool, then its later events leave the spool once appended, not waiting for a watermark that cannot pass the hole', async () => {
    const bus = new FakeBus();
    bus.failing = true;
    const p = make(bus, { maxEvents: 2 });
    expect(p.publish(ev('a', 1))).toBe(true);
    expect(p.publish(ev('b', 1))).toBe(true);
    expect(p.publish(ev('a', 2))).toBe(false); // the hole in a
    bus.failing = false;
    await p.flush();
    bus.marks.set('a', 1);
    bus.marks.set('b', 1);
    await p.drain();
    expect(p.hasRoom()).toBe(true);

    expect(p.publish(ev('a', 3))).toBe(true);
    expect(p.publish(ev('b', 2))).toBe(true);
    await p.flush();
    // a:3 is past the hole (the store's watermark stays at 1): it left on append. b:2 waits.
    expect(p.stats()).toMatchObject({ queued: 0, unconfirmed: 1 });
    bus.marks.set('b', 2);
    await p.drain();
  });

  it('when the spool is full, then the final event of a session (its end) is still taken and delivered', async () => {
    const bus = new FakeBus();
    bus.failing = true;
    const p = make(bus, { maxEvents: 2, maxBytes: 10 });
    expect(p.publish(ev('a', 1, '123456'))).toBe(true);
    expect(p.publish(ev('a', 2, '123456'))).toBe(false);
    expect(p.publish(ev('a', 3, '123456'), true)).toBe(true);
    expect(p.publish(ev('b', 1, '12'), true)).toBe(true);
    expect(p.hasRoom()).toBe(false);
    bus.failing = false;
    await p.flush();
    expect(bus.appended.map((e) => `${e.sessionId}${e.seq}`)).toEqual(['a1', 'a3', 'b1']);
  });

  it('when durability is machine, then commit and every append force the outbox to the disk; with process, they write it to the OS', async () => {
    for (const durability of ['machine', 'process'] as const) {
      const calls: string[] = [];
      const outbox = { append: (n: number) => calls.push(`append ${n}`), flush: () => calls.push('flush'), sync: () => calls.push('sync'), releaseBelow: () => undefined, close: () => undefined } as unknown as Outbox;
      const bus = new FakeBus();
      const p = new EventPublisher(bus, { maxEvents: 10, maxBytes: 1000, logger: silentLogger, outbox, durability });
      publishers.push(p);
      p.publish(ev('a', 1));
      p.commit();
      await p.flush();
      expect(calls).toEqual(durability === 'machine' ? ['append 1', 'sync', 'sync'] : ['append 1', 'flush', 'flush']);
    }
  });

  it('when bodies reach maxBytes, then the spool is full by bytes', async () => {
    const bus = new FakeBus();
    bus.failing = true;
    const p = make(bus, { maxBytes: 10 });
    expect(p.publish(ev('a', 1, '123456'))).toBe(true);
    expect(p.publish(ev('a', 2, '123456'))).toBe(false);
    expect(p.publish(ev('a', 2, '1234'))).toBe(true);
    expect(p.hasRoom()).toBe(false);
    expect(p.stats().bytes).toBe(10);
  });

  it('when closed, then waiting callers are released and publish refuses', async () => {
    const bus = new FakeBus();
    const p = make(bus);
    p.publish(ev('a', 1));
    const drained = p.drain();
    await p.close();
    await expect(drained).rejects.toThrow(/closed/);
    expect(p.publish(ev('a', 2))).toBe(false);
  });

  describe('throttling', () => {
    it('when the spool passes half its limit while the hub confirms, then sessions are asked to slow down, and to go on below a quarter', async () => {
      const bus = new FakeBus();
      const p = make(bus, { maxEvents: 8 });
      const changes: boolean[] = [];
      p.onThrottle((on) => changes.push(on));
      for (let i = 1; i <= 3; i++) p.publish(ev('a', i));
      expect(p.throttled()).toBe(false);
      p.publish(ev('a', 4));
      expect(p.throttled()).toBe(true);
      await p.flush();
      bus.marks.set('a', 2); // 2 of 8 left: still at a quarter
      await until(() => p.stats().unconfirmed === 2, 'the confirmation of a:2');
      expect(p.throttled()).toBe(true);
      bus.marks.set('a', 3);
      await until(() => !p.throttled(), 'the throttle to end');
      expect(changes).toEqual([true, false]);
      expect(p.stats().dropped).toBe(0);
    });

    it('when bytes pass half the limit, then sessions are asked to slow down', () => {
      const bus = new FakeBus();
      const p = make(bus, { maxBytes: 100 });
      p.publish(ev('a', 1, 'x'.repeat(49)));
      expect(p.throttled()).toBe(false);
      p.publish(ev('a', 2, 'x'));
      expect(p.throttled()).toBe(true);
    });

    it('when the bus is down, then nothing is throttled: the spool limits decide', () => {
      const bus = new FakeBus();
      bus.setStatus('down');
      const p = make(bus, { maxEvents: 4 });
      for (let i = 1; i <= 3; i++) p.publish(ev('a', i));
      expect(p.throttled()).toBe(false);
    });

    it('when the bus goes down while throttled, then the throttle ends', () => {
      const bus = new FakeBus();
      const p = make(bus, { maxEvents: 4 });
      for (let i = 1; i <= 3; i++) p.publish(ev('a', i));
      expect(p.throttled()).toBe(true);
      bus.setStatus('down');
      expect(p.throttled()).toBe(false);
    });

    it('when nothing is confirmed for stallMs while throttled (the hub is gone), then the throttle ends so sessions are not held for ever', async () => {
      const bus = new FakeBus();
      const p = make(bus, { maxEvents: 4, stallMs: 50 });
      const changes: boolean[] = [];
      p.onThrottle((on) => changes.push(on));
      for (let i = 1; i <= 3; i++) p.publish(ev('a', i));
      await until(() => changes.length === 2, 'the stall to end the throttle');
      expect(changes).toEqual([true, false]);
      expect(p.throttled()).toBe(false);
      // The hub comes back and confirms: the pipeline moves again.
      p.publish(ev('a', 4));
      expect(p.hasRoom()).toBe(false);
      await p.flush();
      bus.confirmAll();
      await p.drain();
      expect(p.throttled()).toBe(false);
    });
  });

  it('when appended events stay unconfirmed while the hubs have read everything (refused: the agent was not enrolled yet), then they are appended again', async () => {
    const bus = new FakeBus();
    bus.backlogNow = { undelivered: 3, pending: 0 };
    const p = make(bus, { resendAfterMs: 30 });
    p.publish(ev('a', 1));
    await p.flush();
    await new Promise((r) => setTimeout(r, 100));
    // The hubs still have entries to read: a slow hub, not a lost entry.
    expect(bus.appended.map((e) => e.seq)).toEqual([1]);
    bus.backlogNow = { undelivered: 0, pending: 0 };
    await until(() => bus.appended.length >= 2, 'the event appended again');
    bus.confirmAll();
    await p.drain();
  });
});
