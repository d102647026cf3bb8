// The dashboard in real Chromium: log in through the real OpenID provider, watch a psql session
// through the agent live, see the query and its masked result appear; a second reviewer shows up
// in presence; hostile content in a recording stays inert text.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { createInProcessControlBus } from '../../common/control/in-process-control-bus.ts';
import { ensureDashboardBuilt } from '../../server/http/dashboard.ts';
import type { Hub } from '../../server/hub.ts';
import { startHarness, type Harness } from '../support/agent-harness.ts';
import { launchChromium, loggedInPage as login, startHubWithLogin, type HubWithLogin } from '../support/dashboard-browser.ts';

vi.setConfig({ testTimeout: 120_000, hookTimeout: 240_000 });

const HOSTILE = ['<script>window.__pwned = 1</script>', '<img src=x onerror="window.__pwned = 2">', '\u001b[31mred\u001b[0m'];

let harness: Harness;
let web: HubWithLogin;
let hub: Hub;
let browser: Browser;
let psql: ChildProcessWithoutNullStreams | undefined;
// Hub and agent in one process here: they share the control bus in memory.
const control = createInProcessControlBus();

beforeAll(async () => {
  await ensureDashboardBuilt();
  harness = await startHarness({
    postgresUrl: inject('postgresUrl'),
    redisUrl: inject('redisUrl'),
    control,
    seed: `CREATE TABLE people (id int, name text, email text);
           INSERT INTO people VALUES (1, 'Jo Doe', 'jo.doe@example.com');
           CREATE TABLE notes (body text);
           INSERT INTO notes VALUES ${HOSTILE.map((h) => `('${h.replace(/'/g, "''")}')`).join(', ')};`,
  });
  web = await startHubWithLogin({ dataDir: harness.config.dataDir, redisUrl: inject('redisUrl'), keyPrefix: harness.keyPrefix, targets: harness.config.targets, bus: harness.bus, stores: harness.stores, control });
  hub = web.hub;
  browser = await launchChromium();
});

afterAll(async () => {
  psql?.kill();
  await browser?.close();
  await web?.stop();
  await harness?.stop();
});

const loggedInPage = (name: string, hash = '#/live'): Promise<Page> => login(browser, hub.url, name, hash);

/** psql through the agent, reading its statements from a pipe the test writes to. */
async function startPsql(): Promise<(sql: string) => void> {
  psql?.stdin.end(); // the previous session ends
  const uri = await harness.uri('alice');
  psql = spawn('psql', ['-X', '-q', uri], { env: { ...process.env, PGCONNECT_TIMEOUT: '10' } });
  psql.stdout.resume();
  psql.stderr.resume();
  return (sql) => psql!.stdin.write(`${sql}\n`);
}

