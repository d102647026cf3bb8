// The recording player in real Chromium. An engineer works in the demo shell through the agent
// (three screens, a resize between them, then exit); a PostgreSQL session is written to the hub's
// store as an agent would have recorded it. A reviewer opens the shared link to a moment and lands
// there, the moment marked; plays, pauses, changes speed, drags the scrubber and sees the screen of
// each moment; picks a statement and lands on it, then shares that; checks that the shell's
// recording is as the hub sealed it; finds their replay and their verify under "Viewed by". An
// engineer who may not see a session gets the player's "not found" from its link. Nothing here
// measures time.
import { randomUUID } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import type ssh2 from 'ssh2';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { encodeEvent, VigilEvent } from '../../common/events/index.ts';
import { ensureDashboardBuilt } from '../../server/http/dashboard.ts';
import type { StoredEvent } from '../../server/recordings/store/recording-store.ts';
import { launchChromium, loggedInPage, startHubWithLogin, type HubWithLogin } from '../support/dashboard-browser.ts';
import { openShellThroughAgent, startSshHarness, type SshHarness } from '../support/ssh-harness.ts';

vi.setConfig({ testTimeout: 120_000, hookTimeout: 240_000 });

let h: SshHarness;
let web: HubWithLogin;
let browser: Browser;
let conn: ssh2.Client | undefined;
/** The recorded shell: its id, and when (ms since its start) each screen was written. */
let ssh: { id: string; durationMs: number; first: number; second: number; third: number };
/** The PostgreSQL session (bob's): its id and the seq of the statement that failed. */
let pg: { id: string; failedSeq: number };

beforeAll(async () => {
  await ensureDashboardBuilt();
  h = await startSshHarness({ demoShell: true });
  web = await startHubWithLogin({ dataDir: h.dir, targets: h.config.targets, bus: h.bus, stores: h.stores });
  browser = await launchChromium();
  ssh = await recordShell();
  pg = await writePostgresSession();
});

