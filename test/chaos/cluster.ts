// The processes the chaos cases break, each the real thing on a free port: the target PostgreSQL,
// the store PostgreSQL (a separate server, so restarting the store leaves the target alone),
// Redis, an OpenSSH server, the OpenID provider (in this process), two `vigil hub` processes on
// the same Redis and store (each a consumer of the persister group: either is the other's
// standby), the main `vigil agent` (a PostgreSQL and an SSH target) and a second agent with a
// tiny spool. A process a case kills on purpose is started again by that case; one that ends on
// its own is a crash, kept in `crashed` for the report.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import YAML from 'yaml';
import { ensureSigningKey, TokenSigner } from '../../common/tokens.ts';
import { DEMO_ROLE_MAP } from '../../server/dev-idp/demo-users.ts';
import { startDevIdentityProvider, type DevIdentityProvider } from '../../server/dev-idp/dev-identity-provider.ts';
import { startVigil, type VigilProcess } from '../cli/run-vigil.ts';
import { freePort, waitForPort } from '../support/free-port.ts';
import { startPostgres, startRedis, type PostgresInstance, type RedisInstance } from '../support/services.ts';
import { startSshd, type Sshd } from '../support/sshd.ts';
import { rssMb } from '../../scripts/bench/processes.ts';

export const KEY_PREFIX = 'chaos:';
export const TARGET_DB = 'chaos';
export const STORE_DB = 'vigil_store';
/** The application_name of this suite's own store connections (the store faults spare them). */
export const CHECKER_APP = 'chaos-check';
const OIDC = { clientId: 'vigil-chaos', clientSecret: 'chaos-secret' };
/** What a viewer may leave unread before the hub drops it: small, so the case needs little load. */
export const VIEWER_BOUND_BYTES = 1024 * 1024;

export interface Slot {
  name: string;
  role: 'hub' | 'agent';
  proc: VigilProcess | null;
  /** Why the process ended when nobody asked it to (null while it never did). */
  crashed: string | null;
}

export interface HubSlot extends Slot {
  role: 'hub';
  port: number;
  url: string;
}

export interface AgentSlot extends Slot {
  role: 'agent';
  id: string;
  configFile: string;
  /** The listener line that ends its start-up output. */
  ready: RegExp;
}

export interface Cluster {
  dir: string;
  target: PostgresInstance;
  store: PostgresInstance;
  storeUrl: string;
  redis: RedisInstance;
  sshd: Sshd;
  idp: DevIdentityProvider;
  signer: TokenSigner;
  hubs: [HubSlot, HubSlot];
  agent: AgentSlot;
  spoolAgent: AgentSlot;
  ports: { pg: number; ssh: number; spoolPg: number; spoolSsh: number };
  /** The ssh client's askpass helper: prints $CHAOS_SSH_PASSWORD. */
  askpass: string;
  /** Spool limit of the second agent, in events. */
  spoolEvents: number;
  startHub(slot: HubSlot): Promise<void>;
  startAgent(slot: AgentSlot): Promise<void>;
  /** SIGKILL, and waits for the exit. */
  kill(slot: Slot): Promise<void>;
  /** SIGTERM, and waits for the exit. */
  stopProcess(slot: Slot): Promise<void>;
  /** A hub that runs (the first one that does). */
  liveHub(): HubSlot;
  /** Each hub meant to run is running and answers /healthz; otherwise what is wrong. */
  hubsAlive(): Promise<{ ok: boolean; detail: string }>;
  /** Highest RSS in MB of any hub and any agent since the last call (sampled every 250 ms). */
  takePeaks(): { hub: number; agent: number };
  token(user: string, target: string): Promise<string>;
  /** A query against the store's database (the test's own connection). */
  storeQuery<R extends pg.QueryResultRow>(sql: string, params?: unknown[]): Promise<R[]>;
  stop(): Promise<void>;
}

function hubSlot(name: string, port: number): HubSlot {
  return { name, role: 'hub', proc: null, crashed: null, port, url: `http://127.0.0.1:${port}` };
}