describe('the dashboard', () => {
  it('when a reviewer watches a live psql session, then queries and masked results appear, and a second reviewer is seen', async () => {
    const send = await startPsql();
    send('select 1 as warmup;');
    const rita = await loggedInPage('Rita Reviewer');
    const row = rita.getByTestId('live-sessions').getByRole('row').filter({ hasText: 'alice' });
    await row.first().getByRole('link', { name: 'Watch' }).click();
    await expect.poll(() => rita.getByTestId('sql').first().textContent(), { timeout: 30_000 }).toContain('warmup');

    send('select name, email from people;');
    const result = rita.getByTestId('result').last();
    await expect.poll(() => result.textContent(), { timeout: 30_000 }).toContain('[EMAIL]');
    expect(await rita.getByTestId('events').textContent()).not.toContain('jo.doe@example.com');
    expect(await result.textContent()).toContain('Jo Doe');

    send('select 1/0;');
    await expect.poll(() => rita.getByTestId('db-error').last().textContent(), { timeout: 30_000 }).toContain('division by zero');

    const remy = await loggedInPage('Remy Reviewer', rita.url().slice(hub.url.length + 1));
    await expect.poll(() => remy.getByTestId('viewers').textContent(), { timeout: 30_000 }).toContain('Rita Reviewer');
    await expect.poll(() => rita.getByTestId('viewers').textContent(), { timeout: 30_000 }).toContain('Remy Reviewer');
    // The late joiner has the whole backlog.
    await expect.poll(() => remy.getByTestId('result').last().textContent(), { timeout: 30_000 }).toContain('[EMAIL]');

    // The Live page shows who watches each running session.
    const overview = await loggedInPage('Ada Admin');
    const watched = overview.getByTestId('live-sessions').getByRole('row').filter({ hasText: 'Rita Reviewer' });
    await expect.poll(() => watched.count(), { timeout: 30_000 }).toBe(1);
    expect(await watched.textContent()).toContain('alice');
  });

  it('when a recording holds markup and terminal escapes, then they are shown as text and nothing runs', async () => {
    const known = new Set((await harness.store.listSessions({ user: 'alice' })).map((x) => x.id));
    const send = await startPsql();
    send(`select body, '${HOSTILE[0]}' as inline from notes;`);
    let sessionId = '';
    await expect.poll(async () => {
      sessionId = (await harness.store.listSessions({ user: 'alice', live: true })).find((x) => !known.has(x.id))?.id ?? '';
      return sessionId;
    }, { timeout: 30_000 }).not.toBe('');
    const rita = await loggedInPage('Rita Reviewer', `#/watch/${sessionId}`);
    const events = rita.getByTestId('events');
    await expect.poll(() => events.textContent(), { timeout: 30_000 }).toContain('<img src=x onerror="window.__pwned = 2">');
    const text = (await events.textContent()) ?? '';
    expect(text).toContain('<script>window.__pwned = 1</script>');
    expect(text).toContain('\\u{1b}[31mred');
    expect(await rita.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(await rita.locator('[data-testid=events] script, [data-testid=events] img').count()).toBe(0);
  });

  it('when a reviewer kills a live session from the watch view, then psql is cut off and the view says who ended it', async () => {
    const send = await startPsql();
    send('select 1 as before_kill;');
    let stderr = '';
    psql!.stderr.removeAllListeners('data');
    psql!.stderr.on('data', (d) => (stderr += d));
    const rita = await loggedInPage('Rita Reviewer');
    const row = rita.getByTestId('live-sessions').getByRole('row').filter({ hasText: 'alice' });
    await row.first().getByRole('link', { name: 'Watch' }).click();
    await expect.poll(() => rita.getByTestId('sql').first().textContent(), { timeout: 30_000 }).toContain('before_kill');
    // psql waits in a statement, so it sees the connection end at once.
    send('select pg_sleep(60);');
    // The reason is asked in the page's own dialog (no window.prompt); a plain kill is its first choice.
    await rita.getByTestId('kill').click();
    await expect.poll(() => rita.getByTestId('kill-scope-kill').isChecked(), { timeout: 10_000 }).toBe(true);
    await rita.getByTestId('kill-reason').fill('ending a test session');
    await rita.getByTestId('kill-submit').click();
    await expect.poll(() => stderr, { timeout: 30_000 }).toContain('this session was ended by rita: ending a test session');
    await expect.poll(() => rita.getByTestId('events').textContent(), { timeout: 30_000 }).toContain('Session ended: killed — this session was ended by rita: ending a test session');
    await expect.poll(() => rita.getByTestId('kill').count(), { timeout: 10_000 }).toBe(0);
  });

  it('when the same login logs out in another tab, then the watching tab loses its live access at once and says why', async () => {
    const send = await startPsql();
    send('select 1 as before_logout;');
    const rita = await loggedInPage('Rita Reviewer');
    const row = rita.getByTestId('live-sessions').getByRole('row').filter({ hasText: 'alice' });
    await row.first().getByRole('link', { name: 'Watch' }).click();
    await expect.poll(() => rita.getByTestId('sql').first().textContent(), { timeout: 30_000 }).toContain('before_logout');

    const other = await rita.context().newPage();
    await other.goto(`${hub.url}/#/live`);
    await expect.poll(() => other.getByTestId('who').textContent(), { timeout: 30_000 }).toContain('Rita');
    await other.getByRole('button', { name: 'Log out' }).click();

    await expect.poll(() => rita.getByTestId('login-ended').textContent(), { timeout: 10_000 }).toContain('you logged out');
    // Nothing more arrives on the watching tab.
    send('select 2 as after_logout;');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(await rita.getByTestId('events').textContent()).not.toContain('after_logout');
  });
});