afterAll(async () => {
  conn?.end();
  await browser?.close();
  await web?.stop();
  await h?.stop();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits (outside a test: before them all) until `check` returns something truthy, and returns it. */
function until<T>(check: () => T | Promise<T>, what: string): Promise<NonNullable<T>> {
  return vi.waitFor(async () => {
    const value = await check();
    if (!value) throw new Error(`still waiting for ${what}`);
    return value as NonNullable<T>;
  }, { timeout: 30_000, interval: 100 });
}

/** alice in the demo shell: a screen, another, a resize, a third, exit; returns when each screen was written. */
async function recordShell(): Promise<typeof ssh> {
  const shell = await openShellThroughAgent(h, 'alice', 'demo-shell', { term: 'xterm-256color', cols: 90, rows: 20 });
  conn = shell.conn;
  const { stream, shown } = shell;
  const run = async (line: string, expected: string) => {
    stream.write(`${line}\r`);
    await until(() => shown().includes(expected), `${expected} on the screen`);
    // Apart in time, so that a moment between two screens is easy to name.
    await sleep(1500);
  };
  // `$((…))`: what is typed never contains what the screen then shows.
  await run('clear; echo first-$((6*7))', 'first-42');
  await run('clear; echo second-$((7*8))', 'second-56');
  stream.setWindow(30, 100, 0, 0);
  await run('clear; echo third-$((8*9))', 'third-72');
  // The shell ends, then the connection: the session ends with it.
  const closed = new Promise<void>((resolve) => stream.once('close', () => resolve()));
  stream.write('exit\r');
  await closed;
  conn.end();
  const id = await until(async () => (await h.store.listSessions({ user: 'alice', target: 'demo-shell' })).find((x) => x.endedAt)?.id, 'the session to end');
  const session = (await h.store.getSession(id))!;
  const events = (await h.store.readEvents(id, 1, 10_000)).map((x) => x.event);
  const start = Date.parse(session.startedAt!);
  /** When the screen first showed `text` (outputs are chunks: read them joined). */
  const at = (text: string) => {
    let joined = '';
    const e = events.find((x) => x.type === 'term.output' && (joined += x.data.text).includes(text));
    if (!e) throw new Error(`the recording never shows ${text}`);
    return Date.parse(e.time) - start;
  };
  const last = Math.max(Date.parse(session.endedAt!), ...events.map((e) => Date.parse(e.time)));
  if (!events.some((e) => e.type === 'term.resize' && e.data.cols === 100)) throw new Error('the resize was not recorded');
  return { id, durationMs: last - start, first: at('first-42'), second: at('second-56'), third: at('third-72') };
}

/** A psql session of bob's as the agent records it: a masked result, a slow statement, an error. */
async function writePostgresSession(): Promise<typeof pg> {
  const sessionId = randomUUID();
  const t0 = Date.now() - 3_600_000;
  let seq = 0;
  const make = (type: VigilEvent['type'], atMs: number, data: unknown, masked?: Record<string, number>): StoredEvent => {
    const event = VigilEvent.parse({
      v: 1, id: randomUUID(), sessionId, seq: ++seq, time: new Date(t0 + atMs).toISOString(), user: 'bob', target: 'orders-db',
      protocol: 'postgres', connection: { client: '10.1.2.3:51000', agent: 'agent-e2e' }, type, data, ...(masked ? { masked } : {}),
    });
    return { event, body: encodeEvent(event) };
  };
  const columns = (...names: string[]) => names.map((name) => ({ name, typeOid: 25, format: 'text' }));
  const events = [
    make('session.start', 0, { database: 'orders', upstream: 'db.internal:5432', recording: 'required', clientMasking: false }),
    make('db.query', 1000, { protocol: 'simple', sql: 'select name, email from people' }),
    make('db.result', 1002, { querySeq: 2, statementIndex: 0, columns: columns('name', 'email'), rows: [['Jo Doe', '[EMAIL]']], rowCount: 1, truncated: false, command: 'SELECT 1', durationUs: 2300 }, { EMAIL: 1 }),
    make('db.query', 2000, { protocol: 'simple', sql: 'select pg_sleep(1.5)' }),
    make('db.result', 3500, { querySeq: 4, statementIndex: 0, columns: columns('pg_sleep'), rows: [['']], rowCount: 1, truncated: false, command: 'SELECT 1', durationUs: 1_500_000 }),
    make('db.query', 4500, { protocol: 'simple', sql: 'select * from nope' }),
    make('db.error', 4501, { querySeq: 6, severity: 'ERROR', code: '42P01', message: 'relation "nope" does not exist' }),
    make('db.query', 5500, { protocol: 'simple', sql: 'select 1 as after_the_error' }),
    make('db.result', 5501, { querySeq: 8, statementIndex: 0, columns: columns('after_the_error'), rows: [['1']], rowCount: 1, truncated: false, command: 'SELECT 1', durationUs: 90 }),
    make('session.end', 6500, { reason: 'client_terminate', durationMs: 6500, bytesDown: 100, bytesUp: 200 }),
  ];
  await h.stores.recordings.append(events);
  return { id: sessionId, failedSeq: 6 };
}

/** A page's Content-Security-Policy violations, as they happen. */
function cspViolations(page: Page): string[] {
  const seen: string[] = [];
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) seen.push(m.text());
  });
  return seen;
}

const screenText = (page: Page) => page.getByTestId('terminal').locator('.xterm-rows').innerText();
const seconds = (ms: number) => (Math.round(ms) / 1000).toFixed(3);

/** Where on the scrubber a moment is (page coordinates). */
async function scrubberPoint(page: Page, ms: number): Promise<{ x: number; y: number }> {
  const box = (await page.getByTestId('scrubber').boundingBox())!;
  return { x: box.x + (box.width * ms) / ssh.durationMs, y: box.y + box.height / 2 };
}

