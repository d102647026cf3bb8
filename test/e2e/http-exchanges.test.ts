// An HTTP session in the dashboard, in real Chromium: the test stands in for an agent, appending
// (signed) events to the hub's bus and renewing its lease. A reviewer watches the session live as
// a timeline of exchanges: each row's method, path, status and size, opened to its masked headers
// and bodies (JSON pretty-printed, hostile markup as text, long lines never widening the page);
// exchanges appear and get their answer as they come, a guardrail's refusal and a WebSocket's
// messages on theirs; a late joiner gets the backlog. Then the ended session in the player: the
// exchanges still to come dimmed, one chosen is landed on whole, and find goes to a body's text.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createInProcessBus } from '../../common/bus/in-process-bus.ts';
import type { EventBus } from '../../common/bus/event-bus.ts';
import { createInProcessControlBus } from '../../common/control/in-process-control-bus.ts';
import { encodeEvent, VigilEvent } from '../../common/events/index.ts';
import { silentLogger } from '../../common/log.ts';
import { ensureDashboardBuilt } from '../../server/http/dashboard.ts';
import { createMemoryStore, type HubStores } from '../../server/store/create-store.ts';
import { launchChromium, loggedInPage, startHubWithLogin, type HubWithLogin } from '../support/dashboard-browser.ts';
import { signingBus } from '../support/signing-bus.ts';

vi.setConfig({ testTimeout: 120_000, hookTimeout: 240_000 });

const AGENT = 'agent-1';
const HOSTILE = '<img src=x onerror="window.__pwned = 1">';
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-http-e2e-'));
const control = createInProcessControlBus();
const t0 = Date.now();
const sessionId = randomUUID();
let seq = 0;
let bus: EventBus;
let stores: HubStores;
let web: HubWithLogin;
let browser: Browser;
let lease: ReturnType<typeof setInterval> | undefined;
const instance = randomUUID();

/** The next event of the session, as the agent would record it. */
function make(type: VigilEvent['type'], data: unknown): VigilEvent {
  return VigilEvent.parse({
    v: 1, id: randomUUID(), sessionId, seq: ++seq, time: new Date(Math.max(Date.now(), t0 + seq)).toISOString(), user: 'erin', target: 'billing-api',
    protocol: 'http', connection: { client: '10.1.2.3:51000', agent: AGENT }, type, data,
  });
}

const send = (...events: VigilEvent[]) => bus.append(events.map((event) => ({ sessionId: event.sessionId, seq: event.seq, body: encodeEvent(event) })));

/** The agent's lease, holding the session: without it the hub would end the session as lost. */
const renew = () => control.renewLease({ agent: AGENT, instance, startedAt: new Date(t0 - 60_000).toISOString(), at: new Date().toISOString(), sessions: { [sessionId]: seq } }, 5000);

/** A complete exchange: request, response head, response body, end. Returns the request's seq. */
async function exchange(method: string, p: string, query: string, status: number, body: { contentType: string; text: string }, headers: [string, string][] = []): Promise<number> {
  const req = make('http.request', { method, path: p, query, version: '1.1', headers });
  await send(
    req,
    make('http.response', { requestSeq: req.seq, status, headers: [['Content-Type', body.contentType]] }),
    make('http.body', { requestSeq: req.seq, direction: 'response', contentType: body.contentType, text: body.text, bytes: body.text.length }),
    make('http.end', { requestSeq: req.seq, outcome: 'complete', durationMs: 12, requestBytes: 0, responseBytes: body.text.length }),
  );
  return req.seq;
}

/** What the exchanges are: refs filled in as the session goes. */
const seqs = { refund: 0, refundEnd: 0, stream: 0 };

beforeAll(async () => {
  await ensureDashboardBuilt();
  stores = await createMemoryStore({ logger: silentLogger });
  const inProcess = createInProcessBus();
  bus = signingBus(inProcess, dir, AGENT);
  web = await startHubWithLogin({ dataDir: dir, targets: [], bus: inProcess, stores, control });
  browser = await launchChromium();
  await renew();
  lease = setInterval(() => void renew(), 1000);
  await send(make('session.start', { upstream: 'https://billing.internal:8443', auth: 'bearer', recording: 'required', clientMasking: false }));
  await exchange('GET', '/v1/invoices', 'customer=[MASKED]&limit=2', 200,
    { contentType: 'application/json', text: JSON.stringify({ invoices: [{ id: 7, email: '[EMAIL]', note: HOSTILE }] }) },
    [['Authorization', 'Bearer [VIGIL_TOKEN]'], ['Accept', 'application/json']]);
  // Wide content: a path and a body line far wider than any screen.
  await exchange('GET', `/v1/search/${'q'.repeat(3000)}`, '', 404, { contentType: 'text/plain', text: 'n'.repeat(20_000) });
});

