// The dashboard in real Chromium: log in through the real OpenID provider, watch a psql session
// through the agent live, see the query and its masked result appear; a second reviewer shows up
// in presence; hostile content in a recording stays inert text.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { parseConfig } from '../../common/config/load-config.ts';
import { silentLogger } from '../../common/log.ts';
import { DEMO_ROLE_MAP } from '../../server/dev-idp/demo-users.ts';
import { startDevIdentityProvider, type DevIdentityProvider } from '../../server/dev-idp/dev-identity-provider.ts';
import { ensureDashboardBuilt } from '../../server/http/dashboard.ts';
import { startHub, type Hub } from '../../server/hub.ts';
import { startHarness, type Harness } from '../support/agent-harness.ts';
import { freePort } from '../support/free-port.ts';

vi.setConfig({ testTimeout: 120_000, hookTimeout: 240_000 });

const CHROMIUM = '/usr/bin/chromium';
const CLIENT = { clientId: 'vigil-e2e', clientSecret: 'e2e-secret' };
const HOSTILE = ['<script>window.__pwned = 1</script>', '<img src=x onerror="window.__pwned = 2">', '\u001b[31mred\u001b[0m'];

let harness: Harness;
let idp: DevIdentityProvider;
let hub: Hub;
let browser: Browser;
let psql: ChildProcessWithoutNullStreams | undefined;

beforeAll(async () => {
  await ensureDashboardBuilt();
  harness = await startHarness({
    postgresUrl: inject('postgresUrl'),
    redisUrl: inject('redisUrl'),
    seed: `CREATE TABLE people (id int, name text, email text);
           INSERT INTO people VALUES (1, 'Jo Doe', 'jo.doe@example.com');
           CREATE TABLE notes (body text);
           INSERT INTO notes VALUES ${HOSTILE.map((h) => `('${h.replace(/'/g, "''")}')`).join(', ')};`,
  });
  const port = await freePort();
  const hubUrl = `http://127.0.0.1:${port}`;
  idp = await startDevIdentityProvider({ port: 0, client: { ...CLIENT, redirectUris: [`${hubUrl}/auth/callback`] } });
  const config = parseConfig({
    dataDir: harness.config.dataDir,
    redis: { url: inject('redisUrl') },
    targets: harness.config.targets,
    hub: { listen: `127.0.0.1:${port}`, auth: { oidc: { issuer: idp.issuer, clientId: CLIENT.clientId, roles: { map: DEMO_ROLE_MAP } } } },
  });
  hub = await startHub({ config, bus: harness.bus, store: harness.store, logger: silentLogger, oidcClientSecret: CLIENT.clientSecret });
  // playwright gives the browser a fresh profile directory of its own.
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
});

afterAll(async () => {
  psql?.kill();
  await browser?.close();
  await hub?.stop();
  await idp?.stop();
  await harness?.stop();
});

/** A fresh browser context logged in as `user` through the dev provider's login page. */
async function loggedInPage(user: string, name: string, hash = '#/live'): Promise<Page> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${hub.url}/${hash}`);
  // Not logged in: the dashboard sends the browser to the provider, which asks who.
  await page.getByRole('button', { name: new RegExp(`^${name}`) }).click();
  await page.waitForURL(`${hub.url}/${hash}`).catch(async (err) => {
    throw new Error(`login did not come back to the dashboard: at ${page.url()}: ${(await page.content()).slice(0, 500)} (${err.message})`);
  });
  await expect.poll(() => page.getByTestId('who').textContent()).toContain(name);
  return page;
}

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
    const rita = await loggedInPage('rita', 'Rita Reviewer');
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

    const remy = await loggedInPage('remy', 'Remy Reviewer', rita.url().slice(hub.url.length + 1));
    await expect.poll(() => remy.getByTestId('viewers').textContent(), { timeout: 30_000 }).toContain('Rita Reviewer');
    await expect.poll(() => rita.getByTestId('viewers').textContent(), { timeout: 30_000 }).toContain('Remy Reviewer');
    // The late joiner has the whole backlog.
    await expect.poll(() => remy.getByTestId('result').last().textContent(), { timeout: 30_000 }).toContain('[EMAIL]');

    // The Live page shows who watches each running session.
    const overview = await loggedInPage('ada', 'Ada Admin');
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
    const rita = await loggedInPage('rita', 'Rita Reviewer', `#/watch/${sessionId}`);
    const events = rita.getByTestId('events');
    await expect.poll(() => events.textContent(), { timeout: 30_000 }).toContain('<img src=x onerror="window.__pwned = 2">');
    const text = (await events.textContent()) ?? '';
    expect(text).toContain('<script>window.__pwned = 1</script>');
    expect(text).toContain('\\u{1b}[31mred');
    expect(await rita.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(await rita.locator('[data-testid=events] script, [data-testid=events] img').count()).toBe(0);
  });
});
