// npm run bench:append — what one store append costs, alone: batches of 2 events (a statement and
// its result) over 8 sessions, one after another, into a private PostgreSQL, and for comparison
// the same batches into embedded PGlite. Prints the hub's CPU (this process), the store's CPU
// (its backends) and the wall time per append. bench:pg measures the same code under load, with
// the batches the persister makes; this one isolates an append's fixed cost (its round trips,
// parsing and planning), which small batches pay most.
//
// Settings (environment): BENCH_APPENDS (3000) per round, BENCH_ROUNDS (3).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createStore } from '../../server/store/create-store.ts';
import type { RecordingStore } from '../../server/recordings/store/recording-store.ts';
import { SessionEvents } from '../../test/store/event-factory.ts';
import { startDataServices, STORE_DB, storeBackendsCpu, storeCpuBetween } from './bench-services.ts';
import { Cleanup, cpuSeconds, runBenchmark } from './processes.ts';

const APPENDS = Number(process.env.BENCH_APPENDS ?? 3000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SESSIONS = 8;

const cleanup = new Cleanup();
cleanup.installSignalHandlers();
const say = (line = '') => process.stdout.write(`${line}\n`);
const us = (seconds: number) => `${((seconds * 1e6) / APPENDS).toFixed(0).padStart(5)} us`;

/** One round of appends; the store's CPU from `storeCpu` (0 when it runs in this process). */
async function round(store: RecordingStore, sessions: SessionEvents[], storeCpu: () => Promise<() => Promise<number>>) {
  const stopStore = await storeCpu();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < APPENDS; i++) {
    const s = sessions[i % sessions.length];
    const query = s.query();
    await store.append([query, s.result(query.event.seq)]);
  }
  const wall = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return { hub: (cpu.user + cpu.system) / 1e6, store: await stopStore(), wall };
}

async function measure(name: string, store: RecordingStore, storeCpu: () => Promise<() => Promise<number>>): Promise<void> {
  const sessions = Array.from({ length: SESSIONS }, () => new SessionEvents());
  await store.append(sessions.map((s) => s.start()));
  await round(store, sessions, storeCpu); // warm-up: connections, prepared statements, JIT
  for (let r = 1; r <= ROUNDS; r++) {
    const m = await round(store, sessions, storeCpu);
    const storePart = name === 'pglite' ? '  (in this process)' : `  store ${us(m.store)}`;
    say(`${name.padEnd(10)} round ${r}/${ROUNDS}  hub ${us(m.hub)}${storePart}  wall ${us(m.wall)}  per append of 2 events`);
  }
}

runBenchmark('bench:append', async () => {
  say(`vigil bench:append — ${APPENDS} appends of 2 events over ${SESSIONS} sessions, ${ROUNDS} rounds, ${os.availableParallelism()} CPUs`);
  const services = await startDataServices(cleanup, [STORE_DB]);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-append-'));
  cleanup.add('data dir', async () => fs.rmSync(dataDir, { recursive: true, force: true }));

  const pgStores = await createStore({ databaseUrl: services.urlOf(STORE_DB), dataDir });
  cleanup.add('postgres store', () => pgStores.close());
  const backendsCpu = async () => {
    const before = await storeBackendsCpu(services.postgres.url, cpuSeconds);
    return async () => storeCpuBetween(before, await storeBackendsCpu(services.postgres.url, cpuSeconds));
  };
  await measure('postgresql', pgStores.recordings, backendsCpu);

  const pgliteStores = await createStore({ dataDir });
  cleanup.add('pglite store', () => pgliteStores.close());
  await measure('pglite', pgliteStores.recordings, async () => async () => 0);
  await cleanup.run();
}, cleanup);
