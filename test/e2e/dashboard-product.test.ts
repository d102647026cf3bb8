// The dashboard as people meet it, in real Chromium at a laptop's 1440x900 and a phone's 390x844:
// an approver told of a request (the count in the navigation and the tab's title, a desktop
// notification when asked for) approves and
// denies it from the phone, with the reason asked in the page; the request form offers the
// target's durations; a session that does not exist says so and offers nothing; the hub going
// away shows a banner and grey live badges, and its return clears them; times follow the viewer's
// choice of zone, remembered; the `?` overlay lists the shortcuts and `g s` goes to Sessions;
// Sessions and Audit filters live in the link; axe-core finds no serious or critical violation on any page at either size.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { createInProcessControlBus } from '../../common/control/in-process-control-bus.ts';
import { ensureDashboardBuilt } from '../../server/http/dashboard.ts';
import { startHarness, type Harness } from '../support/agent-harness.ts';
import { launchChromium, loggedInPage, startHubWithLogin, type HubWithLogin, type ScreenSize } from '../support/dashboard-browser.ts';
import { seriousViolations } from '../support/axe.ts';

vi.setConfig({ testTimeout: 120_000, hookTimeout: 240_000 });

let h: Harness;
let web: HubWithLogin;
let browser: Browser;
const pages: Page[] = [];

beforeAll(async () => {
  await ensureDashboardBuilt();
  const control = createInProcessControlBus();
  h = await startHarness({
    postgresUrl: inject('postgresUrl'),
    redisUrl: inject('redisUrl'),
    control,
    target: { access: 'jit', approval: { defaultDuration: '30m', maxDuration: '2h' } },
    seed: 'CREATE TABLE invoices (id int, total numeric); INSERT INTO invoices SELECT g, g * 1.5 FROM generate_series(1, 40) g;',
  });
  // Logins in Redis: they outlive a restart of the hub.
  web = await startHubWithLogin({ dataDir: h.config.dataDir, redisUrl: inject('redisUrl'), keyPrefix: h.keyPrefix, targets: h.config.targets, bus: h.bus, stores: h.stores, control });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await web?.stop();
  await h?.stop();
});

async function open(name: string, hash: string, screen: ScreenSize = 'desktop'): Promise<Page> {
  const page = await loggedInPage(browser, web.hub.url, name, hash, screen);
  pages.push(page);
  return page;
}

/** The page is no wider than its window: nothing pushes it sideways. */
const pageWidth = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth);

/** What sticks out past the window's right edge (the innermost elements), to say what to mend. */
const stickingOut = (page: Page) => page.evaluate(() => [...document.querySelectorAll('main *, header *')]
  .filter((el) => el.getBoundingClientRect().right > window.innerWidth + 1 && ![...el.children].some((c) => c.getBoundingClientRect().right > window.innerWidth + 1))
  .slice(0, 3).map((el) => `${el.tagName.toLowerCase()}${el.className ? `.${String(el.className).split(' ').join('.')}` : ''}`));

async function askForAccess(alice: Page, reason: string): Promise<void> {
  await alice.getByTestId('request-reason').fill(reason);
  await alice.getByTestId('request-submit').click();
}