describe('the recording player', () => {
  it('when a reviewer opens the link to a moment of a shell session, then the player shows that screen, marked; playing, pausing, speeds and the scrubber show each moment', async () => {
    const rita = await loggedInPage(browser, web.hub.url, 'Rita Reviewer', '#/sessions');
    const csp = cspViolations(rita);
    // The Sessions list offers a replay of every session.
    await rita.getByTestId('sessions').getByRole('row').filter({ hasText: 'demo-shell' }).first().getByRole('link', { name: 'Replay' }).click();
    await expect.poll(() => rita.url()).toBe(`${web.hub.url}/#/play/${ssh.id}`);
    await expect.poll(() => rita.getByTestId('session-facts').textContent(), { timeout: 30_000 }).toContain('demo-shell');
    expect(await rita.getByTestId('end-reason').textContent()).not.toBe('live');

    // The shared link: between the first screen and the second.
    const moment = seconds((ssh.first + ssh.second) / 2);
    await rita.goto(`${web.hub.url}/sessions/${ssh.id}?t=${moment}`);
    await expect.poll(() => rita.url()).toBe(`${web.hub.url}/#/play/${ssh.id}?t=${moment}`);
    await expect.poll(() => screenText(rita), { timeout: 30_000 }).toContain('first-42');
    expect(await screenText(rita)).not.toContain('second-56');
    await expect.poll(() => rita.getByTestId('linked-moment').textContent()).toContain('Linked moment');
    const facts = (await rita.getByTestId('session-facts').textContent()) ?? '';
    expect(facts).toContain('alice');
    expect(facts).toContain('demo-shell');
    expect(facts).toContain('ssh');

    // Play: the next screen comes; pause.
    await rita.getByRole('button', { name: /^Play/ }).click();
    await expect.poll(() => screenText(rita), { timeout: 30_000 }).toContain('second-56');
    await rita.getByRole('button', { name: /^Pause/ }).click();
    await expect.poll(() => rita.getByTestId('player-state').textContent()).toBe('paused');

    // Speeds: the menu, and the keys.
    await rita.getByTestId('speed').selectOption('4');
    await rita.keyboard.press('>');
    await expect.poll(() => rita.getByTestId('speed').inputValue()).toBe('8');
    await rita.keyboard.press('<');
    await rita.keyboard.press('<');
    await expect.poll(() => rita.getByTestId('speed').inputValue()).toBe('2');

    // Drag from the end back to the second screen: it shows while dragging, and stays on release.
    const end = await scrubberPoint(rita, ssh.durationMs - 1);
    const second = await scrubberPoint(rita, (ssh.second + ssh.third) / 2);
    await rita.mouse.move(end.x, end.y);
    await rita.mouse.down();
    await expect.poll(() => screenText(rita), { timeout: 30_000 }).toContain('third-72');
    for (let i = 1; i <= 10; i++) await rita.mouse.move(end.x + ((second.x - end.x) * i) / 10, end.y);
    await expect.poll(() => screenText(rita), { timeout: 30_000 }).toContain('second-56');
    await rita.mouse.up();
    await expect.poll(() => screenText(rita), { timeout: 30_000 }).toContain('second-56');
    expect(await screenText(rita)).not.toContain('third-72');
    expect(await screenText(rita)).not.toContain('first-42');

    // A click near the start: the first screen; the digit 9: near the end, the third.
    const first = await scrubberPoint(rita, (ssh.first + ssh.second) / 2);
    await rita.mouse.click(first.x, first.y);
    await expect.poll(() => screenText(rita), { timeout: 30_000 }).toContain('first-42');
    expect(await screenText(rita)).not.toContain('second-56');
    await rita.getByTestId('scrubber').focus();
    await rita.keyboard.press('End');
    await expect.poll(() => screenText(rita), { timeout: 30_000 }).toContain('third-72');
    expect(csp).toEqual([]);
  });

  it('when a reviewer asks whether an ended recording is as it was sealed, then the player says it is verified, and by which key', async () => {
    const rita = await loggedInPage(browser, web.hub.url, 'Rita Reviewer', `#/play/${ssh.id}`);
    const csp = cspViolations(rita);
    const verify = rita.getByRole('button', { name: 'Verify', exact: true });
    const report = rita.getByRole('status').and(rita.getByTestId('verify-report'));
    const status = report.getByTestId('verify-status');
    // The hub seals a session about a second after it ends: "Not sealed yet" until then, so ask again.
    await expect.poll(async () => {
      await verify.click();
      // "Verifying…" (no button of that name) until the hub answers.
      await verify.waitFor({ timeout: 10_000 });
      return (await status.count()) ? status.textContent() : report.textContent();
    }, { timeout: 10_000, interval: 500 }).toBe('Verified');
    expect(await report.textContent()).toMatch(/Sealed .+ with key \S+/);
    expect(await report.getByRole('list', { name: 'Problems' }).count()).toBe(0);
    expect(csp).toEqual([]);
  });

  it('when a reviewer opens a recording and verifies it, then "Viewed by" lists their replay, and after a refresh their verify', async () => {
    const remy = await loggedInPage(browser, web.hub.url, 'Remy Reviewer', `#/play/${pg.id}`);
    const csp = cspViolations(remy);
    const rows = remy.getByTestId('viewed-by').getByTestId('viewed-by-row');
    // Newest first: the player's own opening is the first row.
    await expect.poll(() => rows.first().textContent(), { timeout: 10_000 }).toMatch(/^remy replayed as reviewer · /);
    expect(await rows.filter({ hasText: 'remy verified' }).count()).toBe(0);

    await remy.getByTestId('verify').click();
    // Whatever the answer (this session was never sealed), the hub has recorded the check by then.
    await expect.poll(() => remy.getByTestId('verify-status').count(), { timeout: 10_000 }).toBe(1);
    await remy.getByTestId('viewed-by').getByRole('button', { name: 'Refresh' }).click();
    await expect.poll(() => rows.first().textContent(), { timeout: 10_000 }).toMatch(/^remy verified as reviewer · /);
    expect(await rows.filter({ hasText: 'remy replayed' }).count()).toBeGreaterThan(0);
    expect(csp).toEqual([]);
  });

  it('when a reviewer picks a statement of a PostgreSQL session, then the player lands on it, and the link to that moment opens there', async () => {
    const rita = await loggedInPage(browser, web.hub.url, 'Rita Reviewer', `#/play/${pg.id}`);
    const csp = cspViolations(rita);
    const rows = rita.getByTestId('statement');
    await expect.poll(() => rows.count(), { timeout: 30_000 }).toBe(4);
    // The slow statement and the failed one stand out.
    expect(await rows.filter({ hasText: 'pg_sleep' }).getAttribute('class')).toContain('slow');
    expect(await rows.filter({ hasText: 'nope' }).getAttribute('class')).toContain('failed');

    await rows.filter({ hasText: 'nope' }).click();
    await expect.poll(() => rows.filter({ hasText: 'nope' }).getAttribute('class')).toContain('current');
    await expect.poll(() => rita.getByTestId('statement-detail').getByTestId('db-error').textContent()).toContain('42P01');
    expect(await rita.getByTestId('player-time').textContent()).toContain('0:04.5');
    // The first statement's masked result, as recorded.
    await rows.filter({ hasText: 'select name, email' }).click();
    await expect.poll(() => rita.getByTestId('statement-detail').getByTestId('result').textContent()).toContain('[EMAIL]');
    expect(await rows.filter({ hasText: 'nope' }).getAttribute('class')).toContain('future');

    // Back to the failed statement, and its link.
    await rows.filter({ hasText: 'nope' }).click();
    await expect.poll(() => rita.getByTestId('statement-detail').getByTestId('db-error').count()).toBe(1);
    await rita.getByRole('button', { name: 'Copy link to this moment' }).click();
    const link = await rita.getByTestId('moment-link').inputValue();
    expect(csp).toEqual([]);
    expect(link).toBe(`${web.hub.url}/sessions/${pg.id}?t=4.5&seq=${pg.failedSeq}`);

    const remy = await loggedInPage(browser, web.hub.url, 'Remy Reviewer');
    await remy.goto(link);
    await expect.poll(() => remy.getByTestId('statement-detail').getByTestId('db-error').textContent(), { timeout: 30_000 }).toContain('42P01');
    await expect.poll(() => remy.getByTestId('statement').filter({ hasText: 'nope' }).getAttribute('class')).toContain('selected');
    expect(await remy.getByTestId('linked-moment').textContent()).toContain(`event #${pg.failedSeq}`);
  });

  it('when a reviewer replays a session while it runs, then it can be rewound, and L returns to the live edge and follows it', async () => {
    const live = await openShellThroughAgent(h, 'alice', 'demo-shell', { term: 'xterm-256color', cols: 90, rows: 20 });
    try {
      const { stream, shown } = live;
      stream.write('echo early-$((2*3))\r');
      await expect.poll(shown, { timeout: 20_000 }).toContain('early-6');
      let id = '';
      await expect.poll(async () => {
        id = (await h.store.listSessions({ user: 'alice', target: 'demo-shell', live: true }))[0]?.id ?? '';
        return id;
      }, { timeout: 30_000 }).not.toBe('');

      const rita = await loggedInPage(browser, web.hub.url, 'Rita Reviewer', `#/play/${id}`);
      await rita.getByTestId('go-live').click();
      await expect.poll(() => screenText(rita), { timeout: 30_000 }).toContain('early-6');
      await expect.poll(() => rita.getByTestId('player-state').textContent()).toBe('live');
      // Followed: what is typed now shows up.
      stream.write('echo later-$((3*4))\r');
      await expect.poll(() => screenText(rita), { timeout: 30_000 }).toContain('later-12');
      // Rewound to the start: the screen before anything was typed; then back to the edge.
      await rita.keyboard.press('0');
      await expect.poll(() => screenText(rita), { timeout: 30_000 }).not.toContain('early-6');
      expect(await rita.getByTestId('player-state').textContent()).not.toBe('live');
      await rita.keyboard.press('L');
      await expect.poll(() => screenText(rita), { timeout: 30_000 }).toContain('later-12');
      stream.write('echo latest-$((4*5))\r');
      await expect.poll(() => screenText(rita), { timeout: 30_000 }).toContain('latest-20');
    } finally {
      live.conn.end();
    }
  });

  it('when a link carries a malformed moment or id, then the moment is left out or there is no link', async () => {
    const open = (path: string) => fetch(`${web.hub.url}${path}`, { redirect: 'manual' });
    const good = await open(`/sessions/${pg.id}?t=12.5&seq=7`);
    expect(good.status).toBe(302);
    expect(good.headers.get('location')).toBe(`/#/play/${pg.id}?t=12.5&seq=7`);
    const odd = await open(`/sessions/${pg.id}?t=1e9&seq=-1`);
    expect(odd.headers.get('location')).toBe(`/#/play/${pg.id}`);
    expect((await open('/sessions/not%20an%20id?t=1')).status).toBe(404);
  });

  it('when an engineer opens the link to a session that is not theirs, then the login brings them to the player, which finds nothing', async () => {
    const context = await browser.newContext();
    const alice = await context.newPage();
    await alice.goto(`${web.hub.url}/sessions/${pg.id}?t=1`);
    await alice.getByRole('button', { name: /^Alice Engineer/ }).click();
    await alice.waitForURL(`${web.hub.url}/#/play/${pg.id}?t=1`);
    await expect.poll(() => alice.getByTestId('player-not-found').count(), { timeout: 30_000 }).toBe(1);
    expect(await alice.getByTestId('statement').count()).toBe(0);
    // Her own session opens.
    await alice.goto(`${web.hub.url}/sessions/${ssh.id}?t=${seconds(ssh.third + 100)}`);
    await expect.poll(() => screenText(alice), { timeout: 30_000 }).toContain('third-72');
  });
});
