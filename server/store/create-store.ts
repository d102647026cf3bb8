// Picks the engine: PostgreSQL when a database URL is configured, else PGlite persisted under the
// data directory. Either way the schema is migrated before the stores are handed out: the
// recordings and their index, the access requests and audit log, and the registered SSH keys, side by side in one
// database over one client.
import { ManifestStore } from '../recordings/trust/manifest-store.ts';
import { RecordingKeys } from '../recordings/trust/recording-keys.ts';
import { HoldStore } from '../recordings/retention/hold-store.ts';
import { AgentRegistry } from '../agents/agent-registry.ts';
import { AuditCheckpoints } from '../audit/audit-checkpoints.ts';
import type { PublishedKey } from '../recordings/trust/manifest.ts';
import { RecordingPurger, type PurgerOptions } from '../recordings/retention/purger.ts';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../../common/log.ts';
import { PgSqlClient } from './pg-sql-client.ts';
import { PgliteSqlClient } from './pglite-sql-client.ts';
import type { RecordingStore } from '../recordings/store/recording-store.ts';
import type { SqlClient } from './sql-client.ts';
import { SqlRecordingStore } from '../recordings/store/sql-recording-store.ts';
import { SqlAccessStore, type AccessStore } from '../access/access-store.ts';
import { SqlSshKeyStore, type SshKeyStore } from '../ssh-keys/ssh-key-store.ts';
import { RecordingIndexStore } from '../recordings/index/index-store.ts';
import { ShareStore } from '../shares/share-store.ts';
import { LockStore } from '../locks/lock-store.ts';

/** What the hub keeps in its database: one client, three stores over it. */
export interface HubStores {
  /** Recordings: events, session summaries, the agents seen. */
  readonly recordings: RecordingStore;
  /** Access requests, grants and the audit log. */
  readonly access: AccessStore;
  /** The SSH public keys people registered. */
  readonly sshKeys: SshKeyStore;
  /** What the indexer derives from recordings: keyframes, markers, search. */
  readonly index: RecordingIndexStore;
  /** Recordings shared with people, and the notes pinned to them. */
  readonly shares: ShareStore;
  /** Locks: who or what is kept out (common/locks.ts). */
  readonly locks: LockStore;
  /** Signed manifests of recordings, and the raw rows they are computed from. */
  readonly manifests: ManifestStore;
  /** This hub's manifest signing key (kept in dataDir) and the published keys of all hubs. */
  openRecordingKeys(dataDir: string): Promise<RecordingKeys>;
  /** Legal holds: what retention must not purge. */
  readonly holds: HoldStore;
  /** The retention purger over this store. */
  createPurger(opts: Omit<PurgerOptions, 'client'>): RecordingPurger;
  /** The agents this hub trusts (hubKeys: the hubs' own signing keys, for the ends hubs write). */
  createAgentRegistry(logger: Logger, hubKeys?: () => Promise<PublishedKey[]>): AgentRegistry;
  /** Signed checkpoints of the audit log, and their verification. */
  createAuditCheckpoints(keys: RecordingKeys, logger: Logger): AuditCheckpoints;
  /** Resolves when the database answers a trivial statement (readiness); rejects otherwise. */
  ping(): Promise<void>;
  /** Closes the database client (all three stores). */
  close(): Promise<void>;
}

export interface CreateStoreOptions {
  /** postgres://... ; without it recordings go to PGlite under `${dataDir}/store`. */
  databaseUrl?: string;
  dataDir: string;
  logger?: Logger;
}

export async function createStore(opts: CreateStoreOptions): Promise<HubStores> {
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

/** The stores in an in-memory PGlite: nothing on disk, gone on close (tests). */
export async function createMemoryStore(opts: { logger?: Logger } = {}): Promise<HubStores> {
  return openStore(await PgliteSqlClient.open(undefined, await emptyMigratedStore()), opts.logger);
}

// A new PGlite runs initdb inside WASM: about 3 s of CPU, and the test suite opens a hundred
// memory stores on a 2-core machine. A copy of one migrated empty store loads in about 1 s.
let emptyStore: Promise<Blob> | undefined;

function emptyMigratedStore(): Promise<Blob> {
  if (!emptyStore) {
    emptyStore = (async () => {
      const client = await PgliteSqlClient.open();
      try {
        await new SqlRecordingStore(client).migrate();
        return await client.dump();
      } finally {
        await client.close();
      }
    })();
    // A failed attempt is not kept: the next store tries again.
    emptyStore.catch(() => { emptyStore = undefined; });
  }
  return emptyStore;
}

async function openStore(client: SqlClient, logger?: Logger): Promise<HubStores> {
  // The recording store owns the client (its close() closes it) and runs the migrations of all.
  const recordings = new SqlRecordingStore(client, { logger });
  try {
    await recordings.migrate();
  } catch (err) {
    await client.close().catch(() => undefined);
    throw err;
  }
  return {
    recordings,
    access: new SqlAccessStore(client),
    sshKeys: new SqlSshKeyStore(client),
    index: new RecordingIndexStore(client),
    shares: new ShareStore(client),
    locks: new LockStore(client),
    manifests: new ManifestStore(client),
    openRecordingKeys: (dataDir) => RecordingKeys.open(client, dataDir),
    holds: new HoldStore(client),
    createPurger: (opts) => new RecordingPurger({ ...opts, client }),
    createAgentRegistry: (log, hubKeys) => new AgentRegistry(client, log, hubKeys),
    createAuditCheckpoints: (keys, log) => new AuditCheckpoints(client, keys, log),
    ping: () => recordings.ping(),
    close: () => recordings.close(),
  };
}
