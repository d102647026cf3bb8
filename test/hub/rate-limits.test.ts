// Per-address rate limits at the hub's edge, with small budgets: logins (/auth/login and
// /auth/callback, against the dev OpenID provider), connection tokens, and failed API-token
// authentications. A second loopback address (127.0.0.2) stands for another client.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../common/config/load-config.ts';
import { OidcSettings } from '../../common/config/schema.ts';
import { silentLogger } from '../../common/log.ts';
import { ensureSigningKey, TokenSigner, TokenVerifier } from '../../common/tokens.ts';
import { startDevIdentityProvider, type DevIdentityProvider } from '../../server/dev-idp/dev-identity-provider.ts';
import { DEMO_ROLE_MAP } from '../../server/dev-idp/demo-users.ts';
import { createApiApp } from '../../server/http/app.ts';
import { serveApp, type ServedApp } from '../support/serve-app.ts';
import { createWebLogin } from '../../server/http/web-login.ts';
import { createMemoryStore, type HubStores } from '../../server/store/create-store.ts';
import type { RecordingStore } from '../../server/recordings/store/recording-store.ts';
import { freePort } from '../support/free-port.ts';

const CLIENT = { clientId: 'vigil-limits', clientSecret: 'limits-secret' };
let stores: HubStores;
let store: RecordingStore;
let idp: DevIdentityProvider;
let served: ServedApp | undefined;
let port: number;
let dataDir: string;
let signer: TokenSigner;

interface Answer {
  status: number;
  retryAfter: string | undefined;
  body: string;
}

/** One request from a chosen local address (fetch cannot pick it). */
function call(method: string, pathAndQuery: string, opts: { from?: string; token?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1', port, method, path: pathAndQuery, localAddress: opts.from ?? '127.0.0.1',
      headers: opts.token ? { authorization: `Bearer ${opts.token}` } : {},
    }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'], body }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function statuses(n: number, method: string, pathAndQuery: string, opts: { from?: string; token?: string } = {}): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((await call(method, pathAndQuery, opts)).status);
  return out;
}

function expectRateLimited(answer: Answer): void {
  expect(answer.status).toBe(429);
  expect(Number(answer.retryAfter)).toBeGreaterThanOrEqual(1);
  expect(Number(answer.retryAfter)).toBeLessThanOrEqual(60);
  expect(JSON.parse(answer.body)).toEqual({ error: { code: 'rate_limited', message: expect.stringContaining('try again in') } });
}

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-limits-'));
  port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  idp = await startDevIdentityProvider({ port: 0, client: { ...CLIENT, redirectUris: [`${base}/auth/callback`] } });
  stores = await createMemoryStore();
  store = stores.recordings;
  const keys = ensureSigningKey(dataDir);
  signer = await TokenSigner.fromPem(keys.privateKeyPem);
  const config = parseConfig({ dataDir, targets: [{ name: 'demo', protocol: 'postgres', listen: '127.0.0.1:15432' }] });
  const app = createApiApp({
    stores,
    verifier: await TokenVerifier.fromPem(keys.publicKeyPem),
    logger: silentLogger,
    targets: { config, signer, tokenTtlMs: 60_000 },
    metricsRegistry: new Registry(),
    webLogin: createWebLogin({
      oidc: OidcSettings.parse({ issuer: idp.issuer, clientId: CLIENT.clientId, roles: { map: DEMO_ROLE_MAP } }),
      clientSecret: CLIENT.clientSecret,
      publicUrl: base,
      sessionSecret: 'a session secret for the rate limit test',
      sessionTtlMs: 60_000,
      logger: silentLogger,
    }),
    rateLimits: { loginsPerMinute: 3, tokensPerMinute: 2, failedAuthPerMinute: 3 },
  });
  served = await serveApp(app, port);
  expect(served.url).toBe(base);
});

afterAll(async () => {
  await served?.close();
  await idp?.stop();
  await stores?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('rate limits per source address', () => {
  it('when one address starts more logins than its budget, then it gets 429 rate_limited with Retry-After, and another address still logs in', async () => {
    expect(await statuses(3, 'GET', '/auth/login')).toEqual([302, 302, 302]);
    expectRateLimited(await call('GET', '/auth/login'));
    expect((await call('GET', '/auth/login', { from: '127.0.0.2' })).status).toBe(302);
    // The provider's callback has a budget of its own: guessing codes there is limited too.
    const callbacks = await statuses(3, 'GET', '/auth/callback?code=guess&state=guess');
    expect(callbacks.every((s) => s !== 429 && s >= 300)).toBe(true);
    expectRateLimited(await call('GET', '/auth/callback?code=guess&state=guess'));
  });

  it('when one address asks for more connection tokens than its budget, then 429; another address is served', async () => {
    const alice = await signer.apiToken('alice', 'engineer');
    expect(await statuses(2, 'POST', '/api/targets/demo/connection', { token: alice })).toEqual([200, 200]);
    expectRateLimited(await call('POST', '/api/targets/demo/connection', { token: alice }));
    expect((await call('POST', '/api/targets/demo/connection', { token: alice, from: '127.0.0.2' })).status).toBe(200);
  });

  it('when one address fails API authentication more than its budget, then it is refused even with a valid token; valid tokens spend nothing', async () => {
    const admin = await signer.apiToken('operator', 'admin');
    const from = '127.0.0.3';
    expect(new Set(await statuses(10, 'GET', '/api/sessions', { token: admin, from }))).toEqual(new Set([200]));
    expect(await statuses(3, 'GET', '/api/sessions', { token: 'not-a-token', from })).toEqual([401, 401, 401]);
    expectRateLimited(await call('GET', '/api/sessions', { token: 'not-a-token', from }));
    expectRateLimited(await call('GET', '/api/sessions', { token: admin, from }));
    expectRateLimited(await call('GET', '/metrics', { token: admin, from }));
    // Without a token nothing is guessed: the usual 401.
    expect((await call('GET', '/api/sessions', { from })).status).toBe(401);
    expect((await call('GET', '/api/sessions', { token: admin })).status).toBe(200);
  });

  it('when the config sets no limits, then the defaults apply; a limit of 0 is refused', () => {
    expect(parseConfig({}).hub.rateLimits).toEqual({ loginsPerMinute: 60, tokensPerMinute: 60, failedAuthPerMinute: 30 });
    expect(parseConfig({ hub: { rateLimits: { tokensPerMinute: 5 } } }).hub.rateLimits.tokensPerMinute).toBe(5);
    expect(() => parseConfig({ hub: { rateLimits: { loginsPerMinute: 0 } } })).toThrow(/loginsPerMinute/);
  });
});
