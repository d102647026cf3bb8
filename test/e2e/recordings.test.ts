// Search, notes and sharing of recordings in real Chromium. bob works in the demo shell through the
// agent (two commands, then exit), and a PostgreSQL session of his is written to the hub's store as
// an agent would have recorded it. A reviewer searches across recordings for a command typed in the
// shell and a statement run in PostgreSQL (the hub indexes them a moment after they are stored),
// opens a hit and lands in the player at it, then finds in the recording. A note made in one browser
// appears in another viewing the same recording, without a reload. bob shares his shell session with
// erin, who finds it under "Shared with me" and opens it; once bob revokes it, she is refused with
// the hub's message; a share that has expired is refused too. Nothing here measures time.
import { randomUUID } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import ssh2, { type ClientChannel } from 'ssh2';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseConfig } from '../../common/config/load-config.ts';
import { encodeEvent, VigilEvent } from '../../common/events/index.ts';
import { silentLogger } from '../../common/log.ts';
import { DEMO_ROLE_MAP, DEMO_USERS, type DemoUser } from '../../server/dev-idp/demo-users.ts';
import { startDevIdentityProvider, type DevIdentityProvider } from '../../server/dev-idp/dev-identity-provider.ts';
import { ensureDashboardBuilt } from '../../server/http/dashboard.ts';
import { startHub, type Hub } from '../../server/hub.ts';
import type { StoredEvent } from '../../server/recordings/store/recording-store.ts';
import { launchChromium, loggedInPage } from '../support/dashboard-browser.ts';
import { freePort } from '../support/free-port.ts';
import { startSshHarness, type SshHarness } from '../support/ssh-harness.ts';

vi.setConfig({ testTimeout: 60_000, hookTimeout: 120_000 });

/** Two engineers besides the demo users: bob, whose sessions these are, and erin, who gets them shared. */
const ENGINEERS: DemoUser[] = [
  { username: 'bob', name: 'Bob Engineer', email: 'bob@vigil.example', groups: ['vigil-engineers'] },
  { username: 'erin', name: 'Erin Engineer', email: 'erin@vigil.example', groups: ['vigil-engineers'] },
];
const CLIENT = { clientId: 'vigil-e2e', clientSecret: 'e2e-secret' };

let h: SshHarness;
let idp: DevIdentityProvider;
let hub: Hub;
let browser: Browser;
/** bob's shell session. */
let shellId: string;
/** bob's PostgreSQL session, and the seq of the statement searched for. */
let pg: { id: string; querySeq: number };

/** A hub on a free port whose dashboard logs in through a dev identity provider that knows bob and erin too. */
async function startHubWithEngineers(): Promise<void> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  idp = await startDevIdentityProvider({ port: 0, users: [...DEMO_USERS, ...ENGINEERS], client: { ...CLIENT, redirectUris: [`${url}/auth/callback`] } });
  const config = parseConfig({
    dataDir: h.dir,
    targets: h.config.targets,
    hub: { listen: `127.0.0.1:${port}`, auth: { oidc: { issuer: idp.issuer, clientId: CLIENT.clientId, roles: { map: DEMO_ROLE_MAP } } } },
  });
  hub = await startHub({ config, bus: h.bus, stores: h.stores, logger: silentLogger, oidcClientSecret: CLIENT.clientSecret });
}

beforeAll(async () => {
  await ensureDashboardBuilt();
  h = await startSshHarness({ demoShell: true });
  await startHubWithEngineers();
  browser = await launchChromium();
  shellId = await recordShell();
  pg = await writePostgresSession();
});

afterAll(async () => {
  await browser?.close();
  await hub?.stop();
  await idp?.stop();
  await h?.stop();
});

