// Locks in the dashboard, in real Chromium through the real OpenID login: a reviewer makes a lock
// on the Locks page, reads it in the list and lifts it (a second reviewer's stale Lift reads the
// hub's refusal); a reviewer watching a live psql session uses "Kill and lock": the session ends
// with the lock's message, the lock is listed, and psql coming back with the same token is refused
// with it; an engineer is not offered the Locks page. Hub and agent share the control bus in memory.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { createInProcessControlBus } from '../../common/control/in-process-control-bus.ts';
import { ensureDashboardBuilt } from '../../server/http/dashboard.ts';
import { startHarness, type Harness } from '../support/agent-harness.ts';
import { launchChromium, loggedInPage as login, startHubWithLogin, type HubWithLogin } from '../support/dashboard-browser.ts';
import { liveSessionOf } from '../support/recordings.ts';

vi.setConfig({ testTimeout: 120_000, hookTimeout: 240_000 });

let harness: Harness;
let web: HubWithLogin;
let browser: Browser;
const running: ChildProcessWithoutNullStreams[] = [];
const control = createInProcessControlBus();

beforeAll(async () => {
  await ensureDashboardBuilt();
  harness = await startHarness({ postgresUrl: inject('postgresUrl'), redisUrl: inject('redisUrl'), control });
  web = await startHubWithLogin({ dataDir: harness.config.dataDir, redisUrl: inject('redisUrl'), keyPrefix: harness.keyPrefix, targets: harness.config.targets, bus: harness.bus, stores: harness.stores, control });
  browser = await launchChromium();
});

afterAll(async () => {
  for (const p of running) p.kill();
  await browser?.close();
  await web?.stop();
  await harness?.stop();
});

const loggedInPage = (name: string, hash = '#/live'): Promise<Page> => login(browser, web.hub.url, name, hash);

/** A libpq URI through the agent whose token lives long enough to be used again. */
const uriOf = async (user: string) => `postgresql://${user}:${await harness.token(user, 'pg', 600_000)}@127.0.0.1:${harness.port}/pg?sslmode=disable`;

/** psql reading statements from a pipe the test writes to; what it printed on stderr so far. */
function psqlSession(uri: string): { send(sql: string): void; stderr(): string } {
  const child = spawn('psql', ['-X', '-q', uri], { env: { ...process.env, PGCONNECT_TIMEOUT: '10' } });
  running.push(child);
  let stderr = '';
  child.stdout.resume();
  child.stderr.on('data', (d) => (stderr += d));
  return { send: (sql) => child.stdin.write(`${sql}\n`), stderr: () => stderr };
}

/** psql with one command, to its end. */
function psqlOnce(uri: string, sql: string): Promise<{ code: number; stderr: string }> {
  const child = spawn('psql', ['-X', '-At', '-c', sql, uri], { env: { ...process.env, PGCONNECT_TIMEOUT: '10' } });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code: code ?? -1, stderr })));
}

