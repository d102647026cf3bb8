// The requirement "Redis restarted in the middle of a session: every event arrives, none twice".
// A private Redis WITHOUT append-only: a restart loses the stream, the consumer group, the pending
// lists and the watermarks. The agent's publisher and the hub's persister each have their own
// connection, as they would in two processes, and events keep flowing through the restarts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventBus } from '../../common/bus/event-bus.ts';
import { createRedisBus } from '../../common/bus/redis-bus.ts';
import { silentLogger } from '../../common/log.ts';
import { EventPublisher } from '../../proxy-agent/publish/event-publisher.ts';
import { Persister } from '../../server/recordings/ingest/persister.ts';
import { startRedis, type RedisInstance } from '../support/services.ts';
import { busEvent, newSessionId } from './fixtures.ts';
import { TestRecordingStore } from './memory-recording-store.ts';

const PER_SESSION = 900;

describe('event pipeline across Redis restarts', () => {
  let redis: RedisInstance;
  let agentBus: EventBus;
  let hubBus: EventBus;
  beforeAll(async () => {
    redis = await startRedis({ appendOnly: false });
    agentBus = await createRedisBus(redis.url);
    hubBus = await createRedisBus(redis.url);
  });
  afterAll(async () => {
    await agentBus?.close();
    await hubBus?.close();
    await redis?.stop();
  });

  it('when Redis restarts empty in the middle of sessions, then every event arrives in the store exactly once', async () => {
    const store = new TestRecordingStore();
    store.delayMs = 3; // the hub lags a little: a backlog sits in Redis when it dies
    const persister = new Persister({ bus: hubBus, store, logger: silentLogger, blockMs: 200, batchSize: 100 });
    const publisher = new EventPublisher(agentBus, { maxEvents: 100_000, maxBytes: 100_000_000, logger: silentLogger, watermarkPollMs: 100 });
    persister.start();
    try {
      const sessions = [newSessionId(), newSessionId(), newSessionId()];
      const sent = new Map<string, string[]>(sessions.map((s) => [s, []]));
      const restarts: Promise<void>[] = [];
      for (let seq = 1; seq <= PER_SESSION; seq++) {
        for (const s of sessions) {
          const e = busEvent(s, seq);
          sent.get(s)!.push(e.body);
          expect(publisher.publish(e)).toBe(true);
        }
        // Two restarts while the flow goes on; publishing does not wait for them.
        if (seq === Math.floor(PER_SESSION / 3) || seq === Math.floor((2 * PER_SESSION) / 3)) {
          await Promise.all(restarts);
          restarts.push(redis.restart());
        }
        await new Promise((r) => setTimeout(r, 2));
      }
      await Promise.all(restarts);
      await publisher.drain(60_000);

      for (const s of sessions) {
        const stored = await store.readEvents(s);
        expect(stored.map((e) => e.event.seq)).toEqual(Array.from({ length: PER_SESSION }, (_, i) => i + 1));
        expect(stored.map((e) => e.body)).toEqual(sent.get(s));
      }
      const total = PER_SESSION * sessions.length;
      // The restarts did lose appended events, which the publisher sent again.
      expect(publisher.stats().appended).toBeGreaterThan(total);
      expect(publisher.stats()).toMatchObject({ queued: 0, unconfirmed: 0, dropped: 0 });
      expect(persister.metrics().persisted).toBe(total);
    } finally {
      await publisher.close();
      await persister.stop();
    }
  });
});