/** bob in the demo shell: a command whose output differs from what was typed, another, exit. */
async function recordShell(): Promise<string> {
  const conn = new ssh2.Client();
  const password = await h.token('bob', 'demo-shell');
  await new Promise<void>((resolve, reject) => {
    conn.once('ready', () => resolve()).once('error', reject);
    conn.connect({ host: '127.0.0.1', port: h.port, username: 'demo-shell', password });
  });
  try {
    const stream = await new Promise<ClientChannel>((resolve, reject) =>
      conn.shell({ term: 'xterm-256color', cols: 90, rows: 20 }, (err, s) => (err ? reject(err) : resolve(s))));
    let shown = '';
    stream.on('data', (d: Buffer) => (shown += d.toString()));
    stream.write('echo needle-$((6*7))\r');
    await vi.waitFor(() => expect(shown).toContain('needle-42'), { timeout: 20_000 });
    stream.write('echo haystack-$((2*2))\r');
    await vi.waitFor(() => expect(shown).toContain('haystack-4'), { timeout: 20_000 });
    const closed = new Promise<void>((resolve) => stream.once('close', () => resolve()));
    stream.write('exit\r');
    await closed;
  } finally {
    conn.end();
  }
  return vi.waitFor(async () => {
    const id = (await h.store.listSessions({ user: 'bob', target: 'demo-shell' })).find((s) => s.endedAt)?.id;
    if (!id) throw new Error('the shell session has not ended yet');
    return id;
  }, { timeout: 30_000, interval: 100 });
}

/** A psql session of bob's as the agent records it; its statement carries markup in a comment (hostile text). */
async function writePostgresSession(): Promise<typeof pg> {
  const sessionId = randomUUID();
  const t0 = Date.now() - 3_600_000;
  let seq = 0;
  const make = (type: VigilEvent['type'], atMs: number, data: unknown): StoredEvent => {
    const event = VigilEvent.parse({
      v: 1, id: randomUUID(), sessionId, seq: ++seq, time: new Date(t0 + atMs).toISOString(), user: 'bob', target: 'orders-db',
      protocol: 'postgres', connection: { client: '10.1.2.3:51000', agent: 'agent-e2e' }, type, data,
    });
    return { event, body: encodeEvent(event) };
  };
  const columns = (...names: string[]) => names.map((name) => ({ name, typeOid: 25, format: 'text' }));
  const events = [
    make('session.start', 0, { database: 'orders', upstream: 'db.internal:5432', recording: 'required', clientMasking: false }),
    make('db.query', 1000, { protocol: 'simple', sql: 'select id from invoices_overdue /* <img src=x id=injected> */' }),
    make('db.result', 1002, { querySeq: 2, statementIndex: 0, columns: columns('id'), rows: [['17']], rowCount: 1, truncated: false, command: 'SELECT 1', durationUs: 900 }),
    make('db.query', 2000, { protocol: 'simple', sql: 'select 1 as something_else' }),
    make('db.result', 2001, { querySeq: 4, statementIndex: 0, columns: columns('something_else'), rows: [['1']], rowCount: 1, truncated: false, command: 'SELECT 1', durationUs: 90 }),
    make('session.end', 3000, { reason: 'client_terminate', durationMs: 3000, bytesDown: 100, bytesUp: 200 }),
  ];
  await h.stores.recordings.append(events);
  return { id: sessionId, querySeq: 2 };
}

/** Runs the search on the page until the session has hits (the hub indexes a moment after storing). */
async function searchUntilFound(page: Page, text: string, sessionId: string) {
  await page.goto(`${hub.url}/#/search?q=${encodeURIComponent(text)}`);
  const session = page.locator(`[data-testid="search-session"][data-session="${sessionId}"]`);
  await expect.poll(async () => {
    if (await session.count()) return true;
    await page.getByTestId('search-submit').click();
    return false;
  }, { timeout: 30_000, interval: 300 }).toBe(true);
  return session;
}

/** A page's Content-Security-Policy violations, as they happen. */
function cspViolations(page: Page): string[] {
  const seen: string[] = [];
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) seen.push(m.text());
  });
  return seen;
}

const currentSeq = (page: Page) => page.getByTestId('player-state').getAttribute('data-seq');

