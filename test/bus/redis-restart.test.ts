// The Redis transport against a Redis that restarts empty (no append-only file): the connection
// drops and comes back, the stream and the consumer group are gone, and the bus carries on.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BusStatus, Delivery, EventBus } from '../../common/bus/event-bus.ts';
import { createRedisBus } from '../../common/bus/redis-bus.ts';
import { startRedis, type RedisInstance } from '../support/services.ts';
import { busEvents, newSessionId, waitUntil } from '../persist/fixtures.ts';

describe('redis bus across a Redis restart', () => {
  let redis: RedisInstance;
  let bus: EventBus;
  beforeAll(async () => {
    redis = await startRedis();
    bus = await createRedisBus(redis.url);
  });
  afterAll(async () => {
    await bus?.close();
    await redis?.stop();
  });

  it('when Redis restarts, then status goes down then up, appends reject while down, and the group works again', async () => {
    const s = newSessionId();
    const before = busEvents(s, 1, 3);
    await bus.ensureGroup('g');
    await bus.append(before);
    expect((await bus.readGroup({ group: 'g', consumer: 'c', count: 10, blockMs: 0 })).flatMap((d) => d.bodies)).toHaveLength(3);
    expect(bus.status()).toBe('up');

    const statuses: BusStatus[] = [];
    let appendWhileDown: Promise<unknown> | undefined;
    const off = bus.onStatus((status) => {
      statuses.push(status);
      // Right when the connection is lost: the command must fail, not wait in a queue.
      if (status === 'down' && !appendWhileDown) appendWhileDown = bus.append(busEvents(s, 4, 4)).then(() => 'appended', (err: unknown) => err);
    });
    await redis.restart();
    await waitUntil(() => bus.status() === 'up', 20_000, 'reconnect');
    off();
    expect(statuses[0]).toBe('down');
    expect(statuses.at(-1)).toBe('up');
    expect(appendWhileDown).toBeDefined();
    expect(await appendWhileDown).toBeInstanceOf(Error);

    // The restarted Redis is empty: no stream, no group. Reading re-creates the group, and what
    // is appended from now on is delivered.
    const after = busEvents(s, 5, 6);
    await bus.append(after);
    let got: Delivery[] = [];
    await waitUntil(async () => {
      try {
        got = await bus.readGroup({ group: 'g', consumer: 'c', count: 10, blockMs: 100 });
        return got.length > 0;
      } catch {
        return false; // the reading connection may still be reconnecting
      }
    }, 20_000, 'read after restart');
    expect(got.flatMap((d) => d.bodies)).toEqual(after.map((e) => e.body));
    expect((await bus.readPending({ group: 'g', consumer: 'c', count: 10 })).flatMap((d) => d.bodies)).toHaveLength(2);
    await bus.ensureGroup('g');
  });
});
