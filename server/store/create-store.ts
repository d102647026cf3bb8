// Picks the engine: PostgreSQL when a database URL is configured, else PGlite persisted under the
// data directory. Either way the schema is migrated before the store is handed out.
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../../common/log.ts';
import { PgSqlClient } from './pg-sql-client.ts';
import { PgliteSqlClient } from './pglite-sql-client.ts';
import type { RecordingStore } from './recording-store.ts';
import type { SqlClient } from './sql-client.ts';
import { SqlRecordingStore } from './sql-recording-store.ts';

export interface CreateStoreOptions {
  /** postgres://... ; without it recordings go to PGlite under `${dataDir}/store`. */
  databaseUrl?: string;
  dataDir: string;
  logger?: Logger;
}

export async function createStore(opts: CreateStoreOptions): Promise<RecordingStore> {
  let client: SqlClient;
  if (opts.databaseUrl) {
    client = new PgSqlClient({ connectionString: opts.databaseUrl, logger: opts.logger });
    opts.logger?.info('recording store: PostgreSQL');
  } else {
    const dir = path.join(opts.dataDir, 'store');
    await fs.mkdir(dir, { recursive: true });
    client = await PgliteSqlClient.open(dir);
    opts.logger?.info({ dir }, 'recording store: embedded PGlite');
  }
  return openStore(client, opts.logger);
}

/** A store in an in-memory PGlite: nothing on disk, gone on close (tests, dev). */
export async function createMemoryStore(opts: { logger?: Logger } = {}): Promise<RecordingStore> {
  return openStore(await PgliteSqlClient.open(), opts.logger);
}

async function openStore(client: SqlClient, logger?: Logger): Promise<RecordingStore> {
  const store = new SqlRecordingStore(client, { logger });
  try {
    await store.migrate();
  } catch (err) {
    await client.close().catch(() => undefined);
    throw err;
  }
  return store;
}
