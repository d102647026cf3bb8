// Just-in-time access in real Chromium: alice asks for a jit target on her Access page; aaron's
// inbox shows the request without a reload; he approves it with one click and alice's page shows
// the grant in place; alice connects; aaron revokes the grant from the session's watch view and
// her connection ends at once; the admin reads it all in the audit log. The control path between hub and agent is the in-process bus.
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { createInProcessControlBus } from '../../common/control/in-process-control-bus.ts';
import { ensureDashboardBuilt } from '../../server/http/dashboard.ts';
import { startHarness, type Harness } from '../support/agent-harness.ts';
import { launchChromium, loggedInPage, startHubWithLogin, type HubWithLogin } from '../support/dashboard-browser.ts';

vi.setConfig({ testTimeout: 120_000, hookTimeout: 240_000 });

let h: Harness;
let web: HubWithLogin;
let browser: Browser;

beforeAll(async () => {
  await ensureDashboardBuilt();
  const control = createInProcessControlBus();
  h = await startHarness({ postgresUrl: inject('postgresUrl'), control, target: { access: 'jit' } });
  web = await startHubWithLogin({ dataDir: h.config.dataDir, targets: h.config.targets, bus: h.bus, stores: h.stores, control });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await web?.stop();
  await h?.stop();
});

describe('the Access page', () => {
  it('when alice asks for access, then aaron sees it without a reload, approves it, alice sees the grant in place, and his revoke ends her session', async () => {
    const aaron = await loggedInPage(browser, web.hub.url, 'Aaron', '#/access');
    await expect.poll(() => aaron.getByTestId('access-pending-empty').count(), { timeout: 20_000 }).toBe(1);
    const alice = await loggedInPage(browser, web.hub.url, 'Alice', '#/access');
    await alice.getByTestId('request-reason').fill('INC-7: <b>check</b> the invoices');
    await alice.getByTestId('request-duration').selectOption('30m');
    await alice.getByTestId('request-submit').click();

    // aaron's inbox, pushed: the request with who, what and why (as text, never HTML).
    const row = aaron.getByTestId('access-pending').getByTestId('access-request');
    await expect.poll(() => row.count(), { timeout: 20_000 }).toBe(1);
    expect(await row.innerText()).toContain('INC-7: <b>check</b> the invoices');
    expect(await row.innerText()).toContain('alice');
    // alice cannot decide her own request: no buttons for her.
    await expect.poll(() => alice.getByTestId('access-pending').getByTestId('access-request').count(), { timeout: 20_000 }).toBe(1);
    expect(await alice.getByTestId('approve').count()).toBe(0);

    await row.getByTestId('approve').click();
    // alice's page changes in place.
    const granted = alice.getByTestId('access-grants').getByTestId('access-request');
    await expect.poll(() => granted.count(), { timeout: 20_000 }).toBe(1);
    expect(await granted.getAttribute('data-status')).toBe('granted');
    expect(await granted.innerText()).toContain('approved by aaron');

    // She connects under the grant; aaron revokes it from the watch view.
    const client = await h.client('alice');
    const errors: string[] = [];
    client.on('error', (err) => errors.push(err.message));
    const ended = new Promise<void>((resolve) => client.once('end', () => resolve()));
    await client.query('select 1');
    let sessionId = '';
    await expect.poll(async () => (sessionId = (await h.store.listSessions({ user: 'alice', live: true }))[0]?.id ?? ''), { timeout: 20_000 }).not.toBe('');
    await aaron.goto(`${web.hub.url}/#/watch/${sessionId}`);
    const revoke = aaron.getByTestId('revoke-grant');
    await expect.poll(() => revoke.count(), { timeout: 20_000 }).toBe(1);
    // The reason is asked in the page's own dialog (ReasonDialog), not with window.prompt.
    await revoke.click();
    await aaron.getByTestId('revoke-dialog-reason').fill('done for today');
    await aaron.getByTestId('revoke-dialog-confirm').click();
    await ended;
    expect(errors.join()).toMatch(/access grant #\d+ was revoked by aaron: done for today/);
    await expect.poll(() => alice.getByTestId('access-past').getByTestId('access-request').getAttribute('data-status'), { timeout: 20_000 }).toBe('revoked');

    // The admin reads it all in the audit log.
    const ada = await loggedInPage(browser, web.hub.url, 'Ada', '#/audit');
    await expect.poll(() => ada.getByTestId('audit').innerText(), { timeout: 20_000 }).toContain('access.revoked');
    const log = await ada.getByTestId('audit').innerText();
    for (const action of ['access.requested', 'access.approved', 'access.granted']) expect(log).toContain(action);
    expect(log).toMatch(/Reason\s+done for today/);
  });
});
