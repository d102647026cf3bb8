// "The hub survives its store": a real `vigil hub` process (so an unhandled error would end it,
// as it would in production) over a private PostgreSQL that the test terminates connections of and
// restarts, while events flow in through Redis and API requests run. Nothing may be lost, and the
// process must still be running afterwards.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import type { EventBus } from '../../common/bus/event-bus.ts';
import { createRedisBus } from '../../common/bus/redis-bus.ts';
import { keyPaths, TokenSigner } from '../../common/tokens.ts';
import { startVigil, type VigilProcess } from '../cli/run-vigil.ts';
import { busEvents, newSessionId } from '../persist/fixtures.ts';
import { freePort } from '../support/free-port.ts';
import { startPostgres, type PostgresInstance } from '../support/services.ts';
import { createFreshDatabase } from './fresh-database.ts';
import { signingBus } from '../support/signing-bus.ts';

vi.setConfig({ testTimeout: 240_000 });

let postgres: PostgresInstance;
let hub: VigilProcess;
let hubUrl: string;
let bus: EventBus;
let dbName: string;
let headers: Record<string, string>;
let dataDir: string;
/** Set when the hub process ends on its own: the one thing these tests must never see. */
let died: string | null = null;

beforeAll(async () => {
  postgres = await startPostgres();
  const db = await createFreshDatabase(postgres.url, 'vigil_faults');
  dbName = new URL(db.url).pathname.slice(1);
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-faults-'));
  // Not ending in ":": an override is read as YAML, where "a:" is a mapping.
  const keyPrefix = `store-faults-${crypto.randomBytes(4).toString('hex')}.`;
  const port = await freePort();
  hubUrl = `http://127.0.0.1:${port}`;
  // Appends stand in for an agent: signed as one whose key is in the hub's data directory,
  // made before the hub starts so that it is enrolled from its first entry.
  bus = signingBus(await createRedisBus(inject('redisUrl'), { keyPrefix }), dataDir, 'agent-test');
  hub = await startVigil(['hub'], {
    VIGIL_DATA_DIR: dataDir,
    VIGIL__HUB__LISTEN: `127.0.0.1:${port}`,
    VIGIL__REDIS__KEYPREFIX: keyPrefix,
    REDIS_URL: inject('redisUrl'),
    DATABASE_URL: db.url,
  }, /API on http/, { timeoutMs: 200_000 });
  hub.child.once('exit', (code, signal) => {
    died = `the hub exited (${code ?? signal})\nstdout: ${hub.stdout().slice(-4000)}\nstderr: ${hub.stderr().slice(-4000)}`;
  });
  const signer = await TokenSigner.fromPem(fs.readFileSync(keyPaths(dataDir).privateKey, 'utf8'));
  headers = { authorization: `Bearer ${await signer.apiToken('operator', 'admin')}` };
});

afterAll(async () => {
  if (hub && !died) expect(await hub.stop()).toBe(0);
  await bus?.close();
  await postgres?.stop();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

const alive = () => {
  if (died) throw new Error(died);
};

/** Appends `perSession` events to each session in small batches, about one batch every 10 ms. */
async function flow(sessions: string[], perSession: number): Promise<void> {
  for (let from = 1; from <= perSession; from += 5) {
    for (const s of sessions) await bus.append(busEvents(s, from, Math.min(from + 4, perSession)));
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** API calls that touch the store, in a loop until stopped: every answer's status, counted. */
function apiLoad(sessions: string[]): { statuses: Map<number, number>; stop(): Promise<void> } {
  const statuses = new Map<number, number>();
  let running = true;
  const paths = ['/api/sessions?limit=10', `/api/sessions/${sessions[0]}`, `/api/sessions/${sessions[1]}/events?limit=50`, '/api/audit', '/metrics'];
  const worker = async (i: number) => {
    for (let n = i; running; n++) {
      // A request the hub never answered counts as status 0.
      const status = await fetch(`${hubUrl}${paths[n % paths.length]}`, { headers })
        .then(async (res) => { await res.arrayBuffer(); return res.status; }, () => 0);
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      if (status === 0) await new Promise((r) => setTimeout(r, 50));
    }
  };
  const workers = [0, 1, 2, 3].map(worker);
  return {
    statuses,
    async stop() {
      running = false;
      await Promise.all(workers);
    },
  };
}

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: postgres.url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

async function expectAllStored(sessions: string[], perSession: number): Promise<void> {
  for (const s of sessions) {
    await expect.poll(async () => {
      const res = await fetch(`${hubUrl}/api/sessions/${s}`, { headers });
      if (res.status !== 200) return res.status;
      const { session } = await res.json() as { session: { eventCount: number; persistedSeq: number } };
      return { eventCount: session.eventCount, persistedSeq: session.persistedSeq };
    }, { timeout: 120_000, interval: 250 }).toEqual({ eventCount: perSession, persistedSeq: perSession });
  }
}

describe('hub under store faults', () => {
  it('when the store\'s connections are terminated while events are persisted and API requests run, then the hub stays up and stores every event', async () => {
    const sessions = [newSessionId(), newSessionId(), newSessionId()];
    const perSession = 1500;
    const load = apiLoad(sessions);
    let terminating = true;
    let terminated = 0;
    const terminator = (async () => {
      while (terminating) {
        terminated += await admin(async (c) => (await c.query(
          'select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()', [dbName])).rowCount ?? 0);
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    try {
      await flow(sessions, perSession);
    } finally {
      terminating = false;
      await terminator;
      await load.stop();
    }
    alive();
    expect(terminated).toBeGreaterThan(5);
    await expectAllStored(sessions, perSession);
    // A store that failed under a request is unavailable (503), never an internal error (404: a
    // session asked for before its first event was stored).
    expect([...load.statuses.keys()].every((s) => [200, 404, 503].includes(s)), `statuses ${JSON.stringify([...load.statuses])}`).toBe(true);
    expect(load.statuses.get(200)).toBeGreaterThan(0);
    alive();
  });

  it('when the store PostgreSQL stops and starts again, then /readyz says so, the hub stays up, and persistence resumes with nothing lost', async () => {
    const sessions = [newSessionId(), newSessionId()];
    const perSession = 1000;
    await expect.poll(async () => (await fetch(`${hubUrl}/readyz`)).status, { timeout: 30_000 }).toBe(200);
    const load = apiLoad(sessions);
    const flowing = flow(sessions, perSession);
    try {
      await new Promise((r) => setTimeout(r, 1000));
      await postgres.halt();
      await expect.poll(async () => {
        const res = await fetch(`${hubUrl}/readyz`);
        return { status: res.status, body: await res.json() };
      }, { timeout: 30_000 }).toEqual({ status: 503, body: { status: 'down', checks: { store: 'down', redis: 'up' } } });
      const during = await fetch(`${hubUrl}/api/sessions`, { headers });
      expect(during.status).toBe(503);
      expect(await during.json()).toEqual({ error: { code: 'unavailable', message: expect.not.stringMatching(/ECONNREFUSED|127\.0\.0\.1|postgres/i) } });
      await new Promise((r) => setTimeout(r, 2000));
      alive();
      await postgres.start();
    } finally {
      await flowing;
      await load.stop();
    }
    await expect.poll(async () => (await fetch(`${hubUrl}/readyz`)).status, { timeout: 30_000 }).toBe(200);
    await expectAllStored(sessions, perSession);
    alive();
  });
});
