// The live watch view in real Chromium, as a product: a pinned header with the session's facts and
// state, one row per statement (psql's `\d` as one row), a 1,000-row result shown by its first
// rows, nothing that widens the page (on a laptop and on a phone), an ended session without
// Pause, and "Session not found" for an id that names nothing this person may see.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { createInProcessControlBus } from '../../common/control/in-process-control-bus.ts';
import { ensureDashboardBuilt } from '../../server/http/dashboard.ts';
import { startHarness, type Harness } from '../support/agent-harness.ts';
import { seriousViolations } from '../support/axe.ts';
import { launchChromium, loggedInPage, startHubWithLogin, type HubWithLogin, type ScreenSize } from '../support/dashboard-browser.ts';
import { openShellThroughAgent, startSshHarness, type SshHarness } from '../support/ssh-harness.ts';

vi.setConfig({ testTimeout: 120_000, hookTimeout: 240_000 });

let harness: Harness;
let web: HubWithLogin;
let browser: Browser;
const clients: ChildProcessWithoutNullStreams[] = [];
const control = createInProcessControlBus();

beforeAll(async () => {
  await ensureDashboardBuilt();
  harness = await startHarness({
    postgresUrl: inject('postgresUrl'),
    redisUrl: inject('redisUrl'),
    control,
    target: { maxRows: 2000 },
    seed: `CREATE TABLE customers (id serial primary key, name text not null, email text unique, note text);
           CREATE INDEX ON customers (name);
           INSERT INTO customers (name, email, note) VALUES ('Jo Doe', 'jo.doe@example.com', repeat('wide ', 200));`,
  });
  web = await startHubWithLogin({ dataDir: harness.config.dataDir, redisUrl: inject('redisUrl'), keyPrefix: harness.keyPrefix, targets: harness.config.targets, bus: harness.bus, stores: harness.stores, control });
  browser = await launchChromium();
});

afterAll(async () => {
  for (const c of clients) c.kill();
  await browser?.close();
  await web?.stop();
  await harness?.stop();
});

/** psql through the agent as `user`, reading what the test writes; resolves with the new session's id. */
async function psqlSession(user: string): Promise<{ id: string; send: (line: string) => void; quit: () => void }> {
  const known = new Set((await harness.store.listSessions({ user })).map((s) => s.id));
  const psql = spawn('psql', ['-X', '-q', await harness.uri(user)], { env: { ...process.env, PGCONNECT_TIMEOUT: '10' } });
  clients.push(psql);
  psql.stdout.resume();
  psql.stderr.resume();
  const send = (line: string) => psql.stdin.write(`${line}\n`);
  send('select 1 as warmup;');
  let id = '';
  await expect.poll(async () => (id = (await harness.store.listSessions({ user, live: true })).find((s) => !known.has(s.id))?.id ?? ''), { timeout: 30_000 }).not.toBe('');
  return { id, send, quit: () => psql.stdin.end() };
}

const watchAs = (name: string, id: string, screen?: ScreenSize): Promise<Page> => loggedInPage(browser, web.hub.url, name, `#/watch/${encodeURIComponent(id)}`, screen);

/** The page scrolls sideways (something recorded widened it). */
const pageIsWide = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);

