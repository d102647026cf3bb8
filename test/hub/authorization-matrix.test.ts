// Every REST route and socket event of the hub, for every kind of caller, in one table: no login
// gets 401, a role that may not use the route 403, someone else's session 404 (as if it did not
// exist), and the right caller gets through. Logins come from the real OpenID provider.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { io as connect, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createInProcessBus } from '../../common/bus/in-process-bus.ts';
import { parseConfig } from '../../common/config/load-config.ts';
import type { ClientToServer, ServerToClient } from '../../common/live/contract.ts';
import { silentLogger } from '../../common/log.ts';
import { DEMO_ROLE_MAP } from '../../server/dev-idp/demo-users.ts';
import { startDevIdentityProvider, type DevIdentityProvider } from '../../server/dev-idp/dev-identity-provider.ts';
import { startHub, type Hub } from '../../server/hub.ts';
import { createMemoryStore, type HubStores } from '../../server/store/create-store.ts';
import type { RecordingStore } from '../../server/recordings/store/recording-store.ts';
import { freePort } from '../support/free-port.ts';
import { loginCookie } from '../support/live-login.ts';
import { fakeSession } from './event-fixtures.ts';

vi.setConfig({ testTimeout: 60_000, hookTimeout: 180_000 });

const CLIENT = { clientId: 'vigil-matrix', clientSecret: 'matrix-secret' };
type Caller = 'nobody' | 'alice' | 'rita' | 'aaron' | 'ada';
const CALLERS: Caller[] = ['nobody', 'alice', 'rita', 'aaron', 'ada'];

let dataDir: string;
let idp: DevIdentityProvider;
let hub: Hub;
let stores: HubStores;
let store: RecordingStore;
const bus = createInProcessBus();
const alices = fakeSession({ user: 'alice', queries: 1 });
const bobs = fakeSession({ user: 'bob', queries: 1 });
// On the target aaron approves (vault is jit): he may open it, list it and watch it.
const bobsVault = fakeSession({ user: 'bob', target: 'vault', queries: 1 });
const logins = new Map<Caller, { cookie: string; csrf: string }>();
let alicesRequest = 0;

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-matrix-'));
  const port = await freePort();
  idp = await startDevIdentityProvider({ port: 0, client: { ...CLIENT, redirectUris: [`http://127.0.0.1:${port}/auth/callback`] } });
  stores = await createMemoryStore();
  store = stores.recordings;
  await store.append([...alices.events, ...bobs.events, ...bobsVault.events]);
  const config = parseConfig({
    dataDir,
    targets: [{ name: 'demo', protocol: 'postgres', listen: '127.0.0.1:15432' }, { name: 'vault', protocol: 'postgres', listen: '127.0.0.1:15433', access: 'jit' }],
    hub: { listen: `127.0.0.1:${port}`, auth: { oidc: { issuer: idp.issuer, clientId: CLIENT.clientId, roles: { map: DEMO_ROLE_MAP } } } },
  });
  hub = await startHub({ config, bus, stores, logger: silentLogger, oidcClientSecret: CLIENT.clientSecret });
  for (const user of CALLERS.filter((c) => c !== 'nobody')) {
    logins.set(user, await loginCookie(hub.url, user));
  }
  const alice = logins.get('alice')!;
  const asked = await fetch(`${hub.url}/api/access-requests`, {
    method: 'POST',
    headers: { cookie: alice.cookie, 'x-csrf-token': alice.csrf, 'content-type': 'application/json' },
    body: JSON.stringify({ target: 'vault', reason: 'matrix' }),
  });
  alicesRequest = ((await asked.json()) as { request: { id: number } }).request.id;
});

