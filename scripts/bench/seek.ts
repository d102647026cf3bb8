// npm run bench:seek — the player's figures on the PostgreSQL store: a synthetic hour-long SSH
// session with 200 MB of terminal output (shell output and logs, full-screen redraws, a program on
// the alternate screen, resizes) and a PostgreSQL session of 100,000 statements, stored through
// the store's append in persister-sized batches and indexed by the hub's indexer (keyframes,
// markers, search); then, in a real headless Chromium drawing with the dashboard's own terminal
// code: seek request -> frame drawn over 200 random moments (the hub's part and the browser's),
// the first frame when a recording is opened, and the stored bytes against the raw output. Search
// latency over 10,000 sessions is bench:search's (run here at a tenth of its events).
//
// Settings (environment): BENCH_SEEK_MB (200) of output, BENCH_SEEK_STATEMENTS (100000),
// BENCH_SEEKS (200), BENCH_SEARCH_EVENTS (1000000; 0 skips search), BENCH_QUICK=1 (20 MB,
// 10,000 statements, 50 seeks, no search), BENCH_SEEK_HISTORY=0 (diagnostic: the page restores
// keyframes without their history, to tell what parsing it costs).
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import express from 'express';
import { build } from 'esbuild';
import { encodeEvent, type VigilEvent } from '../../common/events/index.ts';
import { silentLogger } from '../../common/log.ts';
import { ensureSigningKey, TokenSigner, TokenVerifier } from '../../common/tokens.ts';
import { createApiApp } from '../../server/http/app.ts';
import { recordingDerivers } from '../../server/recordings/index/derivers.ts';
import { RecordingIndexer } from '../../server/recordings/index/indexer.ts';
import { createStore, type HubStores } from '../../server/store/create-store.ts';
import { prng } from '../../common/prng.ts';
import { launchChromium } from '../../test/support/dashboard-browser.ts';
import { serveApp } from '../../test/support/serve-app.ts';
import { ROOT, startDataServices, STORE_DB } from './bench-services.ts';
import { Cleanup, runBenchmark } from './processes.ts';

const env = process.env;
const QUICK = env.BENCH_QUICK === '1';
const OUTPUT_MB = Number(env.BENCH_SEEK_MB ?? (QUICK ? 20 : 200));
const STATEMENTS = Number(env.BENCH_SEEK_STATEMENTS ?? (QUICK ? 10_000 : 100_000));
const SEEKS = Number(env.BENCH_SEEKS ?? (QUICK ? 50 : 200));
const SEARCH_EVENTS = Number(env.BENCH_SEARCH_EVENTS ?? (QUICK ? 0 : 1_000_000));
/** Diagnostic: BENCH_SEEK_HISTORY=0 restores keyframes without their history in the page. */
const HISTORY = env.BENCH_SEEK_HISTORY !== '0';
const HOUR_MS = 3_600_000;
const BATCH = 100;

const say = (line = '') => process.stdout.write(`${line}\n`);
const started = Date.now();
const stamp = () => `[${String(Math.round((Date.now() - started) / 1000)).padStart(4)} s]`;

const WORDS = 'GET POST 200 404 500 ok error warn info payments worker queue retry timeout connection user order refund invoice /api/v1/items /var/log latency ms db cache hit miss'.split(' ');

class SessionWriter {
  readonly id = crypto.randomUUID();
  seq = 0;
  constructor(readonly protocol: 'ssh' | 'postgres', readonly user: string, readonly target: string, readonly t0: number) {}
  event(type: string, data: unknown, atMs: number): VigilEvent {
    this.seq += 1;
    return {
      v: 1, id: crypto.randomUUID(), sessionId: this.id, seq: this.seq, time: new Date(this.t0 + atMs).toISOString(),
      user: this.user, target: this.target, protocol: this.protocol, connection: { client: '10.0.0.9:50000', agent: 'agent-1' }, type, data,
    } as VigilEvent;
  }
}