describe('the dashboard at a laptop and a phone', () => {
  it('when alice asks for access, then aaron\'s phone counts it in the menu and the title, and he approves one and denies another with a reason from the phone', async () => {
    const aaron = await open('Aaron', '#/live', 'phone');
    await expect.poll(() => aaron.title()).toBe('Live sessions · Vigil');
    const alice = await open('Alice', '#/access');
    // The form offers the target's durations: its default chosen, nothing past its maximum.
    const duration = alice.getByTestId('request-duration');
    await expect.poll(() => duration.inputValue(), { timeout: 20_000 }).toBe('30m');
    expect(await duration.locator('option').allTextContents()).toEqual(['15m', '30m (default)', '1h', '2h']);

    // aaron at his desk has asked to be notified. Headless Chromium shows no desktop notification,
    // so the page's Notification is a recorder: what the dashboard would have shown.
    const desk = await open('Aaron', '#/access');
    await desk.context().addInitScript(() => {
      const shown: Array<{ title: string; body?: string }> = [];
      Object.assign(window, { shownNotifications: shown });
      window.Notification = class {
        static permission = 'granted';
        static requestPermission = async () => 'granted';
        onclick: (() => void) | null = null;
        constructor(title: string, options?: NotificationOptions) {
          shown.push({ title, body: options?.body });
        }
        close() {}
      } as unknown as typeof Notification;
    });
    await desk.reload();
    await desk.getByTestId('alerts-toggle').check();

    await askForAccess(alice, 'INC-7: check the invoices');
    await expect.poll(() => desk.evaluate(() => (window as unknown as { shownNotifications: unknown[] }).shownNotifications), { timeout: 20_000 })
      .toEqual([{ title: 'Access request #1', body: 'alice asks for access to pg: INC-7: check the invoices' }]);
    await expect.poll(() => aaron.getByTestId('menu-count').textContent(), { timeout: 20_000 }).toContain('1');
    await expect.poll(() => aaron.title()).toBe('(1) Live sessions · Vigil');

    // On the phone the navigation is behind Menu; everything fits the width.
    await aaron.getByTestId('menu-toggle').tap();
    await aaron.getByTestId('nav-access').tap();
    const card = aaron.getByTestId('access-pending').getByTestId('access-request');
    await expect.poll(() => card.count(), { timeout: 20_000 }).toBe(1);
    expect(await card.innerText()).toContain('INC-7: check the invoices');
    expect(await pageWidth(aaron)).toBeLessThanOrEqual(390);
    const approve = card.getByTestId('approve');
    const box = (await approve.boundingBox())!;
    expect(box.x + box.width).toBeLessThanOrEqual(390);
    expect(box.height).toBeGreaterThanOrEqual(44); // a touch target
    await approve.tap();
    const granted = alice.getByTestId('access-grants').getByTestId('access-request');
    await expect.poll(() => granted.count(), { timeout: 20_000 }).toBe(1);
    await expect.poll(() => aaron.title()).toBe('Access · Vigil');

    // A second request: denied, the reason asked in the page (no window.prompt).
    aaron.on('dialog', () => {
      throw new Error('the page used a browser prompt');
    });
    await askForAccess(alice, 'INC-8: one more look');
    await expect.poll(() => aaron.getByTestId('access-count').textContent(), { timeout: 20_000 }).toContain('1');
    await card.getByTestId('deny').tap();
    const dialog = aaron.getByTestId('access-reason');
    await expect.poll(() => dialog.isVisible()).toBe(true);
    await aaron.getByTestId('access-reason-reason').fill('one look is enough');
    await aaron.getByTestId('access-reason-confirm').tap();
    await expect.poll(() => dialog.isVisible()).toBe(false);
    const denied = alice.getByTestId('access-past').getByTestId('access-request').filter({ hasText: 'INC-8' });
    await expect.poll(() => denied.getAttribute('data-status'), { timeout: 20_000 }).toBe('denied');
    expect(await denied.innerText()).toContain('one look is enough');
    // "asked … ago" ticks.
    const asked = denied.getByTestId('asked');
    const first = await asked.textContent();
    await expect.poll(() => asked.textContent(), { timeout: 15_000 }).not.toBe(first);
  });

  it('when a session id does not exist, then the watch view says not found and offers no live badge and no Kill', async () => {
    const rita = await open('Rita Reviewer', '#/watch/00000000-0000-4000-8000-000000000000');
    await expect.poll(() => rita.getByTestId('watch-not-found').count(), { timeout: 20_000 }).toBe(1);
    expect(await rita.getByTestId('kill').count()).toBe(0);
    expect(await rita.getByText('Waiting for events').count()).toBe(0);
    expect(await rita.locator('.badge.live').count()).toBe(0);
  });

  it('when the hub stops, then the Live page shows a banner and grey badges, and its return clears them', async () => {
    const client = await h.client('alice'); // under the grant aaron gave
    await client.query('select count(*) from invoices');
    const rita = await open('Rita Reviewer', '#/live');
    const badge = rita.getByTestId('live-badge');
    await expect.poll(() => badge.textContent(), { timeout: 20_000 }).toBe('live');
    await web.restart(async () => {
      await expect.poll(() => rita.getByTestId('hub-lost').count(), { timeout: 20_000 }).toBe(1);
      expect(await badge.textContent()).toContain('not live');
      expect(await badge.evaluate((el) => getComputedStyle(el).backgroundColor)).toBe('rgb(227, 230, 236)');
    });
    await expect.poll(() => rita.getByTestId('hub-back').count(), { timeout: 30_000 }).toBe(1);
    expect(await rita.getByTestId('hub-lost').count()).toBe(0);
    await expect.poll(() => badge.textContent(), { timeout: 20_000 }).toBe('live');
    await client.end();
  });

  it('when the viewer picks UTC, then times say UTC and the choice outlives a reload; ? lists the shortcuts and g s goes to Sessions', async () => {
    const rita = await open('Rita Reviewer', '#/access');
    const zone = rita.getByTestId('zone-toggle');
    if ((await zone.textContent()) !== 'UTC') await zone.click();
    await expect.poll(() => zone.textContent()).toBe('UTC');
    await expect.poll(() => rita.getByTestId('asked').first().getAttribute('title'), { timeout: 20_000 }).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/);
    await rita.reload();
    await expect.poll(() => rita.getByTestId('zone-toggle').textContent(), { timeout: 20_000 }).toBe('UTC');

    await rita.locator('body').press('?');
    await expect.poll(() => rita.getByTestId('shortcuts').isVisible()).toBe(true);
    expect(await rita.getByTestId('shortcuts').innerText()).toContain('Go to Sessions');
    await rita.keyboard.press('Escape');
    await expect.poll(() => rita.getByTestId('shortcuts').isVisible()).toBe(false);
    await rita.keyboard.press('g');
    await rita.keyboard.press('s');
    await expect.poll(() => rita.title()).toBe('Sessions · Vigil');
  });

  it('when a reviewer filters Sessions and the Audit log, then the filter is in the link: it matches parts of names, survives a reload, and Back returns to the one before', async () => {
    const rita = await open('Rita Reviewer', '#/sessions');
    await rita.getByTestId('sessions-user').fill('LIC');
    await rita.getByTestId('sessions-target').fill('p');
    await rita.getByTestId('sessions-submit').click();
    await expect.poll(() => rita.url()).toContain('#/sessions?user=LIC&target=p');
    const rows = rita.getByTestId('session-row');
    await expect.poll(() => rows.count(), { timeout: 20_000 }).toBeGreaterThan(0);
    expect(await rows.first().innerText()).toContain('alice');
    await rita.reload();
    await expect.poll(() => rita.getByTestId('sessions-user').inputValue(), { timeout: 20_000 }).toBe('LIC');
    await expect.poll(() => rows.count(), { timeout: 20_000 }).toBeGreaterThan(0);
    await rita.getByTestId('sessions-user').fill('nobody-by-that-name');
    await rita.getByTestId('sessions-submit').click();
    await expect.poll(() => rita.getByTestId('sessions-empty').count(), { timeout: 20_000 }).toBe(1);
    await rita.goBack();
    await expect.poll(() => rita.getByTestId('sessions-user').inputValue(), { timeout: 20_000 }).toBe('LIC');

    await rita.goto(`${web.hub.url}/#/audit`);
    await rita.getByTestId('audit-action').fill('access.');
    await rita.getByTestId('audit-submit').click();
    await expect.poll(() => rita.url()).toContain('action=access.');
    await rita.reload();
    await expect.poll(() => rita.getByTestId('audit-action').inputValue(), { timeout: 20_000 }).toBe('access.');
    const entries = rita.getByTestId('audit-entry');
    await expect.poll(() => entries.count(), { timeout: 20_000 }).toBeGreaterThan(0);
    for (const text of await entries.allInnerTexts()) expect(text).toContain('access.');
  });

  it('when axe checks every page at both sizes, then it finds no serious or critical violation', async () => {
    // alice's session of the test before, recorded and ended.
    const [recorded] = await h.store.listSessions({ user: 'alice' });
    const hashes = ['#/live', '#/sessions', '#/search?q=invoices', '#/shared', '#/connect', '#/access', '#/audit', '#/locks', '#/trust',
      `#/watch/${recorded.id}`, `#/play/${recorded.id}`];
    const found: string[] = [];
    for (const screen of ['desktop', 'phone'] as const) {
      const ada = await open('Ada', '#/live', screen);
      for (const hash of hashes) {
        await ada.goto(`${web.hub.url}/${hash}`);
        await ada.waitForLoadState('networkidle');
        await expect.poll(() => ada.locator('main').innerText(), { timeout: 20_000 }).not.toMatch(/^\s*Loading…\s*$/);
        for (const v of await seriousViolations(ada)) found.push(`${screen} ${hash}: ${v.impact} ${v.id} (${v.help}) at ${v.targets.join(', ')}`);
        if (screen === 'phone') {
          const width = await pageWidth(ada);
          if (width > 390) found.push(`${screen} ${hash}: the page is ${width} px wide: ${(await stickingOut(ada)).join(', ')}`);
        }
      }
    }
    expect(found).toEqual([]);
  });
});
