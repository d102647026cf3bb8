// Live access follows the login: two hubs sharing Redis (logins and Socket.IO rooms), the real
// OpenID provider, real Socket.IO clients. A logout on one hub ends that login's connections on
// both; a role removed at the provider ends what the connection may no longer watch; an account
// gone at the provider ends the login, for sockets and REST alike.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { createInProcessBus } from '../../common/bus/in-process-bus.ts';
import { parseConfig } from '../../common/config/load-config.ts';
import { silentLogger } from '../../common/log.ts';
import { DEMO_ROLE_MAP } from '../../server/dev-idp/demo-users.ts';
import { startDevIdentityProvider, type DevIdentityProvider } from '../../server/dev-idp/dev-identity-provider.ts';
import { startHub, type Hub } from '../../server/hub.ts';
import { createMemoryStore, type HubStores } from '../../server/store/create-store.ts';
import { freePort } from '../support/free-port.ts';
import { liveSocket, loginCookie, type LiveClient } from '../support/live-login.ts';
import { fakeSession } from './event-fixtures.ts';

vi.setConfig({ testTimeout: 60_000, hookTimeout: 180_000 });

const CLIENT = { clientId: 'vigil-live-access', clientSecret: 'live-access-secret' };
let dataDir: string;
let idp: DevIdentityProvider;
let stores: HubStores;
let keyPrefix: string;
const hubs: Hub[] = [];
const sockets: LiveClient[] = [];
const bus = createInProcessBus();
const bobsVault = fakeSession({ user: 'bob', target: 'vault', queries: 1 });

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-live-access-'));
  const ports = [await freePort(), await freePort()];
  idp = await startDevIdentityProvider({ port: 0, client: { ...CLIENT, redirectUris: ports.map((p) => `http://127.0.0.1:${p}/auth/callback`) } });
  stores = await createMemoryStore();
  await stores.recordings.append(bobsVault.events);
  keyPrefix = `live-access-${process.pid}-${Date.now()}:`;
  for (const port of ports) {
    const config = parseConfig({
      dataDir,
      redis: { url: inject('redisUrl'), keyPrefix },
      targets: [{ name: 'vault', protocol: 'postgres', listen: '127.0.0.1:15433', access: 'jit' }],
      hub: {
        listen: `127.0.0.1:${port}`,
        auth: { loginRecheck: '1s', oidc: { issuer: idp.issuer, clientId: CLIENT.clientId, roles: { map: DEMO_ROLE_MAP } } },
      },
    });
    hubs.push(await startHub({ config, bus, stores, logger: silentLogger, oidcClientSecret: CLIENT.clientSecret }));
  }
});

