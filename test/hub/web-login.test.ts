// Dashboard login against a real OpenID provider (oidc-provider, the one `vigil dev` runs): the
// authorization code flow end to end, roles from the groups claim, the session cookie, CSRF on
// logout, and who may read which recordings.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createInProcessBus } from '../../common/bus/in-process-bus.ts';
import type { EventBus } from '../../common/bus/event-bus.ts';
import { parseConfig } from '../../common/config/load-config.ts';
import { silentLogger } from '../../common/log.ts';
import { keyPaths, TokenVerifier } from '../../common/tokens.ts';
import { startDevIdentityProvider, type DevIdentityProvider } from '../../server/dev-idp/dev-identity-provider.ts';
import { DEMO_ROLE_MAP, DEMO_USERS } from '../../server/dev-idp/demo-users.ts';
import { startHub, type Hub } from '../../server/hub.ts';
import { createMemoryStore, type HubStores } from '../../server/store/create-store.ts';
import type { RecordingStore } from '../../server/recordings/store/recording-store.ts';
import { freePort } from '../support/free-port.ts';
import { browserLike, loginThroughProvider, type BrowserLike } from '../support/oidc-login-client.ts';
import { fakeSession } from './event-fixtures.ts';

vi.setConfig({ testTimeout: 60_000, hookTimeout: 180_000 });

const CLIENT = { clientId: 'vigil-test', clientSecret: 'test-secret-of-the-hub' };
let dataDir: string;
let idp: DevIdentityProvider;
let hub: Hub;
let bus: EventBus;
let stores: HubStores;
let store: RecordingStore;
let verifier: TokenVerifier;
const aliceSession = fakeSession({ user: 'alice', queries: 1 });
const ritaSession = fakeSession({ user: 'rita', queries: 1 });

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-login-'));
  const hubPort = await freePort();
  const hubUrl = `http://127.0.0.1:${hubPort}`;
  idp = await startDevIdentityProvider({
    port: 0,
    client: { ...CLIENT, redirectUris: [`${hubUrl}/auth/callback`] },
    users: [...DEMO_USERS, { username: 'nobody', name: 'No Groups', email: 'nobody@vigil.example', groups: ['other'] }],
  });
  bus = createInProcessBus();
  stores = await createMemoryStore();
  store = stores.recordings;
  await store.append([...aliceSession.events, ...ritaSession.events]);
  const config = parseConfig({
    dataDir,
    targets: [{ name: 'demo', protocol: 'postgres', listen: '127.0.0.1:15432' }],
    hub: {
      listen: `127.0.0.1:${hubPort}`,
      auth: { oidc: { issuer: idp.issuer, clientId: CLIENT.clientId, roles: { claim: 'groups', map: DEMO_ROLE_MAP } } },
    },
  });
  hub = await startHub({ config, bus, stores, logger: silentLogger, oidcClientSecret: CLIENT.clientSecret });
  verifier = await TokenVerifier.fromPem(fs.readFileSync(keyPaths(dataDir).publicKey, 'utf8'));
});