/** An hour of a busy terminal: log tails and command output, top-like redraws, an editor on the alternate screen, resizes. */
function* sshSession(w: SessionWriter, bytes: number): Generator<VigilEvent> {
  const random = prng(7);
  const word = () => WORDS[Math.floor(random() * WORDS.length)];
  yield w.event('session.start', { upstream: 'box:22', recording: 'required', clientMasking: false }, 0);
  yield w.event('ssh.shell', { channel: 0, pty: { term: 'xterm-256color', cols: 120, rows: 40 } }, 5);
  let written = 0;
  let cols = 120;
  let rows = 40;
  const chunks = Math.ceil(bytes / 4096);
  for (let i = 0; written < bytes; i++) {
    const at = 10 + Math.floor((i / chunks) * (HOUR_MS - 1000));
    const kind = random();
    let text = '';
    if (kind < 0.05) {
      // A top-like full-screen redraw.
      text = '\x1b[H\x1b[2J';
      for (let r = 0; r < rows - 1; r++) text += `\x1b[${r + 1};1H\x1b[3${r % 8}m${String(r).padStart(5)} ${word()} ${word()} ${(random() * 100).toFixed(1)}%\x1b[0m`;
    } else if (kind < 0.07) {
      // An editor: the alternate screen, some lines, then back.
      text = '\x1b[?1049h\x1b[H\x1b[2J';
      for (let r = 0; r < rows - 2; r++) text += `${r + 1}  ${word()} ${word()} ${word()}\r\n`;
      text += '\x1b[?1049l';
    } else {
      while (text.length < 4096) text += `\x1b[32m${new Date(w.t0 + at).toISOString()}\x1b[0m ${word()} ${word()} ${word()} ${Math.floor(random() * 1e6)}\r\n`;
    }
    written += Buffer.byteLength(text);
    yield w.event('term.output', { channel: 0, text }, at);
    if (i % 2000 === 1999) {
      cols = cols === 120 ? 100 : 120;
      rows = rows === 40 ? 30 : 40;
      yield w.event('term.resize', { channel: 0, cols, rows }, at + 1);
    }
    if (i % 500 === 0) yield w.event('term.input', { channel: 0, text: `tail -f /var/log/${word()}.log\r` }, at + 2);
  }
  yield w.event('session.end', { reason: 'client_terminate', durationMs: HOUR_MS, bytesDown: written, bytesUp: 100 }, HOUR_MS);
}

function* pgSession(w: SessionWriter, statements: number): Generator<VigilEvent> {
  const random = prng(9);
  yield w.event('session.start', { database: 'orders', upstream: 'db:5432', recording: 'required', clientMasking: false }, 0);
  for (let i = 0; i < statements; i++) {
    const at = 10 + Math.floor((i / statements) * (HOUR_MS - 1000));
    const id = Math.floor(random() * 1e6);
    const q = w.event('db.query', { protocol: 'simple', sql: `select id, status, amount from orders where customer_id = ${id}` }, at);
    yield q;
    yield w.event('db.result', {
      querySeq: q.seq, statementIndex: 0, columns: [{ name: 'id', typeOid: 23, format: 'text' }, { name: 'status', typeOid: 25, format: 'text' }],
      rows: [[String(id), 'shipped']], rowCount: 1, truncated: false, command: 'SELECT 1', durationUs: 300 + Math.floor(random() * 2000),
    }, at + 1);
  }
  yield w.event('session.end', { reason: 'client_terminate', durationMs: HOUR_MS, bytesDown: 1, bytesUp: 1 }, HOUR_MS);
}

async function store(stores: HubStores, events: Iterable<VigilEvent>): Promise<{ events: number; rawOutput: number }> {
  let batch: VigilEvent[] = [];
  let count = 0;
  let rawOutput = 0;
  for (const e of events) {
    if (e.type === 'term.output') rawOutput += Buffer.byteLength(e.data.text);
    batch.push(e);
    count++;
    if (batch.length === BATCH) {
      await stores.recordings.append(batch.map((event) => ({ event, body: encodeEvent(event) })));
      batch = [];
    }
  }
  if (batch.length) await stores.recordings.append(batch.map((event) => ({ event, body: encodeEvent(event) })));
  return { events: count, rawOutput };
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};
const ms = (n: number) => `${n.toFixed(1)} ms`;
const verdict = (value: number, target: number) => (value <= target ? 'PASS' : 'MISS');

