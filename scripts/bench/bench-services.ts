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