afterAll(async () => {
  await hub?.stop();
  await idp?.stop();
  await stores?.close();
  await bus?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

async function loggedIn(username: string, returnTo = '/'): Promise<BrowserLike> {
  const browser = browserLike();
  const { response, visited } = await loginThroughProvider(browser, hub.url, username, returnTo);
  expect(response.status, `login of ${username}: ${visited.join(' -> ')}`).toBe(303);
  return browser;
}

const json = async (res: Response) => ({ status: res.status, body: await res.json() as Record<string, unknown> });

describe('dashboard login through OpenID Connect', () => {
  it('when a reviewer logs in, then the hub knows them with the role their group maps to, by an httpOnly cookie', async () => {
    const browser = browserLike();
    const { response, visited } = await loginThroughProvider(browser, hub.url, 'rita', '/sessions');
    expect(visited[1]).toMatch(new RegExp(`^${idp.issuer}/auth\\?`));
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe('/sessions');
    const cookie = response.headers.getSetCookie().find((c) => c.startsWith('vigil.sid='));
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Lax/i);

    const me = await json(await browser.fetch(`${hub.url}/api/me`));
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ user: 'rita', roles: ['reviewer'], via: 'login', name: 'Rita Reviewer', email: 'rita@vigil.example' });
    expect(me.body.csrfToken).toEqual(expect.any(String));
  });

  it('when someone in two groups logs in, then they get both roles', async () => {
    const browser = await loggedIn('aaron');
    expect((await json(await browser.fetch(`${hub.url}/api/me`))).body.roles).toEqual(['approver', 'engineer']);
  });

  it('when someone has no group with a Vigil role, then the login is refused', async () => {
    const browser = browserLike();
    const { response } = await loginThroughProvider(browser, hub.url, 'nobody');
    expect(response.status).toBe(403);
    expect(await response.text()).toContain('no group that has a Vigil role');
    expect((await browser.fetch(`${hub.url}/api/me`)).status).toBe(401);
  });

  it('when the callback brings a forged code or an error from the URL, then a clear 403 with a fixed message, nothing of the URL echoed', async () => {
    // A login started for real, so the state matches and the forged code reaches the provider.
    const browser = browserLike();
    const started = await browser.fetch(`${hub.url}/auth/login`);
    const state = new URL(started.headers.get('location')!).searchParams.get('state')!;
    const forged = await browser.fetch(`${hub.url}/auth/callback?code=forged-${'x'.repeat(20)}&state=${encodeURIComponent(state)}`);
    expect(forged.status).toBe(403);
    const text = await forged.text();
    expect(text).toContain('login refused: the identity provider did not accept this login');
    expect(text).not.toContain('forged');

    const evil = '<script>alert(1)</script> call +1-555';
    for (const error of ['access_denied', 'server_error']) {
      const res = await browser.fetch(`${hub.url}/auth/callback?error=${error}&error_description=${encodeURIComponent(evil)}&state=${encodeURIComponent(state)}`);
      expect(res.status, error).toBe(403);
      const body = await res.text();
      expect(body).toContain('login refused');
      expect(body).not.toContain('script');
      expect(body).not.toContain('555');
      expect(body).not.toContain(error);
    }
  });

  it('when returnTo points elsewhere than this hub, then the login lands on / instead', async () => {
    for (const target of ['https://evil.example/', '//evil.example/x', '/\\evil.example']) {
      const browser = browserLike();
      const { response } = await loginThroughProvider(browser, hub.url, 'rita', target);
      expect(response.headers.get('location')).toBe('/');
    }
  });

  it('when an engineer reads recordings, then only their own sessions exist for them; a reviewer sees all', async () => {
    const alice = await loggedIn('alice');
    const list = await json(await alice.fetch(`${hub.url}/api/sessions`));
    expect((list.body.sessions as Array<{ user: string }>).map((s) => s.user)).toEqual(['alice']);
    expect((await json(await alice.fetch(`${hub.url}/api/sessions?user=rita`))).body.sessions).toEqual([]);
    expect((await alice.fetch(`${hub.url}/api/sessions/${aliceSession.sessionId}/events`)).status).toBe(200);
    for (const suffix of ['', '/events', '/export?format=jsonl']) {
      expect((await alice.fetch(`${hub.url}/api/sessions/${ritaSession.sessionId}${suffix}`)).status).toBe(404);
    }
    expect((await alice.fetch(`${hub.url}/api/metrics`)).status).toBe(403);

    const rita = await loggedIn('rita');
    const all = await json(await rita.fetch(`${hub.url}/api/sessions`));
    expect((all.body.sessions as Array<{ user: string }>).map((s) => s.user).sort()).toEqual(['alice', 'rita']);
    expect((await rita.fetch(`${hub.url}/api/sessions/${aliceSession.sessionId}`)).status).toBe(200);
  });

  it('when logging out, then the CSRF token is required, afterwards the cookie is worthless, and the provider logs out too', async () => {
    const browser = await loggedIn('ada');
    const { body } = await json(await browser.fetch(`${hub.url}/api/me`));
    const oldCookie = browser.jar.header();
    expect((await browser.fetch(`${hub.url}/auth/logout`, { method: 'POST' })).status).toBe(403);
    expect((await browser.fetch(`${hub.url}/auth/logout`, { method: 'POST', headers: { 'x-csrf-token': 'wrong' } })).status).toBe(403);
    expect((await browser.fetch(`${hub.url}/api/me`)).status).toBe(200);
    const out = await json(await browser.fetch(`${hub.url}/auth/logout`, { method: 'POST', headers: { 'x-csrf-token': String(body.csrfToken) } }));
    expect(out.status).toBe(200);
    expect((await fetch(`${hub.url}/api/me`, { headers: { cookie: oldCookie } })).status).toBe(401);

    // The provider asks to confirm, then sends the browser back to the hub.
    const redirect = String(out.body.redirect);
    expect(redirect.startsWith(`${idp.issuer}/`)).toBe(true);
    const confirmPage = await browser.fetch(redirect);
    const html = await confirmPage.text();
    const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(html)?.[1];
    expect(action && xsrf, html).toBeTruthy();
    const confirmed = await browser.fetch(new URL(action!, redirect).toString(), {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ xsrf: xsrf!, logout: 'yes' }).toString(),
    });
    expect(confirmed.headers.get('location')).toBe(`${hub.url}/auth/logged-out`);
    expect((await browser.fetch(`${hub.url}/auth/logged-out`)).status).toBe(200);

    // Logging in again asks who, instead of passing through the provider's old session.
    const again = await loginThroughProvider(browser, hub.url, 'ada');
    expect(again.visited.some((u) => /\/interaction\/[^/]+\/login$/.test(u))).toBe(true);
  });

  it('when an engineer asks for a connection string, then it names them and the target, and needs the CSRF token', async () => {
    const alice = await loggedIn('alice');
    const targets = await json(await alice.fetch(`${hub.url}/api/targets`));
    expect(targets.body.targets).toEqual([{ name: 'demo', protocol: 'postgres', address: '127.0.0.1:15432', recording: 'required', access: 'open', grant: { defaultDuration: '1h', maxDuration: '8h' } }]);
    expect((await alice.fetch(`${hub.url}/api/targets/demo/connection`, { method: 'POST' })).status).toBe(403);
    const { body: me } = await json(await alice.fetch(`${hub.url}/api/me`));
    const res = await json(await alice.fetch(`${hub.url}/api/targets/demo/connection`, { method: 'POST', headers: { 'x-csrf-token': String(me.csrfToken) } }));
    expect(res.status).toBe(200);
    const uri = new URL(String(res.body.uri));
    expect(uri.username).toBe('alice');
    expect(`${uri.hostname}:${uri.port}${uri.pathname}`).toBe('127.0.0.1:15432/demo');
    const claims = await verifier.verifyConnection(decodeURIComponent(uri.password));
    expect(claims).toMatchObject({ user: 'alice', target: 'demo' });
    expect(res.body.command).toBe(`psql '${res.body.uri}'`);
    expect((await alice.fetch(`${hub.url}/api/targets/nope/connection`, { method: 'POST', headers: { 'x-csrf-token': String(me.csrfToken) } })).status).toBe(404);

    // A reviewer watches; connecting is not theirs to do.
    const rita = await loggedIn('rita');
    expect((await rita.fetch(`${hub.url}/api/targets`)).status).toBe(403);
  });

  it('when a cookie is forged or absent, then the API answers 401', async () => {
    expect((await fetch(`${hub.url}/api/me`)).status).toBe(401);
    expect((await fetch(`${hub.url}/api/me`, { headers: { cookie: 'vigil.sid=s%3Aforged.signature' } })).status).toBe(401);
  });
});