afterAll(async () => {
  sockets.forEach((s) => s.disconnect());
  for (const hub of hubs) await hub.stop();
  await idp?.stop();
  await stores?.close();
  await bus.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

const login = (user: string, hub = hubs[0]) => loginCookie(hub.url, user);

async function socketOn(hub: Hub, cookie: string): Promise<LiveClient> {
  const socket = await liveSocket(hub.url, cookie);
  sockets.push(socket);
  return socket;
}

/** What the hub tells a socket before it goes, and that it went. */
function ending(socket: LiveClient): Promise<{ reason: string; message: string; disconnect: string }> {
  return new Promise((resolve) => {
    let dropped = { reason: '', message: '' };
    socket.once('dropped', (p) => (dropped = p));
    socket.once('disconnect', (disconnect) => resolve({ ...dropped, disconnect }));
  });
}

describe('live access follows the login', () => {
  it('when a login logs out on one hub, then its sockets on every hub end at once and it cannot come back', async () => {
    const rita = await login('rita');
    const here = await socketOn(hubs[0], rita.cookie);
    const there = await socketOn(hubs[1], rita.cookie);
    expect(await there.timeout(10_000).emitWithAck('watch', { sessionId: bobsVault.sessionId })).toEqual({ ok: true });
    // Someone else's login is not touched.
    const ada = await login('ada');
    const bystander = await socketOn(hubs[1], ada.cookie);
    const endedHere = ending(here);
    const endedThere = ending(there);

    const out = await fetch(`${hubs[0].url}/auth/logout`, { method: 'POST', headers: { cookie: rita.cookie, 'x-csrf-token': rita.csrf } });
    expect(out.status).toBe(200);
    for (const ended of [await endedHere, await endedThere]) {
      expect(ended).toMatchObject({ reason: 'logged_out', disconnect: 'io server disconnect' });
      expect(ended.message).toContain('logged out');
    }
    await expect(socketOn(hubs[1], rita.cookie)).rejects.toThrow(/unauthorized/);
    expect((await fetch(`${hubs[1].url}/api/sessions`, { headers: { cookie: rita.cookie } })).status).toBe(401);
    // What is left in the store is a marker without the login, for a while: a hub whose recheck
    // reads it before the broadcast reaches it says "logged out" too (login-check.ts).
    const sid = decodeURIComponent(/=s:([^.;]+)\./.exec(decodeURIComponent(rita.cookie))?.[1] ?? '');
    const redis = createClient({ url: inject('redisUrl') });
    await redis.connect();
    try {
      const marker = JSON.parse((await redis.get(`${keyPrefix}login:${sid}`)) ?? 'null') as Record<string, unknown> | null;
      expect(marker).toMatchObject({ loggedOutAt: expect.any(String) });
      expect(marker).not.toHaveProperty('login');
      const ttl = await redis.ttl(`${keyPrefix}login:${sid}`);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(300);
    } finally {
      await redis.quit();
    }
    expect(bystander.connected).toBe(true);
    expect(await bystander.timeout(10_000).emitWithAck('live:subscribe')).toEqual({ ok: true });
  });

  it('when an approver loses the approver role at the provider, then his watch of the target\'s session ends and says why', async () => {
    const aaron = await login('aaron', hubs[1]);
    const socket = await socketOn(hubs[1], aaron.cookie);
    expect(await socket.timeout(10_000).emitWithAck('watch', { sessionId: bobsVault.sessionId })).toEqual({ ok: true });
    const lost = new Promise<{ sessionId: string; message: string }>((resolve) => socket.once('unwatched', resolve));
    const listed = async () => {
      const res = await fetch(`${hubs[1].url}/api/sessions`, { headers: { cookie: aaron.cookie } });
      return ((await res.json()) as { sessions: Array<{ id: string }> }).sessions.map((s) => s.id);
    };
    expect(await listed()).toEqual([bobsVault.sessionId]);

    idp.setGroups('aaron', ['vigil-engineers']);
    const told = await lost;
    expect(told.sessionId).toBe(bobsVault.sessionId);
    expect(told.message).toContain('roles changed');
    expect(socket.connected).toBe(true);
    expect(await socket.timeout(10_000).emitWithAck('watch', { sessionId: bobsVault.sessionId })).toMatchObject({ ok: false, error: { code: 'not_found' } });
    expect(await listed()).toEqual([]);
    const me = (await (await fetch(`${hubs[0].url}/api/me`, { headers: { cookie: aaron.cookie } })).json()) as { roles: string[] };
    expect(me.roles).toEqual(['engineer']);
  });

  it('when the account is gone at the provider, then the login ends for sockets and REST within the recheck', async () => {
    const erin = await login('ada', hubs[0]);
    const socket = await socketOn(hubs[0], erin.cookie);
    const ended = ending(socket);
    idp.setGroups('ada', null);
    expect(await ended).toMatchObject({ reason: 'login_ended', disconnect: 'io server disconnect' });
    expect((await fetch(`${hubs[1].url}/api/me`, { headers: { cookie: erin.cookie } })).status).toBe(401);
  });

  it('when a login is kept in Redis, then the provider\'s access token is there only sealed', async () => {
    await login('rita');
    const redis = createClient({ url: inject('redisUrl') });
    await redis.connect();
    try {
      const keys = await redis.keys(`${keyPrefix}login:*`);
      expect(keys.length).toBeGreaterThan(0);
      let sealed = 0;
      for (const key of keys) {
        // Other tests' logins end while this one reads: a key gone since KEYS has nothing to check.
        const raw = await redis.get(key);
        if (raw === null) continue;
        const login = (JSON.parse(raw) as { login?: { accessToken?: string } }).login;
        if (!login?.accessToken) continue;
        sealed += 1;
        const parts = login.accessToken.split('.');
        expect(parts).toHaveLength(3);
        expect(Buffer.from(parts[0], 'base64url')).toHaveLength(12);
      }
      expect(sealed).toBeGreaterThan(0);
    } finally {
      await redis.quit();
    }
  });
});