afterAll(async () => {
  if (lease) clearInterval(lease);
  await browser?.close();
  await web?.stop();
  await stores?.close();
  await control.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A page's Content-Security-Policy violations, as they happen. */
function cspViolations(page: Page): string[] {
  const seen: string[] = [];
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) seen.push(m.text());
  });
  return seen;
}

const rows = (page: Page) => page.getByTestId('http-exchange');
const row = (page: Page, seqOf: number) => page.locator(`[data-testid="http-exchange"][data-seq="${seqOf}"]`);
const widerThanWindow = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth > document.documentElement.clientWidth);

describe('an HTTP session in the dashboard', () => {
  it('when a reviewer watches it live, then each exchange is a row that opens to its masked headers and bodies, as text, and new ones come as they happen', async () => {
    const rita = await loggedInPage(browser, web.hub.url, 'Rita Reviewer', `#/watch/${sessionId}`);
    const csp = cspViolations(rita);
    await expect.poll(() => rows(rita).count(), { timeout: 30_000 }).toBe(2);
    const first = rows(rita).first();
    expect(await first.textContent()).toContain('/v1/invoices?customer=[MASKED]&limit=2');
    expect(await first.getByTestId('http-status').textContent()).toBe('200');
    expect(await first.getByTestId('http-status').getAttribute('class')).toContain('ok');
    expect(await rita.getByTestId('events').textContent()).toContain('signed in with bearer');

    // Opened: the headers as recorded, the JSON body pretty-printed, the markup in it as text.
    const toggle = first.getByTestId('http-toggle');
    expect(await toggle.getAttribute('aria-expanded')).toBe('false');
    await toggle.click();
    expect(await toggle.getAttribute('aria-expanded')).toBe('true');
    expect(await first.getByTestId('http-detail').textContent()).toContain('Bearer [VIGIL_TOKEN]');
    const body = (await first.getByTestId('http-response-body').textContent()) ?? '';
    expect(body).toContain('\n      "email": "[EMAIL]",');
    expect(body).toContain(HOSTILE.replace(/"/g, '\\"'));
    expect(await rita.locator('[data-testid=http-exchanges] img, [data-testid=http-exchanges] script').count()).toBe(0);
    expect(await rita.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();

    // The wide one, opened: its body scrolls in its own box, the page keeps its width.
    const wide = rows(rita).nth(1);
    await wide.getByTestId('http-toggle').click();
    await expect.poll(() => wide.getByTestId('http-response-body').count()).toBe(1);
    expect(await wide.getByTestId('http-status').getAttribute('class')).toContain('client-error');
    expect(await widerThanWindow(rita)).toBe(false);
    const box = await wide.getByTestId('http-response-body').evaluate((el) => ({ scroll: el.scrollHeight, client: el.clientHeight, overflow: getComputedStyle(el).overflowY }));
    expect(box.overflow).toBe('auto');
    expect(box.scroll).toBeGreaterThan(box.client);

    // A request the guardrail refuses: pending first, then refused by Vigil.
    const refund = make('http.request', { method: 'POST', path: '/v1/refunds', query: '', version: '1.1', headers: [['Content-Type', 'application/json']] });
    seqs.refund = refund.seq;
    await send(refund, make('http.body', { requestSeq: refund.seq, direction: 'request', contentType: 'application/json', text: '{"amount":42,"note":"quokka"}', bytes: 29 }));
    await expect.poll(() => row(rita, refund.seq).getByTestId('http-status').textContent(), { timeout: 30_000 }).toBe('—');
    const refusal = [
      make('guardrail.hit', { rule: 'no-refunds', action: 'deny', querySeq: refund.seq, statement: 'POST /v1/refunds' }),
      make('http.response', { requestSeq: refund.seq, status: 403, headers: [], by: 'vigil' }),
      make('http.end', { requestSeq: refund.seq, outcome: 'refused', durationMs: 2, requestBytes: 29, responseBytes: 0 }),
    ];
    seqs.refundEnd = refusal[2].seq;
    await send(...refusal);
    await expect.poll(() => row(rita, refund.seq).getByTestId('http-status').textContent(), { timeout: 30_000 }).toBe('403 · vigil · refused');
    expect(await row(rita, refund.seq).getByTestId('http-guardrail-badge').textContent()).toBe('denied: no-refunds');

    // A WebSocket: its messages under its exchange, with their direction.
    const stream = make('http.request', { method: 'GET', path: '/v1/stream', query: '', version: '1.1', headers: [['Upgrade', 'websocket']] });
    seqs.stream = stream.seq;
    await send(stream, make('http.response', { requestSeq: stream.seq, status: 101, headers: [] }),
      make('ws.message', { requestSeq: stream.seq, direction: 'client', kind: 'text', text: 'subscribe invoices', bytes: 18 }),
      make('ws.message', { requestSeq: stream.seq, direction: 'target', kind: 'text', text: 'invoice 7 paid', bytes: 14 }),
      make('http.end', { requestSeq: stream.seq, outcome: 'upgraded', durationMs: 900, requestBytes: 0, responseBytes: 0 }));
    await expect.poll(() => row(rita, stream.seq).count(), { timeout: 30_000 }).toBe(1);
    await row(rita, stream.seq).getByTestId('http-toggle').click();
    const messages = row(rita, stream.seq).getByTestId('ws-message');
    await expect.poll(() => messages.count(), { timeout: 30_000 }).toBe(2);
    expect(await messages.first().textContent()).toMatch(/→\s*subscribe invoices/);
    expect(await messages.last().textContent()).toMatch(/←\s*invoice 7 paid/);

    // A late joiner: the whole backlog, as exchanges.
    const remy = await loggedInPage(browser, web.hub.url, 'Remy Reviewer', `#/watch/${sessionId}`);
    await expect.poll(() => rows(remy).count(), { timeout: 30_000 }).toBe(4);
    expect(await row(remy, refund.seq).getByTestId('http-status').textContent()).toBe('403 · vigil · refused');
    expect(csp).toEqual([]);
  });

  it('when the ended session is replayed, then the exchanges to come are dimmed, one chosen is landed on whole, and find goes to a body', async () => {
    await send(make('session.end', { reason: 'idle', durationMs: Date.now() - t0, bytesDown: 1, bytesUp: 1 }));
    const lastSeq = seq;
    await expect.poll(async () => (await stores.recordings.getSession(sessionId))?.endedAt ?? null, { timeout: 30_000 }).not.toBeNull();
    const rita = await loggedInPage(browser, web.hub.url, 'Rita Reviewer', `#/play/${sessionId}`);
    const csp = cspViolations(rita);
    await expect.poll(() => rows(rita).count(), { timeout: 30_000 }).toBe(4);
    // At the start: nothing played yet.
    expect(await row(rita, seqs.refund).getAttribute('class')).toContain('upcoming');
    expect(await row(rita, seqs.refund).getByTestId('http-status').textContent()).toBe('');

    await row(rita, seqs.refund).getByRole('button', { name: /^Go to POST \/v1\/refunds/ }).click();
    await expect.poll(() => rita.getByTestId('player-state').getAttribute('data-seq'), { timeout: 30_000 }).toBe(String(seqs.refundEnd));
    const refund = row(rita, seqs.refund);
    await expect.poll(() => refund.getAttribute('class')).toContain('selected');
    expect(await refund.getAttribute('class')).toContain('current');
    expect(await refund.getByTestId('http-status').textContent()).toBe('403 · vigil · refused');
    expect(await refund.getByTestId('http-guardrail').textContent()).toBe('denied by rule no-refunds');
    expect(await refund.getByTestId('http-request-body').textContent()).toContain('"note": "quokka"');
    expect(await row(rita, seqs.stream).getAttribute('class')).toContain('upcoming');
    expect(await widerThanWindow(rita)).toBe(false);

    // Find: the hub indexed the bodies; the hit is the request body's event, in its exchange.
    await expect.poll(() => stores.index.indexedSeq(sessionId), { timeout: 30_000 }).toBeGreaterThanOrEqual(lastSeq);
    // From the start: the hit is the next one.
    await rita.keyboard.press('Home');
    await rita.getByTestId('find-text').fill('quokka');
    await rita.getByTestId('find-text').press('Enter');
    await expect.poll(() => rita.getByTestId('find-count').textContent(), { timeout: 30_000 }).toBe('1 of 1');
    expect(await rita.getByTestId('find-hit').textContent()).toContain('sent');
    await expect.poll(() => rita.getByTestId('player-state').getAttribute('data-seq'), { timeout: 30_000 }).toBe(String(seqs.refund + 1));
    await expect.poll(() => row(rita, seqs.refund).getAttribute('class')).toContain('selected');
    // Landed on the request body: no answer yet at that moment.
    expect(await row(rita, seqs.refund).getByTestId('http-status').textContent()).toBe('—');
    expect(csp).toEqual([]);
  });
});
