// A web console behind an HTTP target in real Chromium: the browser, sent to the hub because it
// holds no login, logs in with the dev OpenID provider, comes back with a cookie the agent set for
// this target, and the console's page and its own API calls go through, recorded with the cookie
// masked. The token never shows in a URL.
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { freePort } from '../support/free-port.ts';
import { launchChromium, startHubWithLogin, type HubWithLogin } from '../support/dashboard-browser.ts';
import { startHttpHarness, type HttpHarness } from '../support/http-harness.ts';
import { ofType } from '../support/recordings.ts';

vi.setConfig({ testTimeout: 90_000, hookTimeout: 120_000 });

let h: HttpHarness;
let web: HubWithLogin;
let browser: Browser;

beforeAll(async () => {
  const [hubPort, agentPort] = [await freePort(), await freePort()];
  h = await startHttpHarness({ hub: { publicUrl: `http://127.0.0.1:${hubPort}` }, api: { listen: `127.0.0.1:${agentPort}`, idleTimeout: '2s' } });
  web = await startHubWithLogin({ dataDir: h.dir, targets: h.config.targets, bus: h.bus, stores: h.stores, port: hubPort });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await web?.stop();
  await h?.stop();
});

describe('a web console through the agent', () => {
  it('when a person opens the console, then they log in at the hub, come back with a cookie, and the page and its API calls work and are recorded', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const urls: string[] = [];
    page.on('request', (r) => urls.push(r.url()));
    await page.goto(`${h.url()}/console`);
    // Sent to the hub, then to the provider, which asks who.
    await page.getByRole('button', { name: /^Alice/ }).click();
    await page.waitForURL(`${h.url()}/console`);
    await expect.poll(() => page.locator('#pods li').allTextContents(), { timeout: 15_000 }).toEqual(['web-1']);
    // (Cookies do not tell ports apart: the hub's and the provider's, on the same host here, are there too.)
    const cookies = (await context.cookies(h.url())).filter((c) => c.name.startsWith('vigil_'));
    expect(cookies).toEqual([expect.objectContaining({ name: 'vigil_api', httpOnly: true, sameSite: 'Lax' })]);
    expect((await context.cookies(h.url())).map((c) => c.name)).toContain('vigil.sid');
    // The token went by POST, never in a URL.
    expect(urls.some((u) => u.includes(cookies[0].value.split('.')[1]))).toBe(false);
    await context.close();

    const events = await h.sessionWhere((e) => e.type === 'http.request' && e.data.path === '/api/v1/namespaces/default/pods');
    expect(events[0]).toMatchObject({ type: 'session.start', user: 'alice', data: { auth: 'cookie' } });
    const requests = ofType(events, 'http.request');
    expect(requests.map((r) => r.data.path)).toEqual(expect.arrayContaining(['/console', '/api/v1/namespaces/default/pods']));
    for (const r of requests) {
      const cookie = r.data.headers.find(([name]) => name.toLowerCase() === 'cookie');
      expect(cookie?.[1]).toContain('vigil_api=[CREDENTIAL]');
      expect(cookie?.[1]).not.toMatch(/=(?!\[CREDENTIAL\])[^;]+/);
    }
    expect(JSON.stringify(events)).not.toContain(cookies[0].value.split('.')[2]);
    // Neither the agent's login nor the hub's dashboard login reaches the target.
    const seen = h.upstream.seen.filter((s) => s.url === '/console' || s.url === '/api/v1/namespaces/default/pods');
    expect(seen.length).toBeGreaterThanOrEqual(2);
    for (const s of seen) {
      expect(s.credentialOk).toBe(true);
      expect(s.headers.cookie ?? '').not.toMatch(/vigil/);
    }
  });

  it('when a script (not a browser) calls without a login, then it gets 401, not a redirect', async () => {
    const res = await fetch(`${h.url()}/console`, { redirect: 'manual' });
    expect(res.status).toBe(401);
  });
});
