// Dashboard logins kept in Redis: two hubs behind one address (same session secret, same Redis)
// both know a login made on either, and a hub restart logs nobody out.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { createInProcessBus } from '../../common/bus/in-process-bus.ts';
import { parseConfig } from '../../common/config/load-config.ts';
import { silentLogger } from '../../common/log.ts';
import { DEMO_ROLE_MAP } from '../../server/dev-idp/demo-users.ts';
import { startDevIdentityProvider, type DevIdentityProvider } from '../../server/dev-idp/dev-identity-provider.ts';
import { startHub, type Hub } from '../../server/hub.ts';
import { createMemoryStore, type HubStores } from '../../server/store/create-store.ts';
import type { RecordingStore } from '../../server/recordings/store/recording-store.ts';
import { freePort } from '../support/free-port.ts';
import { browserLike, loginThroughProvider } from '../support/oidc-login-client.ts';

vi.setConfig({ testTimeout: 60_000, hookTimeout: 180_000 });

const CLIENT = { clientId: 'vigil-two-hubs', clientSecret: 'two-hubs-secret' };
let dataDir: string;
let idp: DevIdentityProvider;
let stores: HubStores;
let store: RecordingStore;
const hubs: Hub[] = [];
let configFor: (port: number) => ReturnType<typeof parseConfig>;
const bus = createInProcessBus();

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-two-hubs-'));
  const ports = [await freePort(), await freePort()];
  idp = await startDevIdentityProvider({ port: 0, client: { ...CLIENT, redirectUris: ports.map((p) => `http://127.0.0.1:${p}/auth/callback`) } });
  stores = await createMemoryStore();
  store = stores.recordings;
  // Its own key prefix: hubs of other test files on the same Redis stay out of this pair's cluster.
  const keyPrefix = `two-hubs-${process.pid}-${Date.now()}:`;
  configFor = (port) => parseConfig({
    dataDir,
    redis: { url: inject('redisUrl'), keyPrefix },
    hub: { listen: `127.0.0.1:${port}`, auth: { oidc: { issuer: idp.issuer, clientId: CLIENT.clientId, roles: { map: DEMO_ROLE_MAP } } } },
  });
  for (const port of ports) hubs.push(await startHub({ config: configFor(port), bus, stores, logger: silentLogger, oidcClientSecret: CLIENT.clientSecret }));
});

afterAll(async () => {
  for (const hub of hubs) await hub.stop();
  await idp?.stop();
  await stores?.close();
  await bus.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('dashboard logins in Redis', () => {
  it('when someone logs in on one hub, then the other hub knows them, also after a restart', async () => {
    const [first, second] = hubs;
    const browser = browserLike();
    const { response } = await loginThroughProvider(browser, first.url, 'rita');
    expect(response.status).toBe(303);
    const cookie = browser.jar.header();
    const me = async (hub: Hub) => {
      const res = await fetch(`${hub.url}/api/me`, { headers: { cookie } });
      return { status: res.status, body: res.status === 200 ? await res.json() : null };
    };
    expect(await me(first)).toMatchObject({ status: 200, body: { user: 'rita', roles: ['reviewer'] } });
    expect(await me(second)).toMatchObject({ status: 200, body: { user: 'rita', roles: ['reviewer'] } });

    const port = first.address.port;
    await first.stop();
    hubs[0] = await startHub({ config: configFor(port), bus, stores, logger: silentLogger, oidcClientSecret: CLIENT.clientSecret });
    expect(await me(hubs[0])).toMatchObject({ status: 200, body: { user: 'rita' } });
  });
});
