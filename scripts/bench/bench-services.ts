// What every benchmark starts the same way: a private PostgreSQL with the databases it needs and a
// private Redis (free ports, registered for clean-up), and the hub's persister into a store.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { createBus } from '../../common/bus/create-bus.ts';
import { silentLogger } from '../../common/log.ts';
import { Persister } from '../../server/recordings/ingest/persister.ts';
import { createStore } from '../../server/store/create-store.ts';
import type { RecordingStore } from '../../server/recordings/store/recording-store.ts';
import { startPostgres, startRedis, type PostgresInstance, type RedisInstance } from '../../test/support/services.ts';
import type { Cleanup } from './processes.ts';

/** The repository, where the benchmarks bundle the `vigil` command to (as `npm run build` ships it). */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const BUNDLE_DIR = path.join(ROOT, 'dist', 'bench');
/** The databases the benchmarks create: the target's, and the hub's store. */
export const DB = 'bench';
export const STORE_DB = 'vigil_store';

export interface DataServices {
  postgres: PostgresInstance;
  redis: RedisInstance;
  /** The URL of one of the databases created. */
  urlOf(database: string): string;
}

export async function startDataServices(cleanup: Cleanup, databases: string[]): Promise<DataServices> {
  const postgres = await startPostgres();
  cleanup.add('postgres', () => postgres.stop());
  const redis = await startRedis();
  cleanup.add('redis', () => redis.stop());
  const admin = new pg.Client({ connectionString: postgres.url });
  await admin.connect();
  for (const db of databases) await admin.query(`CREATE DATABASE ${db}`);
  await admin.end();
  return { postgres, redis, urlOf: (db) => postgres.url.replace(/\/[^/]*$/, `/${db}`) };
}

/** The hub's persister in this process: Redis -> the store in `storeUrl`. */
export async function startPersister(cleanup: Cleanup, redisUrl: string, storeUrl: string, dataDir: string): Promise<{ store: RecordingStore; persister: Persister }> {
  const stores = await createStore({ databaseUrl: storeUrl, dataDir });
  cleanup.add('store', () => stores.close());
  const store = stores.recordings;
  const bus = await createBus(redisUrl, silentLogger);
  cleanup.add('hub bus', () => bus.close());
  const persister = new Persister({ bus, store, logger: silentLogger, blockMs: 200 });
  persister.start();
  cleanup.add('persister', () => persister.stop());
  return { store, persister };
}

/**
 * CPU seconds the store's PostgreSQL backends have used so far (the persister's writes run
 * there, not in the hub): sampled before and after a run, the difference is the store's share.
 * Backends come and go with the pool; one that ended between two samples is not counted.
 */
export async function storeBackendsCpu(adminUrl: string, cpuSeconds: (pid: number) => number): Promise<Map<number, number>> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1', [STORE_DB]);
    return new Map(rows.map((r) => [r.pid, cpuSeconds(r.pid)]));
  } finally {
    await admin.end();
  }
}

/** CPU seconds used between two samples of storeBackendsCpu (a backend new since `before` counts whole). */
export function storeCpuBetween(before: Map<number, number>, after: Map<number, number>): number {
  let sum = 0;
  for (const [pid, cpu] of after) sum += cpu - (before.get(pid) ?? 0);
  return sum;
}