describe('the live watch view', () => {
  it('when psql describes a table and reads 1,000 wide rows, then \\d is one row, the result shows ten rows, and the page keeps its width and header', async () => {
    const psql = await psqlSession('alice');
    const rita = await watchAs('Rita Reviewer', psql.id);
    await expect.poll(() => rita.getByTestId('sql').first().textContent(), { timeout: 30_000 }).toContain('warmup');
    expect(await rita.getByTestId('watch-status').textContent()).toBe('live');
    expect(await rita.getByTestId('watch-header').textContent()).toContain('alice');
    expect(await rita.getByTestId('pause').count()).toBe(1);

    // psql sends its catalog queries one after another: once the next statement shows, \d is whole.
    psql.send('\\d customers');
    psql.send('select 3 as after_describe;');
    await expect.poll(() => rita.getByTestId('sql').last().textContent(), { timeout: 30_000 }).toContain('after_describe');
    const meta = rita.getByTestId('meta-command');
    expect(await meta.textContent()).toMatch(/psql \\d customers — \d+ catalog queries/);
    const count = Number(/— (\d+) catalog/.exec((await meta.textContent())!)![1]);
    expect(count).toBeGreaterThan(5);
    // Closed, none of its statements is on the page; opened, each is.
    expect(await meta.getByTestId('statement-row').count()).toBe(0);
    await meta.getByTestId('meta-toggle').click();
    expect(await meta.getByTestId('statement-row').count()).toBe(count);

    psql.send("select g, repeat('wide ', 200) as note from generate_series(1, 1000) g;");
    const result = rita.getByTestId('result').last();
    await expect.poll(() => result.locator('tbody tr').count(), { timeout: 30_000 }).toBe(10);
    expect(await pageIsWide(rita)).toBe(false);
    const all = rita.getByRole('button', { name: 'Show all 1,000 rows' });
    await all.click();
    expect(await result.locator('tbody tr').count()).toBe(1000);
    expect(await pageIsWide(rita)).toBe(false);

    // Following the tail scrolled the list's own box; the header is still at the top of the view.
    psql.send('select 2 as after_all;');
    await expect.poll(() => rita.getByTestId('sql').last().textContent(), { timeout: 30_000 }).toContain('after_all');
    await expect.poll(() => rita.getByTestId('events').evaluate((el) => el.scrollTop > 0)).toBe(true);
    await rita.mouse.wheel(0, 3000);
    const header = (await rita.getByTestId('watch-header').boundingBox())!;
    expect(header.y).toBeGreaterThanOrEqual(-1);
    expect(header.y).toBeLessThan(200);

    // The statement's error is on its own row, with its SQLSTATE.
    psql.send('select 1/0;');
    await expect.poll(() => rita.getByTestId('db-error').last().textContent(), { timeout: 30_000 }).toContain('22012: division by zero');

    psql.quit();
    await expect.poll(() => rita.getByTestId('watch-status').textContent(), { timeout: 30_000 }).toBe('ended');
    expect(await rita.getByTestId('end-reason').textContent()).toContain('client quit');
    expect(await rita.getByTestId('pause').count()).toBe(0);
    expect(await rita.getByTestId('kill').count()).toBe(0);
    expect(await rita.getByTestId('replay').count()).toBe(1);
  });

  it('when watched on a phone, then the header stays two lines at the top and nothing widens the page', async () => {
    const psql = await psqlSession('alice');
    const rita = await watchAs('Rita Reviewer', psql.id, 'phone');
    await expect.poll(() => rita.getByTestId('sql').first().textContent(), { timeout: 30_000 }).toContain('warmup');
    psql.send("select name, email, note, note as again from customers;");
    await expect.poll(() => rita.getByTestId('result').count(), { timeout: 30_000 }).toBe(2);
    expect(await pageIsWide(rita)).toBe(false);
    const lines = await rita.getByTestId('watch-header').evaluate((el) => [...el.children].filter((c) => (c as HTMLElement).offsetHeight > 0).map((c) => (c as HTMLElement).offsetHeight));
    expect(lines).toHaveLength(2);
    for (const height of lines) expect(height).toBeLessThan(60);
    await rita.mouse.wheel(0, 2000);
    expect((await rita.getByTestId('watch-header').boundingBox())!.y).toBeLessThan(100);
    psql.quit();
  });

  it('when an id names no session, or one this person may not see, then the view says "Session not found" and offers nothing', async () => {
    const bobs = await psqlSession('bob');
    for (const [name, id] of [['Rita Reviewer', '00000000-0000-4000-8000-000000000000'], ['Alice Engineer', bobs.id], ['Rita Reviewer', 'not a session id!']]) {
      const page = await watchAs(name, id);
      await expect.poll(() => page.getByTestId('watch-not-found').count(), { timeout: 30_000 }).toBe(1);
      expect(await page.getByTestId('watch-not-found').textContent()).toContain('Session not found');
      expect(await page.getByTestId('watch-status').count()).toBe(0);
      expect(await page.getByTestId('kill').count()).toBe(0);
      expect(await page.getByTestId('pause').count()).toBe(0);
      expect(await page.locator('main').textContent()).not.toContain('Waiting for events');
      await page.context().close();
    }
    bobs.quit();
  });
});

describe('the live watch view of a shell', () => {
  let ssh: SshHarness;
  let sshWeb: HubWithLogin;

  beforeAll(async () => {
    ssh = await startSshHarness({ demoShell: true });
    sshWeb = await startHubWithLogin({ dataDir: ssh.dir, targets: ssh.config.targets, bus: ssh.bus, stores: ssh.stores });
  });

  afterAll(async () => {
    await sshWeb?.stop();
    await ssh?.stop();
  });

  it("when a user types lines, then each is one row of keys ending at ⏎; the terminal's own answers and empty rows never show", async () => {
    const shell = await openShellThroughAgent(ssh, 'alice', 'demo-shell', { term: 'xterm-256color', cols: 90, rows: 20 });
    try {
      shell.stream.write('echo typed-one\r');
      await expect.poll(shell.shown, { timeout: 20_000 }).toContain('typed-one');
      const rita = await loggedInPage(browser, sshWeb.hub.url, 'Rita Reviewer');
      await rita.getByTestId('live-sessions').getByRole('row').filter({ hasText: 'demo-shell' }).first().getByRole('link', { name: 'Watch' }).click();
      const typed = rita.getByTestId('typed');
      await expect.poll(() => typed.first().textContent(), { timeout: 30_000 }).toContain('echo typed-one');
      // What a terminal answers by itself (a cursor position report), then a line, then the space key alone.
      shell.stream.write('\x1b[12;5R');
      shell.stream.write('ls -la\r');
      await expect.poll(() => typed.last().textContent(), { timeout: 30_000 }).toContain('ls -la');
      const rows = await typed.allTextContents();
      expect(rows.every((r) => r.trim() !== '')).toBe(true);
      expect(rows.join('\n')).not.toMatch(/\\u\{|12;5R/);
      expect(await typed.first().locator('kbd').first().getAttribute('aria-label')).toBe('Enter');
      expect(await rita.getByTestId('watch-header').textContent()).toContain('demo-shell');
      expect(await rita.getByTestId('asciicast').count()).toBe(1);
      // The terminal's watch view passes axe too, at both sizes.
      const phone = await loggedInPage(browser, sshWeb.hub.url, 'Rita Reviewer', rita.url().slice(sshWeb.hub.url.length + 1), 'phone');
      for (const page of [rita, phone]) {
        await expect.poll(() => page.getByTestId('typed').count(), { timeout: 30_000 }).toBeGreaterThan(0);
        expect(await seriousViolations(page)).toEqual([]);
      }
    } finally {
      shell.conn.end();
    }
  });
});
