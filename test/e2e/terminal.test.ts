// Live terminals in real Chromium: an engineer works in the demo shell through the agent; a
// reviewer watches it in the dashboard's terminal and sees typed output appear; a reviewer who
// joins late sees the whole current screen at once. The terminal is drawn under the strict
// Content-Security-Policy (no violation), and nothing typed in the viewer reaches the shell.
import type { Browser, Page } from 'playwright-core';
import type ssh2 from 'ssh2';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ensureDashboardBuilt } from '../../server/http/dashboard.ts';
import { launchChromium, loggedInPage, startHubWithLogin, type HubWithLogin } from '../support/dashboard-browser.ts';
import { openShellThroughAgent, startSshHarness, type SshHarness } from '../support/ssh-harness.ts';

vi.setConfig({ testTimeout: 120_000, hookTimeout: 240_000 });

let h: SshHarness;
let web: HubWithLogin;
let browser: Browser;
let conn: ssh2.Client | undefined;

beforeAll(async () => {
  await ensureDashboardBuilt();
  h = await startSshHarness({ demoShell: true });
  web = await startHubWithLogin({ dataDir: h.dir, targets: h.config.targets, bus: h.bus, stores: h.stores });
  browser = await launchChromium();
});

afterAll(async () => {
  conn?.end();
  await browser?.close();
  await web?.stop();
  await h?.stop();
});

/** A shell in a pty through the agent, as alice; returns a way to type into it and what it showed. */
async function openShell(): Promise<{ type(text: string): void; shown(): string }> {
  const shell = await openShellThroughAgent(h, 'alice', 'demo-shell', { term: 'xterm-256color', cols: 90, rows: 20 });
  conn = shell.conn;
  return { type: (text) => shell.stream.write(text), shown: shell.shown };
}

/** A watching page with a record of its CSP violations. */
function cspViolations(page: Page): string[] {
  const seen: string[] = [];
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) seen.push(m.text());
  });
  return seen;
}

const screenText = (page: Page) => page.getByTestId('terminal').locator('.xterm-rows').innerText();

describe('live terminals in the dashboard', () => {
  it('when a reviewer watches a live shell, then typed output appears; a late joiner sees the current screen at once', async () => {
    const shell = await openShell();
    shell.type('printf "first-%s\\n" screen\r');
    await expect.poll(shell.shown, { timeout: 20_000 }).toContain('first-screen');

    const rita = await loggedInPage(browser, web.hub.url, 'Rita Reviewer');
    const ritaCsp = cspViolations(rita);
    await rita.getByTestId('live-sessions').getByRole('row').filter({ hasText: 'demo-shell' }).first().getByRole('link', { name: 'Watch' }).click();
    await expect.poll(() => screenText(rita), { timeout: 30_000 }).toContain('first-screen');

    shell.type('echo typed-$((6*7))\r');
    await expect.poll(() => screenText(rita), { timeout: 30_000 }).toContain('typed-42');
    // What was typed is in the list beside the terminal.
    await expect.poll(() => rita.getByTestId('events').textContent(), { timeout: 30_000 }).toContain('echo typed-$((6*7))');

    // A viewer's keystrokes go nowhere.
    await rita.getByTestId('terminal').click();
    await rita.keyboard.type('echo from-the-viewer\n');

    // Remy joins late: the screen is there at once, with everything on it.
    const remy = await loggedInPage(browser, web.hub.url, 'Remy Reviewer', rita.url().slice(web.hub.url.length + 1));
    const remyCsp = cspViolations(remy);
    await expect.poll(() => screenText(remy), { timeout: 30_000 }).toContain('typed-42');
    expect(await screenText(remy)).toContain('first-screen');
    await expect.poll(() => rita.getByTestId('viewers').textContent(), { timeout: 30_000 }).toContain('Remy Reviewer');

    shell.type('echo after-both\r');
    await expect.poll(() => screenText(remy), { timeout: 30_000 }).toContain('after-both');
    await expect.poll(() => screenText(rita), { timeout: 30_000 }).toContain('after-both');

    expect(shell.shown()).not.toContain('from-the-viewer');
    expect([...ritaCsp, ...remyCsp]).toEqual([]);
  });
});
