// /readyz against real dependencies that the test stops and starts: a private Redis (the bus) and
// the dev OpenID provider. The store's outage is in store-faults.test.ts, against a `vigil hub`.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { EventBus } from '../../common/bus/event-bus.ts';
import { createRedisBus } from '../../common/bus/redis-bus.ts';
import { OidcSettings } from '../../common/config/schema.ts';
import { silentLogger } from '../../common/log.ts';
import { ensureSigningKey, TokenVerifier } from '../../common/tokens.ts';
import { startDevIdentityProvider, type DevIdentityProvider } from '../../server/dev-idp/dev-identity-provider.ts';
import { DEMO_ROLE_MAP } from '../../server/dev-idp/demo-users.ts';
import { createApiApp } from '../../server/http/app.ts';
import { serveApp, type ServedApp } from '../support/serve-app.ts';
import { readinessChecks } from '../../server/http/readiness.ts';
import { createWebLogin } from '../../server/http/web-login.ts';
import { createMemoryStore, type HubStores } from '../../server/store/create-store.ts';
import type { RecordingStore } from '../../server/recordings/store/recording-store.ts';
import { freePort } from '../support/free-port.ts';
import { startRedis, type RedisInstance } from '../support/services.ts';

vi.setConfig({ testTimeout: 60_000 });

const CLIENT = { clientId: 'vigil-ready', clientSecret: 'ready-secret' };
let redis: RedisInstance;
let bus: EventBus;
let stores: HubStores;
let store: RecordingStore;
let idp: DevIdentityProvider;
let idpPort: number;
let served: ServedApp | undefined;
let base: string;
let dataDir: string;

const startIdp = () => startDevIdentityProvider({ port: idpPort, client: { ...CLIENT, redirectUris: [`${base}/auth/callback`] } });

async function readyz(): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${base}/readyz`);
  return { status: res.status, body: await res.json() };
}

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-ready-'));
  redis = await startRedis();
  bus = await createRedisBus(redis.url, { keyPrefix: `ready-${process.pid}-${Date.now()}:` });
  stores = await createMemoryStore();
  store = stores.recordings;
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  idpPort = await freePort();
  idp = await startIdp();
  const webLogin = createWebLogin({
    oidc: OidcSettings.parse({ issuer: idp.issuer, clientId: CLIENT.clientId, roles: { map: DEMO_ROLE_MAP } }),
    clientSecret: CLIENT.clientSecret,
    publicUrl: base,
    sessionSecret: 'a session secret for the readiness test',
    sessionTtlMs: 60_000,
    logger: silentLogger,
    idpFreshMs: 300,
  });
  const keys = ensureSigningKey(dataDir);
  const app = createApiApp({
    stores,
    verifier: await TokenVerifier.fromPem(keys.publicKeyPem),
    logger: silentLogger,
    webLogin,
    readiness: readinessChecks({ store: stores, redisBus: bus, idp: webLogin.idpReachable }),
  });
  served = await serveApp(app, port);
  expect(served.url).toBe(base);
});

afterAll(async () => {
  await served?.close();
  await idp?.stop();
  await bus?.close();
  await stores?.close();
  await redis?.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('/readyz', () => {
  it('when every dependency answers, then 200 with each one up, without a token', async () => {
    await expect.poll(readyz, { timeout: 20_000 }).toEqual({ status: 200, body: { status: 'up', checks: { store: 'up', redis: 'up', idp: 'up' } } });
    const res = await fetch(`${base}/readyz`);
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it('when Redis is stopped, then 503 names it down and nothing more; when it is back, then 200 again', async () => {
    await redis.halt();
    try {
      await expect.poll(readyz, { timeout: 20_000 }).toEqual({ status: 503, body: { status: 'down', checks: { store: 'up', redis: 'down', idp: 'up' } } });
    } finally {
      await redis.start();
    }
    await expect.poll(readyz, { timeout: 30_000 }).toEqual({ status: 200, body: { status: 'up', checks: { store: 'up', redis: 'up', idp: 'up' } } });
  });

  it('when the identity provider is stopped, then 503 names it down; when it is back, then 200 again', async () => {
    await idp.stop();
    try {
      await expect.poll(readyz, { timeout: 20_000 }).toEqual({ status: 503, body: { status: 'down', checks: { store: 'up', redis: 'up', idp: 'down' } } });
    } finally {
      idp = await startIdp();
    }
    await expect.poll(readyz, { timeout: 20_000 }).toEqual({ status: 200, body: { status: 'up', checks: { store: 'up', redis: 'up', idp: 'up' } } });
  });

  it('when /healthz is asked while a dependency is down, then it still says the process is alive', async () => {
    await idp.stop();
    try {
      await expect.poll(async () => (await readyz()).status, { timeout: 20_000 }).toBe(503);
      const res = await fetch(`${base}/healthz`);
      expect({ status: res.status, body: await res.json() }).toEqual({ status: 200, body: { status: 'ok' } });
    } finally {
      idp = await startIdp();
    }
  });
});