describe('searching, noting and sharing recordings', () => {
  it('when a reviewer searches for a statement and a typed command, then each is found in its session, and a hit opens the player at it', async () => {
    const rita = await loggedInPage(browser, hub.url, 'Rita Reviewer', '#/search');
    const csp = cspViolations(rita);

    // A statement run in PostgreSQL; its snippet marks the match, and the markup in it stays text.
    const pgResult = await searchUntilFound(rita, 'invoices_overdue', pg.id);
    expect(await pgResult.textContent()).toContain('orders-db');
    const mark = pgResult.getByTestId('snippet').locator('mark').first();
    expect((await mark.textContent())?.toLowerCase()).toBe('invoices_overdue');
    expect(await pgResult.getByTestId('snippet').first().textContent()).toContain('<img src=x id=injected>');
    expect(await rita.locator('#injected').count()).toBe(0);
    const pgHit = pgResult.getByTestId('search-hit').filter({ hasText: 'statement' }).first();
    expect(await pgHit.getAttribute('data-seq')).toBe(String(pg.querySeq));
    await pgHit.getByTestId('hit-link').click();
    await expect.poll(() => rita.url()).toBe(`${hub.url}/#/play/${pg.id}?seq=${pg.querySeq}`);
    const statement = rita.getByTestId('statement').filter({ hasText: 'invoices_overdue' });
    await expect.poll(() => statement.getAttribute('class'), { timeout: 30_000 }).toContain('selected');
    await expect.poll(() => currentSeq(rita)).toBe(String(pg.querySeq));

    // A command typed in the shell.
    const shellResult = await searchUntilFound(rita, 'needle', shellId);
    expect(await shellResult.textContent()).toContain('demo-shell');
    const typed = shellResult.getByTestId('search-hit').filter({ hasText: 'echo needle' }).first();
    expect(await typed.locator('mark').first().textContent()).toBe('needle');
    const seq = (await typed.getAttribute('data-seq'))!;
    await typed.getByTestId('hit-link').click();
    await expect.poll(() => rita.url()).toBe(`${hub.url}/#/play/${shellId}?seq=${seq}`);
    await expect.poll(() => currentSeq(rita), { timeout: 30_000 }).toBe(seq);
    expect(await rita.getByTestId('linked-moment').textContent()).toContain(`event #${seq}`);

    // Find in the recording: Enter goes to the next hit after the playhead, Next on from there.
    await rita.getByTestId('find-text').fill('needle');
    // The typed line and its output: the output's document is written once the shell has been quiet
    // a moment (the indexer), so the find is asked again until both are there. (A loaded CI machine
    // has taken over 20 s for the indexer to get there.)
    await expect.poll(async () => {
      await rita.getByTestId('find-text').press('Enter');
      const shown = await rita.getByTestId('find-count').textContent();
      return /^\d+ of \d+$/.test(shown ?? '') ? Number(shown!.split(' of ')[1]) : 0;
    }, { timeout: 40_000 }).toBeGreaterThanOrEqual(2);
    const [at, total] = (await rita.getByTestId('find-count').textContent())!.split(' of ').map(Number);
    expect(await rita.getByTestId('find-hit').locator('mark').first().textContent()).toBe('needle');
    await rita.getByTestId('find-next').click();
    await expect.poll(() => rita.getByTestId('find-count').textContent()).toBe(`${(at % total) + 1} of ${total}`);
    await rita.getByTestId('find-previous').click();
    await expect.poll(() => rita.getByTestId('find-count').textContent()).toBe(`${at} of ${total}`);
    expect(csp).toEqual([]);
  });

  it('when a reviewer adds a note at a moment, then another viewer of the recording sees it at once, listed and on the timeline, and it takes them there', async () => {
    const [rita, remy] = await Promise.all([
      loggedInPage(browser, hub.url, 'Rita Reviewer', `#/play/${pg.id}`),
      loggedInPage(browser, hub.url, 'Remy Reviewer', `#/play/${pg.id}`),
    ]);
    const csp = cspViolations(remy);
    for (const page of [rita, remy]) await expect.poll(() => page.getByTestId('notes').getAttribute('data-following'), { timeout: 30_000 }).toBe('true');

    await rita.getByTestId('statement').filter({ hasText: 'something_else' }).click();
    await expect.poll(() => currentSeq(rita)).toBe('4');
    const text = 'why <b>this</b> query?';
    await rita.getByTestId('note-input').fill(text);
    await rita.getByTestId('add-note').click();

    const seen = remy.getByTestId('note').filter({ hasText: text });
    await expect.poll(() => seen.count(), { timeout: 30_000 }).toBe(1);
    expect(await seen.getAttribute('data-seq')).toBe('4');
    expect(await seen.textContent()).toContain('rita');
    expect(await remy.locator('b').count()).toBe(0);
    await expect.poll(() => remy.getByTestId('scrubber').locator('rect.marker.annotation').count()).toBe(1);
    // The author's list has it once (its own answer and the hub's push).
    await expect.poll(() => rita.getByTestId('note').filter({ hasText: text }).count()).toBe(1);
    expect(await rita.getByTestId('note').filter({ hasText: text }).count()).toBe(1);

    // The note takes remy to its moment.
    await remy.getByTestId('statement').filter({ hasText: 'invoices_overdue' }).click();
    await expect.poll(() => currentSeq(remy)).toBe('2');
    await seen.getByTestId('note-moment').click();
    await expect.poll(() => currentSeq(remy)).toBe('4');
    expect(csp).toEqual([]);
  });

  it('when bob shares his session with erin, then she opens it from "Shared with me"; once he revokes it, she is refused with the hub\'s message', async () => {
    const erin = await loggedInPage(browser, hub.url, 'Erin Engineer', `#/play/${shellId}`);
    await expect.poll(() => erin.getByTestId('player-not-found').count(), { timeout: 30_000 }).toBe(1);

    const bob = await loggedInPage(browser, hub.url, 'Bob Engineer', `#/play/${shellId}`);
    await bob.getByTestId('share-toggle').click();
    expect(await bob.getByTestId('share-hours').inputValue()).toBe('72');
    await bob.getByTestId('share-users').fill('erin');
    await bob.getByTestId('share-note').fill('look at the needle');
    await bob.getByTestId('share-submit').click();
    const share = bob.getByTestId('share').filter({ hasText: 'erin' });
    await expect.poll(() => share.getAttribute('data-state')).toBe('in force');

    await erin.getByTestId('nav-shared').click();
    const row = erin.locator(`[data-testid="shared-row"][data-session="${shellId}"]`);
    await expect.poll(() => row.count()).toBe(1);
    expect(await row.textContent()).toContain('bob');
    expect(await row.textContent()).toContain('look at the needle');
    await row.getByTestId('shared-open').click();
    await expect.poll(() => erin.url()).toBe(`${hub.url}/#/play/${shellId}`);
    await expect.poll(() => erin.getByTestId('session-facts').textContent(), { timeout: 30_000 }).toContain('demo-shell');
    // Sharing it on is not hers to do: the hub says so.
    await erin.getByTestId('share-toggle').click();
    await expect.poll(() => erin.getByTestId('shares-error').textContent()).toContain('only the session\'s user');

    await share.getByTestId('share-revoke').click();
    await expect.poll(() => share.getAttribute('data-state')).toBe('revoked');
    await erin.reload();
    await expect.poll(() => erin.getByTestId('player-error').textContent(), { timeout: 30_000 }).toContain('was revoked by bob');
    await erin.getByTestId('nav-shared').click();
    await expect.poll(() => erin.getByTestId('shared-empty').count()).toBe(1);
  });

  it('when a share has expired, then its recipient is refused with the hub\'s message', async () => {
    await h.stores.shares.create({
      sessionId: pg.id, createdBy: 'bob', users: ['erin'], group: null, note: 'last week\'s review', expiresAt: new Date(Date.now() - 3_600_000).toISOString(),
    });
    const erin = await loggedInPage(browser, hub.url, 'Erin Engineer', `#/play/${pg.id}`);
    await expect.poll(() => erin.getByTestId('player-error').textContent(), { timeout: 30_000 }).toContain('expired at');
    expect(await erin.getByTestId('statement').count()).toBe(0);
  });
});