afterAll(async () => {
  await hub?.stop();
  await idp?.stop();
  await stores?.close();
  await bus.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

// Expected status per caller: alice engineer, rita reviewer, aaron approver+engineer, ada admin.
const NO_KEY = `SHA256:${'A'.repeat(43)}`;
const ROUTES: Array<{ method: 'GET' | 'POST' | 'DELETE'; path: string | (() => string); expect: Record<Caller, number> }> = [
  { method: 'GET', path: '/api/me', expect: { nobody: 401, alice: 200, rita: 200, aaron: 200, ada: 200 } },
  { method: 'GET', path: '/api/sessions', expect: { nobody: 401, alice: 200, rita: 200, aaron: 200, ada: 200 } },
  // A filter narrows what one may see: asking for someone else's sessions lists those one may see.
  { method: 'GET', path: '/api/sessions?user=bob', expect: { nobody: 401, alice: 200, rita: 200, aaron: 200, ada: 200 } },
  { method: 'GET', path: `/api/sessions/${alices.sessionId}`, expect: { nobody: 401, alice: 200, rita: 200, aaron: 404, ada: 200 } },
  { method: 'GET', path: `/api/sessions/${bobs.sessionId}`, expect: { nobody: 401, alice: 404, rita: 200, aaron: 404, ada: 200 } },
  { method: 'GET', path: `/api/sessions/${bobs.sessionId}/events`, expect: { nobody: 401, alice: 404, rita: 200, aaron: 404, ada: 200 } },
  { method: 'GET', path: `/api/sessions/${bobs.sessionId}/export?format=jsonl`, expect: { nobody: 401, alice: 404, rita: 200, aaron: 404, ada: 200 } },
  { method: 'GET', path: '/api/metrics', expect: { nobody: 401, alice: 403, rita: 403, aaron: 403, ada: 200 } },
  { method: 'GET', path: '/metrics', expect: { nobody: 401, alice: 403, rita: 403, aaron: 403, ada: 200 } },
  { method: 'GET', path: '/api/targets', expect: { nobody: 401, alice: 200, rita: 403, aaron: 200, ada: 200 } },
  { method: 'POST', path: '/api/targets/demo/connection', expect: { nobody: 401, alice: 200, rita: 403, aaron: 200, ada: 200 } },
  // Bob's session has ended: who may kill gets 409, the rest are refused before that.
  { method: 'POST', path: `/api/sessions/${bobs.sessionId}/kill`, expect: { nobody: 401, alice: 403, rita: 409, aaron: 403, ada: 409 } },
  { method: 'GET', path: '/api/ssh-keys', expect: { nobody: 401, alice: 200, rita: 403, aaron: 200, ada: 200 } },
  // Without a body: past authorization, refused as malformed.
  { method: 'POST', path: '/api/ssh-keys', expect: { nobody: 401, alice: 400, rita: 403, aaron: 400, ada: 400 } },
  { method: 'DELETE', path: `/api/ssh-keys/${NO_KEY}`, expect: { nobody: 401, alice: 404, rita: 403, aaron: 404, ada: 404 } },
  { method: 'GET', path: '/api/access-requests', expect: { nobody: 401, alice: 200, rita: 200, aaron: 200, ada: 200 } },
  { method: 'POST', path: '/api/access-requests', expect: { nobody: 401, alice: 400, rita: 403, aaron: 400, ada: 400 } },
  { method: 'GET', path: '/api/access-requests/999999', expect: { nobody: 401, alice: 404, rita: 404, aaron: 404, ada: 404 } },
  { method: 'POST', path: '/api/access-requests/999999/approve', expect: { nobody: 401, alice: 403, rita: 403, aaron: 404, ada: 404 } },
  { method: 'POST', path: '/api/access-requests/999999/revoke', expect: { nobody: 401, alice: 404, rita: 404, aaron: 404, ada: 404 } },
  { method: 'GET', path: () => `/api/access-requests/${alicesRequest}`, expect: { nobody: 401, alice: 200, rita: 200, aaron: 200, ada: 200 } },
  // alice may not approve her own (nor as an engineer at all); aaron grants it; then it is no longer pending.
  { method: 'POST', path: () => `/api/access-requests/${alicesRequest}/approve`, expect: { nobody: 401, alice: 403, rita: 403, aaron: 200, ada: 409 } },
  { method: 'GET', path: '/api/audit', expect: { nobody: 401, alice: 403, rita: 200, aaron: 403, ada: 200 } },
  // Its filters change what is listed, never who may list it.
  { method: 'GET', path: '/api/audit?actor=ali&action=session.&target=demo', expect: { nobody: 401, alice: 403, rita: 200, aaron: 403, ada: 200 } },
  { method: 'GET', path: '/api/audit/verify', expect: { nobody: 401, alice: 403, rita: 200, aaron: 403, ada: 200 } },
  // Locks are security's: listed, made (here without a body: past authorization, malformed) and lifted.
  { method: 'GET', path: '/api/locks', expect: { nobody: 401, alice: 403, rita: 200, aaron: 403, ada: 200 } },
  { method: 'POST', path: '/api/locks', expect: { nobody: 401, alice: 403, rita: 400, aaron: 403, ada: 400 } },
  { method: 'DELETE', path: '/api/locks/L-nosuchlock', expect: { nobody: 401, alice: 403, rita: 404, aaron: 403, ada: 404 } },
  // Verifying a recording is reading it: the same rule as the session itself.
  { method: 'GET', path: `/api/sessions/${bobs.sessionId}/verify`, expect: { nobody: 401, alice: 404, rita: 200, aaron: 404, ada: 200 } },
  { method: 'GET', path: `/api/sessions/${alices.sessionId}/verify`, expect: { nobody: 401, alice: 200, rita: 200, aaron: 404, ada: 200 } },
  { method: 'GET', path: `/api/sessions/${bobs.sessionId}/bundle`, expect: { nobody: 401, alice: 404, rita: 200, aaron: 404, ada: 200 } },
  // Public keys: anyone logged in, and the well-known route without a login at all.
  { method: 'GET', path: '/api/recording-keys', expect: { nobody: 401, alice: 200, rita: 200, aaron: 200, ada: 200 } },
  { method: 'GET', path: '/.well-known/vigil-recording-keys', expect: { nobody: 200, alice: 200, rita: 200, aaron: 200, ada: 200 } },
  { method: 'POST', path: '/api/recording-keys/rotate', expect: { nobody: 401, alice: 403, rita: 403, aaron: 403, ada: 200 } },
  // What a person viewed is security's to read.
  { method: 'GET', path: '/api/views?user=bob', expect: { nobody: 401, alice: 403, rita: 200, aaron: 403, ada: 200 } },
  // Legal holds are security's; purging on demand is an admin's (with no body: what retention says, nothing here).
  { method: 'GET', path: '/api/holds', expect: { nobody: 401, alice: 403, rita: 200, aaron: 403, ada: 200 } },
  { method: 'POST', path: '/api/holds', expect: { nobody: 401, alice: 403, rita: 400, aaron: 403, ada: 400 } },
  { method: 'DELETE', path: '/api/holds/H-nosuchhold', expect: { nobody: 401, alice: 403, rita: 404, aaron: 403, ada: 404 } },
  { method: 'POST', path: '/api/purge', expect: { nobody: 401, alice: 403, rita: 403, aaron: 403, ada: 200 } },
  // Agent identities: security reads them, admins change them; an agent enrolls without a login (here without a body).
  { method: 'GET', path: '/api/agents', expect: { nobody: 401, alice: 403, rita: 200, aaron: 403, ada: 200 } },
  { method: 'POST', path: '/api/agents/enrollment-tokens', expect: { nobody: 401, alice: 403, rita: 403, aaron: 403, ada: 201 } },
  { method: 'POST', path: '/api/agents/no-such-agent/approve', expect: { nobody: 401, alice: 403, rita: 403, aaron: 403, ada: 404 } },
  { method: 'POST', path: '/api/agents/no-such-agent/revoke', expect: { nobody: 401, alice: 403, rita: 403, aaron: 403, ada: 400 } },
  { method: 'POST', path: '/api/agents/enroll', expect: { nobody: 400, alice: 400, rita: 400, aaron: 400, ada: 400 } },
];

async function call(caller: Caller, method: string, route: string, withCsrf = true): Promise<number> {
  const login = logins.get(caller);
  const headers: Record<string, string> = {};
  if (login) headers.cookie = login.cookie;
  if (login && withCsrf && method !== 'GET') headers['x-csrf-token'] = login.csrf;
  const res = await fetch(`${hub.url}${route}`, { method, headers });
  await res.arrayBuffer();
  return res.status;
}

describe('authorization matrix: REST', () => {
  for (const route of ROUTES) {
    const shown = typeof route.path === 'string' ? route.path : route.path.toString().replace(/^\(\) => `|`$/g, '');
    it(`${route.method} ${shown.replace(/[0-9a-f-]{36}/, ':id').replace(NO_KEY, ':fingerprint')}`, async () => {
      const got: Record<string, number> = {};
      const path = typeof route.path === 'string' ? route.path : route.path();
      for (const caller of CALLERS) got[caller] = await call(caller, route.method, path);
      expect(got).toEqual(route.expect);
    });
  }

  it('when a state-changing request comes with the cookie but without the CSRF token, then 403 for everyone', async () => {
    for (const caller of CALLERS.filter((c) => c !== 'nobody')) {
      expect(await call(caller, 'POST', '/api/targets/demo/connection', false)).toBe(403);
    }
  });
});

// Who may see which session: one rule (server/access/access-policy.ts maySeeSession) for every
// way in. Own session, someone else's, and one on a target the caller approves.
const SESSIONS = { 'alice@demo': alices, 'bob@demo': bobs, 'bob@vault': bobsVault };
type Seen = keyof typeof SESSIONS;
const SEES: Record<Exclude<Caller, 'nobody'>, Seen[]> = {
  alice: ['alice@demo'],
  rita: ['alice@demo', 'bob@demo', 'bob@vault'],
  aaron: ['bob@vault'],
  ada: ['alice@demo', 'bob@demo', 'bob@vault'],
};
const SESSION_READS = ['', '/events', '/export?format=jsonl', '/export?format=asciicast', '/export?format=har', '/timeline', '/seek?seq=1', '/search?q=select', '/statements', '/shares', '/annotations', '/views', '/verify', '/bundle'];

describe('authorization matrix: one rule for who sees a session', () => {
  for (const read of SESSION_READS) {
    it(`GET /api/sessions/:id${read}`, async () => {
      for (const caller of CALLERS) {
        for (const [name, session] of Object.entries(SESSIONS) as Array<[Seen, typeof alices]>) {
          const status = await call(caller, 'GET', `/api/sessions/${session.sessionId}${read}`);
          // A session's shares are its user's, reviewers' and admins' business, not an approver's.
          const allowed = read === '/shares' && caller === 'aaron' ? 403 : 200;
          const expected = caller === 'nobody' ? 401 : SEES[caller].includes(name) ? allowed : 404;
          expect(status, `${caller} ${name}`).toBe(expected);
        }
      }
    });
  }

  it('when each caller lists sessions (with or without filters), then the list holds exactly what they may open', async () => {
    for (const caller of CALLERS.filter((c): c is Exclude<Caller, 'nobody'> => c !== 'nobody')) {
      const login = logins.get(caller)!;
      const expected = SEES[caller].map((n) => SESSIONS[n].sessionId).sort();
      for (const query of ['', '?user=bob', '?target=vault', '?user=alice&target=demo']) {
        const res = await fetch(`${hub.url}/api/sessions${query}`, { headers: { cookie: login.cookie } });
        expect(res.status).toBe(200);
        const listed = ((await res.json()) as { sessions: Array<{ id: string; user: string; target: string }> }).sessions;
        const wanted = expected.filter((id) => {
          const [, user, target] = /^(\w+)@(\w+)$/.exec(Object.entries(SESSIONS).find(([, s]) => s.sessionId === id)![0])!;
          return (!query.includes('user=') || query.includes(`user=${user}`)) && (!query.includes('target=') || query.includes(`target=${target}`));
        });
        expect(listed.map((s) => s.id).sort(), `${caller} ${query}`).toEqual(wanted);
      }
    }
  });

  it('when each caller searches, then the hits are exactly the sessions they may open', async () => {
    const found = async (caller: Caller) => {
      const res = await fetch(`${hub.url}/api/search?q=select`, { headers: { cookie: logins.get(caller)!.cookie } });
      expect(res.status).toBe(200);
      return ((await res.json()) as { sessions: Array<{ sessionId: string }> }).sessions.map((s) => s.sessionId).sort();
    };
    // The index is built in the background: wait until a reviewer finds all three.
    await vi.waitFor(async () => expect(await found('rita')).toHaveLength(3), { timeout: 30_000, interval: 200 });
    for (const caller of CALLERS.filter((c): c is Exclude<Caller, 'nobody'> => c !== 'nobody')) {
      expect(await found(caller), caller).toEqual(SEES[caller].map((n) => SESSIONS[n].sessionId).sort());
    }
  });
});

describe('authorization matrix: socket events', () => {
  const sockets: Array<Socket<ServerToClient, ClientToServer>> = [];
  afterAll(() => sockets.forEach((s) => s.disconnect()));

  async function socketOf(caller: Caller): Promise<Socket<ServerToClient, ClientToServer> | Error> {
    const login = logins.get(caller);
    const socket: Socket<ServerToClient, ClientToServer> = connect(hub.url, { transports: ['websocket'], reconnection: false, ...(login ? { extraHeaders: { cookie: login.cookie } } : {}) });
    sockets.push(socket);
    return new Promise((resolve) => {
      socket.once('connect', () => resolve(socket));
      socket.once('connect_error', (err) => resolve(err));
    });
  }

  it('when each caller watches their own and someone else\'s session, then only what they may see is served', async () => {
    const expected: Record<Caller, string> = {
      nobody: 'refused', alice: 'alice:ok bob:not_found vault:not_found', rita: 'alice:ok bob:ok vault:ok',
      aaron: 'alice:not_found bob:not_found vault:ok', ada: 'alice:ok bob:ok vault:ok',
    };
    for (const caller of CALLERS) {
      const socket = await socketOf(caller);
      if (socket instanceof Error) {
        expect(socket.message).toContain('unauthorized');
        expect(expected[caller]).toBe('refused');
        continue;
      }
      const result = async (sessionId: string) => {
        const ack = await socket.timeout(10_000).emitWithAck('watch', { sessionId });
        return ack.ok ? 'ok' : ack.error.code;
      };
      expect(`alice:${await result(alices.sessionId)} bob:${await result(bobs.sessionId)} vault:${await result(bobsVault.sessionId)}`, caller).toBe(expected[caller]);
      expect(await socket.timeout(10_000).emitWithAck('unwatch', { sessionId: alices.sessionId })).toEqual({ ok: true });
    }
    // Each live view and each refused watch is on record: who, how, through what.
    const entries = await stores.access.auditLog({ actions: ['session.viewed', 'session.refused'], limit: 1000 });
    const live = entries.filter((e) => (e.detail as { how?: string }).how === 'live').map((e) => `${e.actor} ${e.action} ${e.sessionId === alices.sessionId ? 'alice' : e.sessionId === bobs.sessionId ? 'bob' : 'vault'} ${(e.detail as { via?: string }).via ?? '-'}`);
    expect(live).toEqual(expect.arrayContaining([
      'alice session.viewed alice own', 'alice session.refused bob -', 'rita session.viewed bob reviewer', 'aaron session.viewed vault approver', 'aaron session.refused alice -', 'ada session.viewed vault admin',
    ]));
  });

  it('when each caller follows access requests, then they get only those they may see', async () => {
    const expected: Record<Caller, string> = { nobody: 'refused', alice: 'mine', rita: 'mine', aaron: 'mine', ada: 'mine' };
    for (const caller of CALLERS) {
      const socket = await socketOf(caller);
      if (socket instanceof Error) {
        expect(expected[caller]).toBe('refused');
        continue;
      }
      const list = new Promise<number[]>((resolve) => socket.once('access:requests', (p) => resolve(p.requests.map((r) => r.id))));
      expect(await socket.timeout(10_000).emitWithAck('access:subscribe')).toEqual({ ok: true });
      expect(await list, caller).toEqual([alicesRequest]);
    }
  });

  it('when each caller follows the audit log, then only reviewers and admins may', async () => {
    const expected: Record<Caller, string> = { nobody: 'refused', alice: 'forbidden', rita: 'ok', aaron: 'forbidden', ada: 'ok' };
    for (const caller of CALLERS) {
      const socket = await socketOf(caller);
      if (socket instanceof Error) {
        expect(expected[caller]).toBe('refused');
        continue;
      }
      const ack = await socket.timeout(10_000).emitWithAck('audit:subscribe');
      expect(ack.ok ? 'ok' : ack.error.code, caller).toBe(expected[caller]);
      expect(await socket.timeout(10_000).emitWithAck('audit:unsubscribe')).toEqual({ ok: true });
    }
  });
});
