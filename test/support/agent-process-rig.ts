// A hub in the test process and the agent as a real `vigil agent` process, on the private Redis
// and PostgreSQL, so a test can kill the agent with SIGKILL while clients are connected and see
// what the hub makes of it.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import YAML from 'yaml';
import { expect } from 'vitest';
import { createRedisBus } from '../../common/bus/redis-bus.ts';
import type { EventBus } from '../../common/bus/event-bus.ts';
import { parseConfig } from '../../common/config/load-config.ts';
import type { ControlBus } from '../../common/control/control-bus.ts';
import { createRedisControlBus } from '../../common/control/redis-control-bus.ts';
import type { VigilEvent } from '../../common/events/index.ts';
import { silentLogger } from '../../common/log.ts';
import { ensureSigningKey, keyPaths, TokenSigner } from '../../common/tokens.ts';
import { startHub, type Hub } from '../../server/hub.ts';
import { createMemoryStore, type HubStores } from '../../server/store/create-store.ts';
import type { RecordingStore } from '../../server/recordings/store/recording-store.ts';
import { startVigil, type VigilProcess } from '../cli/run-vigil.ts';
import { freePort } from './free-port.ts';

export interface AgentProcessRig {
  bus: EventBus;
  control: ControlBus;
  /** The hub's database (recordings, access, SSH keys). */
  stores: HubStores;
  /** stores.recordings */
  store: RecordingStore;
  hub: Hub;
  signer: TokenSigner;
  agentId: string;
  /** The agent's outbox folder (what it keeps on disk until the hub has it). */
  outboxDir: string;
  /** Where the agent's PostgreSQL target listens. */
  agentPort: number;
  startAgent(): Promise<VigilProcess>;
  killHard(agent: VigilProcess): Promise<void>;
  /** A node-postgres client through the agent, and the id of the session it opened. */
  connect(user?: string): Promise<{ client: pg.Client; sessionId: string; errors: Error[] }>;
  endOf(sessionId: string): Promise<VigilEvent | undefined>;
  stop(): Promise<void>;
}

export async function startAgentProcessRig(opts: { redisUrl: string; postgresUrl: string; reaperEveryMs?: number }): Promise<AgentProcessRig> {
  const keyPrefix = `rig-${crypto.randomBytes(4).toString('hex')}:`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-rig-'));
  const admin = new pg.Client({ connectionString: opts.postgresUrl });
  await admin.connect();
  const database = `vigil_rig_${crypto.randomBytes(4).toString('hex')}`;
  await admin.query(`CREATE DATABASE ${database}`);
  await admin.end();
  const pgUrl = new URL(opts.postgresUrl);
  const keys = ensureSigningKey(dir);
  const signer = await TokenSigner.fromPem(keys.privateKeyPem);
  const agentPort = await freePort();
  const agentId = `agent-${crypto.randomBytes(3).toString('hex')}`;
  const settings = {
    dataDir: dir,
    redis: { keyPrefix },
    agent: { id: agentId, hubPublicKeyFile: keyPaths(dir).publicKey },
    targets: [{ name: 'pg', protocol: 'postgres', listen: `127.0.0.1:${agentPort}`, upstream: { host: '127.0.0.1', port: Number(pgUrl.port), database, user: 'postgres' } }],
  };
  const configFile = path.join(dir, 'vigil.yaml');
  fs.writeFileSync(configFile, YAML.stringify(settings));
  const config = parseConfig({ ...settings, redis: { url: opts.redisUrl, keyPrefix }, hub: { listen: '127.0.0.1:0' } });
  const bus = await createRedisBus(opts.redisUrl, { keyPrefix, logger: silentLogger });
  const control = await createRedisControlBus(opts.redisUrl, keyPrefix);
  const stores = await createMemoryStore();
  const store = stores.recordings;
  const hub = await startHub({ config, bus, stores, logger: silentLogger, control, reaperEveryMs: opts.reaperEveryMs });
  const agents: VigilProcess[] = [];

  return {
    bus, control, stores, store, hub, signer, agentId,
    outboxDir: path.join(dir, 'outbox', agentId),
    agentPort,
    async startAgent() {
      const agent = await startVigil(['agent', '--config', configFile], { REDIS_URL: opts.redisUrl }, /target pg on/);
      agents.push(agent);
      return agent;
    },
    killHard(agent) {
      return new Promise((resolve) => {
        if (agent.child.exitCode !== null || agent.child.signalCode !== null) return resolve();
        agent.child.once('exit', () => resolve());
        agent.child.kill('SIGKILL');
      });
    },
    async connect(user = 'alice') {
      const token = await signer.connectionToken(user, 'pg', 60_000);
      const client = new pg.Client({ host: '127.0.0.1', port: agentPort, user, password: token, database: 'pg' });
      const errors: Error[] = [];
      client.on('error', (err) => errors.push(err));
      const before = new Set((await store.listSessions({ live: true })).map((s) => s.id));
      await client.connect();
      await client.query('select 1');
      let sessionId = '';
      await expect.poll(async () => {
        sessionId = (await store.listSessions({ live: true })).find((s) => !before.has(s.id))?.id ?? '';
        return sessionId;
      }, { timeout: 15_000 }).not.toBe('');
      return { client, sessionId, errors };
    },
    async endOf(sessionId) {
      return (await store.readEvents(sessionId)).map((e) => e.event).find((e) => e.type === 'session.end');
    },
    async stop() {
      for (const a of agents) await a.stop().catch(() => undefined);
      await hub.stop();
      await control.close();
      await bus.close();
      await stores.close();
      const c = new pg.Client({ connectionString: opts.postgresUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
      await c.end();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