async function main(cleanup: Cleanup): Promise<void> {
  say(`vigil bench:seek — ${OUTPUT_MB} MB SSH session, ${STATEMENTS} statements, ${SEEKS} seeks, ${os.cpus().length} CPUs`);
  const { urlOf } = await startDataServices(cleanup, [STORE_DB]);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-seek-'));
  cleanup.add('temp dir', () => fs.rmSync(dir, { recursive: true, force: true }));
  const stores = await createStore({ databaseUrl: urlOf(STORE_DB), dataDir: dir, logger: silentLogger });
  cleanup.add('store', () => stores.close());

  const t0 = Date.parse('2030-06-01T10:00:00.000Z');
  const ssh = new SessionWriter('ssh', 'bob', 'box', t0);
  const pg = new SessionWriter('postgres', 'alice', 'orders', t0);
  let cpu = process.cpuUsage();
  const sshStored = await store(stores, sshSession(ssh, OUTPUT_MB * 1024 * 1024));
  const pgStored = await store(stores, pgSession(pg, STATEMENTS));
  let used = process.cpuUsage(cpu);
  say(`${stamp()} stored ${sshStored.events} SSH events (${(sshStored.rawOutput / 1e6).toFixed(0)} MB of output) and ${pgStored.events} PostgreSQL events; ` +
    `hub CPU ${((used.user + used.system) / (sshStored.events + pgStored.events)).toFixed(1)} us per event`);

  const indexer = new RecordingIndexer({ store: stores.recordings, index: stores.index, derivers: recordingDerivers, logger: silentLogger, scanIntervalMs: 100 });
  cleanup.add('indexer', () => indexer.stop());
  cpu = process.cpuUsage();
  const indexStart = Date.now();
  indexer.start();
  indexer.nudge([ssh.id, pg.id]);
  for (const w of [ssh, pg]) {
    while ((await stores.index.indexedSeq(w.id)) < w.seq) await new Promise((r) => setTimeout(r, 200));
  }
  used = process.cpuUsage(cpu);
  const keyframes = await stores.index.keyframeSeqs(ssh.id);
  say(`${stamp()} indexed in ${((Date.now() - indexStart) / 1000).toFixed(1)} s (hub CPU ${((used.user + used.system) / 1e6).toFixed(1)} s): ` +
    `${keyframes.length} keyframes, ${(await stores.index.markers(ssh.id)).markers.length} + ${(await stores.index.markers(pg.id)).markers.length} markers`);

  // Storage: what the SSH session's rows hold (segments and keyframes, as PostgreSQL stores them) against its raw output.
  const segments = await stores.recordings.listSegments(ssh.id);
  const segmentBytes = segments.reduce((n, g) => n + g.storedBytes, 0);
  const keyframeBytes = await keyframeStoredBytes(urlOf(STORE_DB), ssh.id);
  const ratio = (segmentBytes + keyframeBytes) / sshStored.rawOutput;
  say(`${stamp()} storage: segments ${(segmentBytes / 1e6).toFixed(1)} MB (${segments.length}) + keyframes ${(keyframeBytes / 1e6).toFixed(1)} MB ` +
    `= ${ratio.toFixed(2)} of the raw output; target <= 0.5: ${verdict(ratio, 0.5)}`);

  // The hub's API and the page, one origin.
  const keys = ensureSigningKey(dir);
  const token = await (await TokenSigner.fromPem(keys.privateKeyPem)).apiToken('rita', 'reviewer', 2 * HOUR_MS);
  const pageDir = path.join(dir, 'page');
  await build({
    entryPoints: [path.join(ROOT, 'scripts/bench/seek-page/seek-page.ts')], bundle: true, outdir: pageDir, format: 'esm',
    minify: true, logLevel: 'error',
  });
  fs.writeFileSync(path.join(pageDir, 'index.html'),
    '<!doctype html><html><head><link rel="stylesheet" href="seek-page.css"></head><body><div id="terminal"></div><script type="module" src="seek-page.js"></script></body></html>');
  const outer = express();
  outer.use('/bench', express.static(pageDir));
  outer.use(createApiApp({ stores, verifier: await TokenVerifier.fromPem(keys.publicKeyPem), logger: silentLogger }));
  const served = await serveApp(outer);
  cleanup.add('hub api', () => served.close());
  const browser = await launchChromium();
  cleanup.add('chromium', () => browser.close());
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  await page.goto(`${served.url}/bench/index.html?token=${token}${HISTORY ? '' : '&history=0'}`);
  await page.waitForFunction(() => 'benchSeek' in window);

  type Timing = { serverMs: number; clientMs: number; events: number };
  type Opening = Timing & { timelineMs: number };
  const openOnce = () => page.evaluate((id) => (window as unknown as { benchOpen(id: string): Promise<Opening> }).benchOpen(id), ssh.id);
  // The first opening finds the hub's route and the store's pages cold; the later ones, warm.
  const open = await openOnce();
  const reopened: Opening[] = [];
  for (let i = 0; i < 10; i++) reopened.push(await openOnce());
  const random = prng(3);
  const timings: Timing[] = [];
  for (let i = 0; i < SEEKS; i++) {
    const seq = 1 + Math.floor(random() * ssh.seq);
    timings.push(await page.evaluate(([id, s]) => (window as unknown as { benchSeek(id: string, seq: number): Promise<Timing> }).benchSeek(id, s), [ssh.id, seq] as const));
  }
  const total = timings.map((t) => t.serverMs + t.clientMs);
  say(`${stamp()} seek request -> frame drawn (${SEEKS} random moments of the SSH session, headless Chromium):`);
  say(`  hub   p50 ${ms(pct(timings.map((t) => t.serverMs), 50))}  p99 ${ms(pct(timings.map((t) => t.serverMs), 99))}`);
  say(`  page  p50 ${ms(pct(timings.map((t) => t.clientMs), 50))}  p99 ${ms(pct(timings.map((t) => t.clientMs), 99))}  (events replayed after the keyframe: p50 ${pct(timings.map((t) => t.events), 50)}, max ${Math.max(...timings.map((t) => t.events))})`);
  say(`  total p50 ${ms(pct(total, 50))}  p99 ${ms(pct(total, 99))}; target p99 < 150 ms: ${verdict(pct(total, 99), 150)}`);
  const first = open.serverMs + open.clientMs;
  const again = pct(reopened.map((o) => o.serverMs + o.clientMs), 50);
  say(`  first frame on opening (timeline + first moment drawn): ${ms(first)} (timeline ${ms(open.timelineMs)}, seek ${ms(open.serverMs - open.timelineMs)}, page ${ms(open.clientMs)}); ` +
    `opened again, p50 of 10: ${ms(again)}; target < 300 ms: ${verdict(first, 300)}`);

  // The PostgreSQL session: a statement page from the middle, as the player reads it.
  const pageTimes: number[] = [];
  for (let i = 0; i < 50; i++) {
    const from = 1 + Math.floor(random() * pg.seq);
    const t = performance.now();
    const res = await fetch(`${served.url}/api/sessions/${pg.id}/statements?from=${from}&limit=200`, { headers: { authorization: `Bearer ${token}` } });
    await res.json();
    pageTimes.push(performance.now() - t);
  }
  say(`${stamp()} PostgreSQL session: a page of 200 statements from anywhere in ${STATEMENTS}: p50 ${ms(pct(pageTimes, 50))}, p99 ${ms(pct(pageTimes, 99))}`);

  if (SEARCH_EVENTS > 0) {
    say(`${stamp()} search over 10,000 sessions and ${SEARCH_EVENTS} events (bench:search on its own PostgreSQL; 10 million events: npm run bench:search):`);
    // Its own directory under the system's temp dir: its PostgreSQL runs as postgres when we are root.
    const searchDir = path.join(os.tmpdir(), `vigil-bench-search-${process.pid}`);
    cleanup.add('search bench dir', () => fs.rmSync(searchDir, { recursive: true, force: true }));
    const { stdout } = await promisify(execFile)('npx', ['tsx', path.join(ROOT, 'scripts/bench/search.ts'), '--sessions', '10000', '--events', String(SEARCH_EVENTS),
      '--dir', searchDir, '--runs', '10'], { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 });
    const line = stdout.split('\n').find((l) => l.startsWith('ALL searchRecordings')) ?? 'no result';
    const p99 = Number(/p99 ([\d.]+) ms/.exec(line)?.[1] ?? NaN);
    say(`  ${line}; target p99 < 200 ms: ${verdict(p99, 200)}`);
  }
  say(`${stamp()} done`);
}

/** The keyframes' bytes as PostgreSQL stores them (compressed when large). */
async function keyframeStoredBytes(url: string, sessionId: string): Promise<number> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: string }>(
      'SELECT coalesce(sum(pg_column_size(screen) + pg_column_size(prelude) + coalesce(pg_column_size(hidden), 0)), 0)::text AS n FROM keyframes WHERE session_id = $1', [sessionId]);
    return Number(rows[0].n);
  } finally {
    await client.end();
  }
}

const cleanup = new Cleanup();
process.once('SIGINT', () => {
  cleanup.interrupted = true;
  void cleanup.run().then(() => process.exit(130));
});
runBenchmark('bench:seek', async () => {
  try {
    await main(cleanup);
  } finally {
    await cleanup.run();
  }
}, cleanup);
