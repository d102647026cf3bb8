import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { createBus } from '../../common/bus/create-bus.ts';
import type { EventBus } from '../../common/bus/event-bus.ts';
import { parseConfig } from '../../common/config/load-config.ts';
import { silentLogger } from '../../common/log.ts';
import { keyPaths, TokenSigner } from '../../common/tokens.ts';
import { startHub, type Hub } from '../../server/hub.ts';
import { createStore, type HubStores } from '../../server/store/create-store.ts';
import type { RecordingStore } from '../../server/recordings/store/recording-store.ts';
import { fakeSession } from './event-fixtures.ts';
import { createFreshDatabase } from './fresh-database.ts';
import { signingBus } from '../support/signing-bus.ts';

// The persister runs in the background: on a loaded machine it may take a while to catch up.
vi.setConfig({ testTimeout: 180_000 });

let dataDir: string;
let bus: EventBus;
let stores: HubStores;
let store: RecordingStore;
let hub: Hub;
let dropDatabase: () => Promise<void>;

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-hub-'));
  const db = await createFreshDatabase(inject('postgresUrl'), 'vigil_hub');
  dropDatabase = db.drop;
  // Appends stand in for an agent: signed as one whose key the hub trusts.
  // Its own keys on the Redis other test files share: a hub of another file on the default
  // prefix would take these events and drop them (their signer is not one it trusts).
  bus = signingBus(await createBus(inject('redisUrl'), silentLogger, `${path.basename(dataDir)}:`), dataDir);
  stores = await createStore({ databaseUrl: db.url, dataDir, logger: silentLogger });
  store = stores.recordings;
  const config = parseConfig({ dataDir, hub: { listen: '127.0.0.1:0' } });
  hub = await startHub({ config, bus, stores, logger: silentLogger });
});

afterAll(async () => {
  await hub?.stop();
  await stores?.close();
  await bus?.close();
  await dropDatabase?.();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('hub', () => {
  it('when the hub starts, then its signing key exists in dataDir and the API listens on the port it got', async () => {
    expect(fs.existsSync(keyPaths(dataDir).privateKey)).toBe(true);
    expect(hub.address.port).toBeGreaterThan(0);
    expect(hub.url).toBe(`http://127.0.0.1:${hub.address.port}`);
    const res = await fetch(`${hub.url}/healthz`);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('when events arrive on the bus, then the persister stores them and the API serves them', async () => {
    const session = fakeSession({ user: 'dora', queries: 2 });
    await bus.append(session.events.map((e) => ({ sessionId: e.event.sessionId, seq: e.event.seq, body: e.body })));
    const signer = await TokenSigner.fromPem(fs.readFileSync(keyPaths(dataDir).privateKey, 'utf8'));
    const headers = { authorization: `Bearer ${await signer.apiToken('test', 'admin')}` };
    await expect.poll(async () => (await fetch(`${hub.url}/api/sessions/${session.sessionId}`, { headers })).status, { timeout: 90_000 }).toBe(200);
    await expect.poll(async () => {
      const res = await fetch(`${hub.url}/api/sessions/${session.sessionId}/export?format=jsonl`, { headers });
      return (await res.text()).trim().split('\n');
    }, { timeout: 90_000 }).toEqual(session.events.map((e) => e.body));
    expect(hub.persister.metrics().persisted).toBeGreaterThanOrEqual(session.events.length);
  });

  it('when Prometheus scrapes /metrics, then an admin token gets the counters and nobody else gets in', async () => {
    const signer = await TokenSigner.fromPem(fs.readFileSync(keyPaths(dataDir).privateKey, 'utf8'));
    const scrape = async (role?: string) => fetch(`${hub.url}/metrics`, role ? { headers: { authorization: `Bearer ${await signer.apiToken('prometheus', role)}` } } : {});
    expect((await scrape()).status).toBe(401);
    expect((await scrape('reviewer')).status).toBe(403);
    const res = await scrape('admin');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    expect(text).toMatch(/^vigil_events_persisted_total \d+$/m);
    expect(text).toMatch(/^vigil_bus_up 1$/m);
    expect(text).toMatch(/^vigil_sessions_live \d+$/m);
    expect(text).toMatch(/^vigil_bus_backlog_entries\{state="undelivered"\} \d+$/m);
    expect(text).toMatch(/^vigil_bus_backlog_entries\{state="pending"\} \d+$/m);
  });

  it('when anything is served, then the security headers and a strict Content-Security-Policy come with it', async () => {
    for (const route of ['/healthz', '/api/sessions', '/nowhere']) {
      const res = await fetch(`${hub.url}${route}`);
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain('unsafe-inline');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN');
      expect(res.headers.get('cache-control')).toBe('no-store');
    }
  });

  it('when the listen address is taken, then startHub fails with a message naming it', async () => {
    const config = parseConfig({ dataDir, hub: { listen: `127.0.0.1:${hub.address.port}` } });
    const other = await createBus(undefined);
    await expect(startHub({ config, bus: other, stores, logger: silentLogger })).rejects.toThrow(/already in use/);
    await other.close();
  });
});