describe('locks in the dashboard', () => {
  it('when an engineer logs in, then there is no Locks entry and #/locks shows no locks', async () => {
    const alice = await loggedInPage('Alice', '#/locks');
    await expect.poll(() => alice.getByRole('heading', { name: 'Live sessions' }).count(), { timeout: 20_000 }).toBe(1);
    expect(await alice.getByRole('link', { name: 'Locks' }).count()).toBe(0);
    expect(await alice.locator('header').innerText()).not.toContain('Locks');
    expect(await alice.getByTestId('lock-form').count()).toBe(0);
    // A reviewer has it.
    const remy = await loggedInPage('Remy');
    expect(await remy.getByRole('link', { name: 'Locks' }).count()).toBe(1);
  });

  it('when a reviewer makes a lock on the Locks page, then it is listed as text, and lifting it asks first and moves it to the lifted ones', async () => {
    const rita = await loggedInPage('Rita', '#/locks');
    await expect.poll(() => rita.getByRole('heading', { name: 'Locks in force' }).count(), { timeout: 20_000 }).toBe(1);

    // Nothing named: refused in the page, before the hub.
    await rita.getByLabel('Reason', { exact: true }).fill('no one named');
    await rita.getByRole('button', { name: 'Lock', exact: true }).click();
    await expect.poll(() => rita.getByRole('alert').innerText(), { timeout: 10_000 }).toContain('Name a user, a target or a token');

    await rita.getByLabel('User', { exact: true }).fill('mallory');
    await rita.getByLabel('Target', { exact: true }).fill('pg');
    await rita.getByLabel('Duration').selectOption({ label: '2 hours' });
    await rita.getByLabel('Reason', { exact: true }).fill('INC-8: <b>laptop</b> lost');
    await rita.getByRole('button', { name: 'Lock', exact: true }).click();
    await expect.poll(() => rita.getByRole('status').innerText(), { timeout: 10_000 }).toMatch(/Lock L-\S+ is in force: user mallory on target pg is kept out/);
    const row = rita.getByTestId('lock-row').filter({ hasText: 'INC-8' });
    await expect.poll(() => row.count(), { timeout: 10_000 }).toBe(1);
    const text = await row.innerText();
    expect(text).toContain('user mallory on target pg');
    expect(text).toContain('rita');
    expect(text).toContain('INC-8: <b>laptop</b> lost');
    expect(text).toContain('in force');
    expect(text).not.toContain('until lifted');
    expect(await rita.locator('[data-testid=locks] b').count()).toBe(0);
    const id = (await row.getAttribute('data-id'))!;
    expect(id).toMatch(/^L-/);

    // A second reviewer has the list open too.
    const remy = await loggedInPage('Remy', '#/locks');
    const remyRow = remy.getByTestId('lock-row').filter({ hasText: 'INC-8' });
    await expect.poll(() => remyRow.count(), { timeout: 10_000 }).toBe(1);

    // Lift asks first; Keep leaves it.
    await row.getByRole('button', { name: `Lift lock ${id}…` }).click();
    await row.getByRole('button', { name: 'Keep' }).click();
    expect(await row.getByTestId('lock-state').innerText()).toBe('in force');
    await row.getByRole('button', { name: `Lift lock ${id}…` }).click();
    await row.getByRole('button', { name: 'Lift lock', exact: true }).click();
    await expect.poll(() => rita.getByTestId('lock-row').filter({ hasText: 'INC-8' }).count(), { timeout: 10_000 }).toBe(0);

    await rita.getByLabel('Show lifted and expired locks').check();
    await expect.poll(() => rita.getByRole('heading', { name: 'All locks' }).count(), { timeout: 10_000 }).toBe(1);
    const lifted = rita.getByTestId('lock-row').filter({ hasText: 'INC-8' });
    await expect.poll(() => lifted.count(), { timeout: 10_000 }).toBe(1);
    expect(await lifted.getByTestId('lock-state').innerText()).toContain('lifted');
    expect(await lifted.getByTestId('lock-state').innerText()).toContain('by rita');
    expect(await lifted.getByRole('button').count()).toBe(0);

    // Remy's list is stale: his Lift reads the hub's refusal.
    await remyRow.getByRole('button', { name: `Lift lock ${id}…` }).click();
    await remyRow.getByRole('button', { name: 'Lift lock', exact: true }).click();
    await expect.poll(() => remy.getByTestId('lift-error').innerText(), { timeout: 10_000 }).toContain(`lock ${id} is no longer in force (lifted)`);
  });

  it('when a reviewer uses "Kill and lock this user" on a live psql session, then it ends with the lock\'s message, the lock is listed, and the same token is refused', async () => {
    const uri = await uriOf('bob');
    const psql = psqlSession(uri);
    psql.send('select 1 as before_lock;');
    const sessionId = await liveSessionOf(harness.store, 'bob');
    const rita = await loggedInPage('Rita', `#/watch/${encodeURIComponent(sessionId)}`);
    await expect.poll(() => rita.getByTestId('sql').first().textContent(), { timeout: 30_000 }).toContain('before_lock');
    // psql waits in a statement, so it reads the end at once.
    psql.send('select pg_sleep(60);');

    await rita.getByRole('button', { name: 'Kill session…' }).click();
    const dialog = rita.getByRole('dialog', { name: 'End this session' });
    await expect.poll(() => dialog.isVisible(), { timeout: 10_000 }).toBe(true);
    // Its session.start named the token it came with: that can be locked too.
    expect(await dialog.getByRole('radio', { name: /lock this token/ }).count()).toBe(1);
    await dialog.getByRole('radio', { name: 'Kill and lock this user (bob) on this target (pg)' }).check();
    await dialog.getByLabel('Lock for').selectOption({ label: 'until lifted' });
    await dialog.getByLabel('Reason').fill('INC-9: leaked credentials');
    await dialog.getByRole('button', { name: 'Lock and kill' }).click();

    const outcome = dialog.getByRole('status');
    await expect.poll(() => outcome.innerText(), { timeout: 20_000 }).toMatch(/^Lock L-\S+ is in force until it is lifted; the session (is being ended|has ended)\.$/);
    const lockId = /Lock (L-[\w-]+)/.exec(await outcome.innerText())![1];
    const message = `bob on pg is locked by rita: INC-9: leaked credentials (lock ${lockId}, until it is lifted)`;
    await expect.poll(() => psql.stderr(), { timeout: 20_000 }).toContain(message);
    await expect.poll(() => rita.getByTestId('events').innerText(), { timeout: 20_000 }).toContain(`Session ended: locked — ${message}`);
    await dialog.getByRole('button', { name: 'Close' }).click();
    expect(await dialog.isVisible()).toBe(false);
    expect(await rita.getByTestId('kill-note').innerText()).toContain(lockId);
    expect(await rita.getByRole('button', { name: 'Kill and lock…' }).count()).toBe(0);

    await rita.getByRole('link', { name: 'Locks' }).click();
    const row = rita.getByTestId('lock-row').filter({ hasText: lockId });
    await expect.poll(() => row.count(), { timeout: 10_000 }).toBe(1);
    const text = await row.innerText();
    expect(text).toContain('user bob on target pg');
    expect(text).toContain('INC-9: leaked credentials');
    expect(text).toContain('until lifted');

    // What psql's reconnect does: the same token again.
    const again = await psqlOnce(uri, 'select 1');
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain('FATAL');
    expect(again.stderr).toContain('locked by rita');
    expect(again.stderr).toContain(message);
  });
});