export async function startCluster(spoolEvents: number): Promise<Cluster> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-chaos-'));
  const dataDir = path.join(dir, 'data');
  const keys = ensureSigningKey(dataDir);
  const signer = await TokenSigner.fromPem(keys.privateKeyPem);
  const [target, store, redis, sshd] = await Promise.all([startPostgres(), startPostgres(), startRedis(), startSshd()]);
  await adminQuery(target.url, [`CREATE DATABASE ${TARGET_DB}`]);
  await adminQuery(target.url.replace(/\/[^/]*$/, `/${TARGET_DB}`), ['CREATE TABLE chaos_copy (n bigint, note text)']);
  await adminQuery(store.url, [`CREATE DATABASE ${STORE_DB}`]);
  const storeUrl = store.url.replace(/\/[^/]*$/, `/${STORE_DB}`);
  const storePool = new pg.Pool({ connectionString: storeUrl, max: 2, application_name: CHECKER_APP });
  // A store restart ends this pool's connections too; the next query opens new ones.
  storePool.on('error', () => undefined);

  const [hubPortA, hubPortB, pgPort, sshPort, spoolPgPort, spoolSshPort] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort(), freePort()]);
  const hubs: [HubSlot, HubSlot] = [hubSlot('hub-a', hubPortA), hubSlot('hub-b', hubPortB)];
  const idp = await startDevIdentityProvider({ port: 0, client: { ...OIDC, redirectUris: hubs.map((h) => `${h.url}/auth/callback`) } });

  const common = { dataDir, log: { level: 'warn' }, redis: { keyPrefix: KEY_PREFIX } };
  const hubConfig = path.join(dir, 'hub.yaml');
  fs.writeFileSync(hubConfig, YAML.stringify({
    ...common,
    hub: { auth: { oidc: { issuer: idp.issuer, clientId: OIDC.clientId, roles: { map: DEMO_ROLE_MAP } } }, live: { maxBufferedBytesPerSocket: VIEWER_BOUND_BYTES } },
  }));
  const pgTarget = (name: string, port: number) => ({
    name, protocol: 'postgres', listen: `127.0.0.1:${port}`, recording: 'required',
    upstream: { host: '127.0.0.1', port: target.port, database: TARGET_DB, user: 'postgres' },
  });
  const sshTarget = (name: string) => ({
    name, protocol: 'ssh', recording: 'required',
    upstream: { host: '127.0.0.1', port: sshd.port, user: sshd.user, privateKeyFile: sshd.clientKeyFile, hostKey: sshd.hostKey },
  });
  const agentConfig = path.join(dir, 'agent.yaml');
  fs.writeFileSync(agentConfig, YAML.stringify({
    ...common,
    agent: { id: 'chaos-agent', ssh: { listen: `127.0.0.1:${sshPort}` } },
    targets: [pgTarget('pg', pgPort), sshTarget('box')],
  }));
  const spoolConfig = path.join(dir, 'spool-agent.yaml');
  fs.writeFileSync(spoolConfig, YAML.stringify({
    ...common,
    agent: { id: 'chaos-spool-agent', spool: { maxEvents: spoolEvents, maxBytes: 64 * 1024 * 1024 }, ssh: { listen: `127.0.0.1:${spoolSshPort}` } },
    targets: [pgTarget('pg-spool', spoolPgPort), sshTarget('box-spool')],
  }));
  const askpass = path.join(dir, 'askpass.sh');
  fs.writeFileSync(askpass, '#!/bin/sh\nprintf \'%s\\n\' "$CHAOS_SSH_PASSWORD"\n', { mode: 0o755 });

  const agent: AgentSlot = { name: 'agent', role: 'agent', proc: null, crashed: null, id: 'chaos-agent', configFile: agentConfig, ready: /target box on/ };
  const spoolAgent: AgentSlot = { name: 'spool-agent', role: 'agent', proc: null, crashed: null, id: 'chaos-spool-agent', configFile: spoolConfig, ready: /target box-spool on/ };
  const sessionSecret = crypto.randomBytes(32).toString('hex');
  const slots: Slot[] = [...hubs, agent, spoolAgent];
  const leaving = new Set<Slot>();

  const watchExit = (slot: Slot, proc: VigilProcess) => {
    proc.child.once('exit', (code, signal) => {
      if (leaving.has(slot)) return;
      slot.crashed = `${slot.name} exited by itself (${code ?? signal}); stderr: ${proc.stderr().slice(-3000)}`;
      slot.proc = null;
    });
  };
  const startHub = async (slot: HubSlot) => {
    leaving.delete(slot);
    slot.proc = await startVigil(['hub', '--config', hubConfig], {
      REDIS_URL: redis.url, DATABASE_URL: storeUrl, VIGIL__HUB__LISTEN: `127.0.0.1:${slot.port}`,
      VIGIL_OIDC_CLIENT_SECRET: OIDC.clientSecret, VIGIL_SESSION_SECRET: sessionSecret,
    }, /API on http/, { timeoutMs: 120_000 });
    watchExit(slot, slot.proc);
  };
  const startAgent = async (slot: AgentSlot) => {
    leaving.delete(slot);
    slot.proc = await startVigil(['agent', '--config', slot.configFile], { REDIS_URL: redis.url }, slot.ready, { timeoutMs: 120_000 });
    watchExit(slot, slot.proc);
  };
  const end = async (slot: Slot, how: 'SIGKILL' | 'SIGTERM') => {
    const proc = slot.proc;
    if (!proc) return;
    leaving.add(slot);
    slot.proc = null;
    if (how === 'SIGTERM') {
      await proc.stop();
      return;
    }
    const exited = new Promise((resolve) => proc.child.once('exit', resolve));
    if (proc.child.exitCode === null && proc.child.signalCode === null) proc.child.kill('SIGKILL');
    await exited;
  };

  // Hubs one after the other (the first creates the store's schema); the agent needs only Redis.
  await Promise.all([startHub(hubs[0]).then(() => startHub(hubs[1])), startAgent(agent)]);
  await waitForPort(pgPort);

  const peaks = { hub: 0, agent: 0 };
  const sampler = setInterval(() => {
    for (const s of slots) {
      const pid = s.proc?.child.pid;
      if (!pid) continue;
      try {
        peaks[s.role] = Math.max(peaks[s.role], rssMb(pid));
      } catch {
        // Gone between the check and the read.
      }
    }
  }, 250);

  return {
    dir, target, store, storeUrl, redis, sshd, idp, signer, hubs, agent, spoolAgent, askpass, spoolEvents,
    ports: { pg: pgPort, ssh: sshPort, spoolPg: spoolPgPort, spoolSsh: spoolSshPort },
    startHub,
    startAgent,
    kill: (slot) => end(slot, 'SIGKILL'),
    stopProcess: (slot) => end(slot, 'SIGTERM'),
    liveHub() {
      const hub = hubs.find((h) => h.proc);
      if (!hub) throw new Error('no hub runs');
      return hub;
    },
    async hubsAlive() {
      const problems = hubs.filter((h) => h.crashed).map((h) => h.crashed!);
      for (const h of hubs.filter((x) => x.proc)) {
        const status = await fetch(`${h.url}/healthz`, { signal: AbortSignal.timeout(5000) }).then((r) => r.status, (e: Error) => e.message);
        if (status !== 200) problems.push(`${h.name} /healthz: ${status}`);
      }
      return { ok: problems.length === 0, detail: problems.join('; ') };
    },
    takePeaks() {
      const taken = { ...peaks };
      peaks.hub = 0;
      peaks.agent = 0;
      for (const s of slots) {
        const pid = s.proc?.child.pid;
        try {
          if (pid) peaks[s.role] = Math.max(peaks[s.role], rssMb(pid));
        } catch {
          // Gone.
        }
      }
      return taken;
    },
    token: (user, targetName) => signer.connectionToken(user, targetName, 3600_000),
    async storeQuery(sql, params) {
      return (await storePool.query(sql, params)).rows;
    },
    async stop() {
      clearInterval(sampler);
      // The agents first, so that the hubs still store what their sessions' ends send.
      for (const group of [[spoolAgent, agent], hubs]) await Promise.all(group.map((s) => end(s, 'SIGTERM').catch(() => undefined)));
      await storePool.end().catch(() => undefined);
      await idp.stop();
      await Promise.all([target.stop(), store.stop(), redis.stop(), sshd.stop()]);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function adminQuery(url: string, statements: string[]): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (const sql of statements) await client.query(sql);
  } finally {
    await client.end();
  }
}
