// npm run bench:purge — retention at scale: 10,000 ended, sealed recordings past their target's
// retention are purged (signed tombstones, audit entries) by the hub's purger while live sessions
// keep being persisted into the same private PostgreSQL store. Prints how long the purge took and
// the persister's write latency (one store append of a statement and its result, what the
// persister does per batch) before the purge and during it, with their ratio.
//
// Settings (environment): BENCH_SESSIONS (10000), BENCH_EVENTS (12 per session), BENCH_LIVE_MS
// (5: one live append every so often), BENCH_BASELINE_S (5).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseConfig } from '../../common/config/load-config.ts';
import { silentLogger } from '../../common/log.ts';
import { RecordingSealer } from '../../server/recordings/trust/sealer.ts';
import { createStore } from '../../server/store/create-store.ts';
import type { RecordingStore } from '../../server/recordings/store/recording-store.ts';
import { SessionEvents } from '../../test/store/event-factory.ts';
import { startDataServices, STORE_DB } from './bench-services.ts';
import { Cleanup, runBenchmark } from './processes.ts';
import { percentile } from './report.ts';

const SESSIONS = Number(process.env.BENCH_SESSIONS ?? 10_000);
const EVENTS = Number(process.env.BENCH_EVENTS ?? 12);
const LIVE_MS = Number(process.env.BENCH_LIVE_MS ?? 5);
const BASELINE_S = Number(process.env.BENCH_BASELINE_S ?? 5);

const cleanup = new Cleanup();
cleanup.installSignalHandlers();
const say = (line = '') => process.stdout.write(`${line}\n`);
const t0 = Date.now();
const stamp = () => `[${String(Math.round((Date.now() - t0) / 1000)).padStart(4)} s]`;

/** Live persistence in the background: an append of a statement and its result every LIVE_MS; latencies in ms. */
function liveLoad(store: RecordingStore): { latencies: number[]; stop(): Promise<void> } {
  const sessions = Array.from({ length: 8 }, () => new SessionEvents({ target: 'live-db', startedAt: new Date().toISOString() }));
  const latencies: number[] = [];
  let running = true;
  const loop = (async () => {
    await store.append(sessions.map((s) => s.start()));
    for (let i = 0; running; i++) {
      const s = sessions[i % sessions.length];
      const q = s.query();
      const started = performance.now();
      await store.append([q, s.result(q.event.seq)]);
      latencies.push(performance.now() - started);
      await new Promise((r) => setTimeout(r, LIVE_MS));
    }
  })();
  return { latencies, async stop() { running = false; await loop; } };
}

const summary = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted.at(-1) ?? 0, n: xs.length };
};

runBenchmark('bench:purge', async () => {
  say(`vigil bench:purge — ${SESSIONS} expired recordings of ${EVENTS} events purged while live sessions are persisted, ${os.availableParallelism()} CPUs`);
  const services = await startDataServices(cleanup, [STORE_DB]);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-purge-'));
  cleanup.add('data dir', async () => fs.rmSync(dataDir, { recursive: true, force: true }));
  const stores = await createStore({ databaseUrl: services.urlOf(STORE_DB), dataDir });
  cleanup.add('store', () => stores.close());

  // The recordings to purge: ended a year ago on a target that keeps them a day.
  for (let done = 0; done < SESSIONS; done += 200) {
    const batch = [];
    for (let i = done; i < Math.min(done + 200, SESSIONS); i++) {
      const s = new SessionEvents({ target: 'old-db', startedAt: new Date(Date.now() - 365 * 86_400_000 + i * 1000).toISOString() });
      batch.push(s.start(), ...s.queries((EVENTS - 2) / 2), s.end());
    }
    await stores.recordings.append(batch);
  }
  say(`${stamp()} ${SESSIONS} recordings stored`);
  const keys = await stores.openRecordingKeys(dataDir);
  const sealer = new RecordingSealer({ store: stores.recordings, manifests: stores.manifests, keys, logger: silentLogger });
  for (let sealed = 0; sealed < SESSIONS;) {
    const n = await sealer.sweep();
    if (n === 0) break;
    sealed += n;
  }
  say(`${stamp()} sealed (signed manifests), as the hub seals them when they end`);

  const config = parseConfig({ dataDir, targets: [{ name: 'old-db', protocol: 'postgres', listen: '127.0.0.1:15432', retention: '1d' }] });
  const purger = stores.createPurger({ config, manifests: stores.manifests, keys, sealer, logger: silentLogger });

  const live = liveLoad(stores.recordings);
  await new Promise((r) => setTimeout(r, BASELINE_S * 1000));
  const before = live.latencies.length;
  const purgeStart = performance.now();
  let purged = 0;
  for (;;) {
    const r = await purger.sweep();
    if (r.purged.length === 0) break;
    purged += r.purged.length;
  }
  const purgeSeconds = (performance.now() - purgeStart) / 1000;
  const during = live.latencies.length;
  await live.stop();

  const a = summary(live.latencies.slice(0, before));
  const b = summary(live.latencies.slice(before, during));
  const ms = (x: number) => `${x.toFixed(1)} ms`;
  say(`${stamp()} purged ${purged} recordings in ${purgeSeconds.toFixed(1)} s (${Math.round(purged / purgeSeconds)} per second)`);
  say(`persister write latency, before the purge: p50 ${ms(a.p50)}  p99 ${ms(a.p99)}  max ${ms(a.max)}  (${a.n} appends)`);
  say(`persister write latency, during the purge: p50 ${ms(b.p50)}  p99 ${ms(b.p99)}  max ${ms(b.max)}  (${b.n} appends)`);
  say(`during/before: p50 ${(b.p50 / a.p50).toFixed(2)}  p99 ${(b.p99 / a.p99).toFixed(2)}`);
  await cleanup.run();
}, cleanup);
