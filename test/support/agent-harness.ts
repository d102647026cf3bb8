// A whole Vigil data path for integration tests, from real parts: a private PostgreSQL upstream
// (a fresh database per harness), the agent on a free port, a bus (Redis or in-process), the
// persister and a store. Tests drive it with the real psql and node-postgres.
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import pg from 'pg';
import type { Config } from '../../common/config/schema.ts';
import { parseConfig } from '../../common/config/load-config.ts';
import type { EventBus } from '../../common/bus/event-bus.ts';
import type { ControlBus } from '../../common/control/control-bus.ts';
import { createInProcessBus } from '../../common/bus/in-process-bus.ts';
import { createRedisBus } from '../../common/bus/redis-bus.ts';
import { createLogger, silentLogger } from '../../common/log.ts';

// VIGIL_TEST_LOG=debug shows the agent's and persister's logs while a test runs.
const logger = process.env.VIGIL_TEST_LOG ? createLogger(process.env.VIGIL_TEST_LOG) : silentLogger;
import { ensureSigningKey, TokenSigner } from '../../common/tokens.ts';
import { startAgent, type Agent } from '../../proxy-agent/agent.ts';
import type { RecordingStore } from '../../server/recordings/store/recording-store.ts';
import { createMemoryStore, type HubStores } from '../../server/store/create-store.ts';
import { Persister } from '../../server/recordings/ingest/persister.ts';
import { recordings, type Recordings } from './recordings.ts';

export interface HarnessOptions {
  /** Superuser URL of the private PostgreSQL (inject('postgresUrl')). */
  postgresUrl: string;
  /** Redis URL; the in-process bus when omitted. */
  redisUrl?: string;
  /** Extra target settings (masking, recording, maxRows, upstream user...). */
  target?: Record<string, unknown>;
  /** SQL run in the fresh upstream database before the agent starts. */
  seed?: string;
  stores?: HubStores;
  /** The agent's spool limits (small ones to test a full spool). */
  spool?: { maxEvents: number; maxBytes: number };
  /** The control bus the agent obeys (kill orders). */
  control?: ControlBus;
}

export interface Harness extends Recordings {
  agent: Agent;
  bus: EventBus;
  /** The hub's database (recordings, access, SSH keys). */
  stores: HubStores;
  /** stores.recordings */
  store: RecordingStore;
  persister: Persister;
  config: Config;
  /** Redis key prefix of this harness's bus (its stream is `${keyPrefix}events`). */
  keyPrefix: string;
  database: string;
  /** Superuser URL of the upstream database (direct, not through the agent). */
  directUrl: string;
  port: number;
  token(user?: string, target?: string, ttlMs?: number): Promise<string>;
  /** A libpq URI through the agent for `user`. */
  uri(user?: string): Promise<string>;
  /** Runs the real psql through the agent. */
  psql(args: string[], opts?: { input?: string; user?: string }): Promise<{ stdout: string; stderr: string; code: number }>;
  /** A node-postgres client connected through the agent. */
  client(user?: string): Promise<pg.Client>;
  stop(): Promise<void>;
}

export async function startHarness(opts: HarnessOptions): Promise<Harness> {
  const database = `vigil_t_${crypto.randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: opts.postgresUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  await admin.end();
  const directUrl = opts.postgresUrl.replace(/\/[^/]*$/, `/${database}`);
  if (opts.seed) {
    const c = new pg.Client({ connectionString: directUrl });
    await c.connect();
    await c.query(opts.seed);
    await c.end();
  }
  const pgUrl = new URL(opts.postgresUrl);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-harness-'));
  const keys = ensureSigningKey(dataDir);
  const target = {
    name: 'pg',
    protocol: 'postgres',
    listen: '127.0.0.1:0',
    upstream: { host: '127.0.0.1', port: Number(pgUrl.port), database, user: 'postgres' },
    ...opts.target,
  } as Record<string, unknown>;
  if (opts.target?.upstream) target.upstream = { host: '127.0.0.1', port: Number(pgUrl.port), database, ...(opts.target.upstream as object) };
  const config = parseConfig({ dataDir, targets: [target], ...(opts.spool ? { agent: { spool: opts.spool } } : {}) });
  // Test files run side by side on one Redis: each harness has its own keys, or one harness's
  // persister would take another's events.
  const keyPrefix = `vigil-test:${crypto.randomBytes(4).toString('hex')}:`;
  const bus = opts.redisUrl ? await createRedisBus(opts.redisUrl, { logger, keyPrefix }) : createInProcessBus();
  const stores = opts.stores ?? (await createMemoryStore());
  const store = stores.recordings;
  const persister = new Persister({ bus, store, logger, blockMs: 200 });
  persister.start();
  const agent = await startAgent({ config, bus, logger, hubPublicKeyPem: keys.publicKeyPem, control: opts.control });
  const signer = await TokenSigner.fromPem(keys.privateKeyPem);
  const port = agent.listeners.get('pg')!.port;

  const token = (user = 'alice', t = 'pg', ttlMs = 60_000) => signer.connectionToken(user, t, ttlMs);
  const uri = async (user = 'alice') => `postgresql://${user}:${await token(user)}@127.0.0.1:${port}/pg?sslmode=disable`;

  const recorded = recordings(store);

  return {
    agent, bus, stores, store, persister, config, keyPrefix, database, directUrl, port,
    token, uri,
    async psql(args, o = {}) {
      const u = await uri(o.user);
      return new Promise((resolve) => {
        const child = spawn('psql', ['-X', '-v', 'ON_ERROR_STOP=0', u, ...args], { env: { ...process.env, PGCONNECT_TIMEOUT: '10' } });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d) => (stdout += d));
        child.stderr.on('data', (d) => (stderr += d));
        child.on('close', (code) => resolve({ stdout, stderr, code: code ?? -1 }));
        child.stdin.end(o.input ?? '');
      });
    },
    async client(user = 'alice') {
      const c = new pg.Client({ connectionString: await uri(user) });
      await c.connect();
      return c;
    },
    ...recorded,
    async stop() {
      await agent.stop();
      await persister.stop();
      await bus.close();
      if (!opts.stores) await stores.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
      const c = new pg.Client({ connectionString: opts.postgresUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
      await c.end();
    },
  };
}

export function run(cmd: string, args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  return new Promise((resolve) => {
    execFile(cmd, args, (err, stdout, stderr) => resolve({ stdout, stderr, code: err ? Number((err as { code?: number }).code ?? 1) : 0 }));
  });
}
