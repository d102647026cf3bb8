// "A standby hub takes over a dead hub's pending events within seconds and removes it from the
// group": a real `vigil hub` process whose store write hangs (the test holds a lock on its segments
// table) keeps entries pending and keeps beating. A standby persister, on a store of its own so
// that it stays free, must leave those entries alone while the hub lives, and take them over once
// the hub is killed with SIGKILL: every event stored, the dead consumer gone from XINFO CONSUMERS.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import type { EventBus } from '../../common/bus/event-bus.ts';
import { createRedisBus } from '../../common/bus/redis-bus.ts';
import { silentLogger } from '../../common/log.ts';
import { Persister } from '../../server/recordings/ingest/persister.ts';
import { startVigil, type VigilProcess } from '../cli/run-vigil.ts';
import { createFreshDatabase } from '../hub/fresh-database.ts';
import { freePort } from '../support/free-port.ts';
import { busEvents, newSessionId } from './fixtures.ts';
import { TestRecordingStore } from './memory-recording-store.ts';
import { signingBus } from '../support/signing-bus.ts';

vi.setConfig({ testTimeout: 240_000 });

const GROUP = 'vigil-persister';
let db: { url: string; drop(): Promise<void> };
let dataDir: string;
let keyPrefix: string;
let hub: VigilProcess;
let bus: EventBus;
let redis: ReturnType<typeof createClient>;

beforeAll(async () => {
  db = await createFreshDatabase(inject('postgresUrl'), 'vigil_takeover');
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-takeover-'));
  // Not ending in ":": an override is read as YAML, where "a:" is a mapping.
  keyPrefix = `hub-takeover-${crypto.randomBytes(4).toString('hex')}.`;
  // Appends stand in for an agent: signed as one whose key is in the hub's data directory,
  // made before the hub starts so that it is enrolled from its first entry.
  bus = signingBus(await createRedisBus(inject('redisUrl'), { keyPrefix }), dataDir, 'agent-test');
  hub = await startVigil(['hub'], {
    VIGIL_DATA_DIR: dataDir,
    VIGIL__HUB__LISTEN: `127.0.0.1:${await freePort()}`,
    VIGIL__REDIS__KEYPREFIX: keyPrefix,
    REDIS_URL: inject('redisUrl'),
    DATABASE_URL: db.url,
  }, /API on http/, { timeoutMs: 200_000 });
  redis = createClient({ url: inject('redisUrl'), RESP: 2 });
  await redis.connect();
});

afterAll(async () => {
  if (hub && hub.child.exitCode === null && hub.child.signalCode === null) hub.child.kill('SIGKILL');
  await bus?.close();
  await redis?.close();
  await db?.drop();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

/** Straight from Redis, not through the bus under test. */
async function groupConsumers(): Promise<string[]> {
  const raw = await redis.sendCommand<unknown[][]>(['XINFO', 'CONSUMERS', `${keyPrefix}events`, GROUP]);
  return raw.map((fields) => String(fields[fields.indexOf('name') + 1]));
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('hub killed with SIGKILL, standby persister', () => {
  it('when a hub whose store write hangs is killed, then the standby leaves its entries alone until then, and afterwards stores them all and removes it from the group', async () => {
    const lock = new pg.Client({ connectionString: db.url });
    await lock.connect();
    const standbyBus = await createRedisBus(inject('redisUrl'), { keyPrefix });
    const store = new TestRecordingStore();
    const standby = new Persister({ bus: standbyBus, store, logger: silentLogger });
    try {
      await lock.query('BEGIN');
      await lock.query('LOCK TABLE segments IN EXCLUSIVE MODE');
      const s = newSessionId();
      // One entry of 100 events: the hub reads it and its write waits for the lock.
      await bus.append(busEvents(s, 1, 100));
      let hubName = '';
      await expect.poll(async () => {
        const held = (await bus.consumers(GROUP)).find((c) => c.pending > 0);
        hubName = held?.name ?? '';
        return held?.pending;
      }, { timeout: 60_000, interval: 100 }).toBe(1);

      standby.start();
      for (let from = 101; from <= 300; from += 10) await bus.append(busEvents(s, from, from + 9));
      await expect.poll(async () => (await store.readEvents(s)).map((e) => e.event.seq), { timeout: 60_000 }).toEqual(range(101, 300));

      // Alive but slow: its heartbeat keeps its entry from the standby, well past the silence
      // that would make it dead (3 s).
      await new Promise((r) => setTimeout(r, 7000));
      expect(hub.child.exitCode).toBeNull();
      expect((await bus.consumers(GROUP)).find((c) => c.name === hubName)).toMatchObject({ pending: 1 });
      expect(standby.metrics().takenOver).toBe(0);

      const exited = new Promise((resolve) => hub.child.once('exit', resolve));
      hub.child.kill('SIGKILL');
      const killedAt = Date.now();
      await exited;
      await expect.poll(async () => (await store.readEvents(s)).length, { timeout: 60_000, interval: 50 }).toBe(300);
      const storedAfterMs = Date.now() - killedAt;
      await expect.poll(groupConsumers, { timeout: 60_000, interval: 50 }).not.toContain(hubName);
      const removedAfterMs = Date.now() - killedAt;
      console.info(`hub ${hubName} killed: its events stored by the standby after ${storedAfterMs} ms, removed from the group after ${removedAfterMs} ms`);

      expect((await store.readEvents(s)).map((e) => e.event.seq)).toEqual(range(1, 300));
      expect(standby.metrics()).toMatchObject({ takenOver: 1, consumersRemoved: 1, persisted: 300, invalid: 0 });
      expect(await bus.backlog(GROUP)).toEqual({ undelivered: 0, pending: 0 });
      expect(await groupConsumers()).toEqual([standby.consumerName]);
    } finally {
      await standby.stop();
      await standbyBus.close();
      await lock.query('ROLLBACK').catch(() => undefined);
      await lock.end();
    }
  });
});
