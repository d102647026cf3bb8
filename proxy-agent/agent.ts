// The proxy agent: one listener per PostgreSQL or HTTP target and one SSH port for all SSH targets, a
// shared publisher (spool) towards the event bus, offline token verification with the hub's
// public key.
import { ensureAgentKey, signBatch } from '../common/agent-identity.ts';
import fs from 'node:fs';
import type net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { parseDuration, type Config, type PostgresTarget } from '../common/config/schema.ts';
import { readSecret, upstreamPassword } from '../common/config/secrets.ts';
import type { BusEvent, EventBus } from '../common/bus/event-bus.ts';
import type { SshKeyDirectory } from '../common/ssh-key-directory.ts';
import type { ControlBus } from '../common/control/control-bus.ts';
import { endLockedSessions, enforceControl, type ControlledSession } from './session-control.ts';
import { LockGuard } from './access/lock-guard.ts';
import { keepLease } from './lease/agent-lease.ts';
import { AccessGate } from './access/access-gate.ts';
import { LoginGuard } from './access/login-guard.ts';
import { GuardrailPolicy } from './guardrails/guardrail-policy.ts';
import { loadClassifier } from './guardrails/statement-classifier.ts';
import { loadShellParser } from './guardrails/shell-reading.ts';
import { CatalogClient } from './postgres/catalog/catalog-client.ts';
import { TableColumns } from './postgres/catalog/table-columns.ts';
import type { Logger } from '../common/log.ts';
import { TokenVerifier } from '../common/tokens.ts';
import { Masker } from './masking/masker.ts';
import { EventPublisher } from './publish/event-publisher.ts';
import { Outbox, readOutbox } from './publish/outbox.ts';
import { recoverOutbox } from './publish/outbox-recovery.ts';
import { withTimeout } from '../common/control/control-bus.ts';
import { CancelRegistry } from './postgres/cancel-registry.ts';
import { PostgresListener } from './postgres/postgres-listener.ts';
import type { UpstreamSettings } from './postgres/upstream-login.ts';
import { ensureHostKey, hostKeyPath } from './ssh/host-key.ts';
import { SshListener } from './ssh/ssh-listener.ts';
import { HttpListener } from './http/http-listener.ts';
import { httpTargetRuntime } from './http/http-target.ts';
import type { SshTargetRuntime } from './ssh/ssh-session.ts';
import { resolveSshUpstream, type SshUpstreamSettings } from './ssh/upstream-ssh.ts';

export interface AgentOptions {
  config: Config;
  bus: EventBus;
  logger: Logger;
  /** PEM of the hub's token-signing public key. */
  hubPublicKeyPem: string;
  /** Upstreams decided at run time (the demo database of `vigil dev`), by target name. */
  upstreams?: Map<string, UpstreamSettings>;
  /** The same for SSH targets (the demo shell of `vigil dev`). */
  sshUpstreams?: Map<string, SshUpstreamSettings>;
  /** The same for HTTP targets (the demo API of `vigil dev`): the base URL. */
  httpUpstreams?: Map<string, string>;
  /** The hub's URL as browsers reach it (HTTP targets send browsers there to log in); default hub.publicUrl, else http://hub.listen. */
  hubUrl?: string;
  /** Registered SSH public keys (the hub writes them); without it SSH logins take tokens only. */
  sshKeys?: SshKeyDirectory;
  /**
   * The hub's decisions (kill orders, grants); without it nothing can end a session from outside
   * and `jit` targets admit nobody.
   */
  control?: ControlBus;
}

export interface Agent {
  /** Where each target listens, by target name (SSH targets: the agent's SSH port). */
  listeners: Map<string, net.AddressInfo>;
  publisher: EventPublisher;
  /** Live sessions across all targets. */
  sessionCount(): number;
  stop(): Promise<void>;
}

export function resolveUpstream(target: PostgresTarget, env: NodeJS.ProcessEnv = process.env): UpstreamSettings {
  const u = target.upstream;
  if (!u) throw new Error(`target ${target.name} has no upstream`);
  const fromEnv = upstreamPassword(target);
  const password = fromEnv ? readSecret(fromEnv, env) : u.password;
  return { host: u.host, port: u.port, database: u.database, user: u.user, password, tls: u.tls, caFile: u.caFile };
}

export async function startAgent(opts: AgentOptions): Promise<Agent> {
  const { config, bus, logger } = opts;
  const verifier = await TokenVerifier.fromPem(opts.hubPublicKeyPem);
  // What an earlier run left unsent goes out first, and its open sessions end, before serving.
  const outboxDir = config.agent.outbox.dir ?? path.join(config.dataDir, 'outbox', config.agent.id);
  const earlier = readOutbox(outboxDir, logger);
  const outbox = new Outbox({ dir: outboxDir, logger });
  // Every batch is signed with this agent's own key (made on first start; `vigil agent enroll`
  // has the hub trust it): the hub persists only what an enrolled agent signed.
  const agentKey = ensureAgentKey(config.dataDir, config.agent.id);
  const signer = (events: readonly BusEvent[]) => signBatch(config.agent.id, agentKey, events);
  const publisher = new EventPublisher(bus, { ...config.agent.spool, logger, outbox, durability: config.agent.outbox.durability, signer });
  await republishEarlierRun(publisher, bus, earlier, logger);
  outbox.dropEarlierRun();
  const cancels = new CancelRegistry();
  const listeners = new Map<string, net.AddressInfo>();
  const servers: Array<PostgresListener | SshListener | HttpListener> = [];
  /** Each PostgreSQL target's column catalog and its connection. */
  const catalogs: Array<{ close(): Promise<void> }> = [];
  const access = new AccessGate(opts.control, logger.child({ component: 'access' }));
  const strictness = (name: string) => {
    const target = config.targets.find((t) => t.name === name);
    return target?.locks === 'strict' ? parseDuration(target.locksMaxAge) : null;
  };
  const locks = new LockGuard(opts.control, logger.child({ component: 'locks' }), path.join(config.dataDir, `locks-${config.agent.id}.json`), strictness, config.agent.id);
  const logins = new LoginGuard({ agentId: config.agent.id, control: opts.control, logger, failuresPerMinute: config.agent.loginFailuresPerMinute });
  await access.start();
  await locks.start();

  publisher.onCapacity((hasRoom) => {
    if (hasRoom) {
      logger.info('recording spool has room again');
      return;
    }
    logger.error('recording spool is full: sessions of targets with recording: required are ended');
    for (const l of servers) l.sessions.endRecordingRequired('the recording pipeline is unavailable and this target requires recording; the session was ended');
  });

  try {
    // The SQL parser (WASM) is loaded once, before any session needs it: guardrails and the
    // masking of values written into secret columns read statements with it.
    if (config.targets.some((t) => t.protocol === 'postgres')) await loadClassifier();
    // The shell parser likewise, for SSH targets whose guardrails read command lines.
    if (config.targets.some((t) => t.protocol === 'ssh' && t.guardrails.length > 0)) await loadShellParser();
    const sshTargets = new Map<string, SshTargetRuntime>();
    for (const target of config.targets) {
      if (target.protocol === 'ssh') {
        const upstream = opts.sshUpstreams?.get(target.name) ?? resolveSshUpstream(target);
        sshTargets.set(target.name, { config: target, upstream, masker: new Masker(target.masking), guardrails: new GuardrailPolicy(target.guardrails, { unknown: target.guardrailUnknown }) });
        continue;
      }
      if (target.protocol === 'http') {
        const upstreamUrl = opts.httpUpstreams?.get(target.name) ?? target.upstream?.url;
        if (!upstreamUrl) throw new Error(`target ${target.name} has no upstream`);
        const listener = new HttpListener({
          agentId: config.agent.id,
          target: httpTargetRuntime(target, upstreamUrl),
          verifier,
          outlet: publisher,
          access,
          locks,
          logins,
          logger,
          hubUrl: opts.hubUrl ?? config.hub.publicUrl ?? `http://${config.hub.listen}`,
        });
        const [host, port] = splitHostPort(target.listen);
        listeners.set(target.name, await listener.listen(host, port));
        servers.push(listener);
        logger.info({ target: target.name, listen: target.listen }, 'target listening');
        continue;
      }
      const upstream = opts.upstreams?.get(target.name) ?? resolveUpstream(target);
      const catalog = new CatalogClient(upstream);
      const tables = new TableColumns((schema, table) => catalog.tableColumns(schema, table));
      catalogs.push(tables, catalog);
      const listener = new PostgresListener({
        agentId: config.agent.id,
        target: {
          config: target,
          upstream,
          masker: new Masker(target.masking),
          tables,
          guardrails: new GuardrailPolicy(target.guardrails, { unknown: target.guardrailUnknown }),
          tlsContext: target.tls ? tls.createSecureContext({ cert: fs.readFileSync(target.tls.certFile), key: fs.readFileSync(target.tls.keyFile) }) : undefined,
        },
        verifier,
        outlet: publisher,
        cancels,
        access,
        locks,
        logins,
        logger,
      });
      const [host, port] = splitHostPort(target.listen);
      listeners.set(target.name, await listener.listen(host, port));
      servers.push(listener);
      logger.info({ target: target.name, listen: target.listen }, 'target listening');
    }
    if (sshTargets.size > 0) {
      const keyFile = hostKeyPath(config.dataDir, config.agent.ssh.hostKeyFile);
      const ssh = new SshListener({ agentId: config.agent.id, targets: sshTargets, verifier, keys: opts.sshKeys, access, locks, outlet: publisher, logins, logger }, ensureHostKey(keyFile, !config.agent.ssh.hostKeyFile));
      const [host, port] = splitHostPort(config.agent.ssh.listen);
      const address = await ssh.listen(host, port);
      servers.push(ssh);
      for (const name of sshTargets.keys()) listeners.set(name, address);
      logger.info({ targets: [...sshTargets.keys()], listen: config.agent.ssh.listen }, 'ssh listening');
    }
  } catch (err) {
    await Promise.all(servers.map((s) => s.close()));
    await Promise.all(catalogs.map((c) => c.close()));
    await access.stop();
    await locks.stop();
    logins.stop();
    await publisher.close();
    throw err;
  }

  const liveSessions = function* (): Iterable<ControlledSession> {
    for (const s of servers) yield* s.sessions;
  };
  const stopControl = opts.control ? await enforceControl({ control: opts.control, sessions: liveSessions, logger }) : null;
  // A new lock ends the live sessions it matches within the message's delivery (or the next read).
  locks.onChange((list) => endLockedSessions(list, liveSessions(), logger, config.agent.id));
  const lease = opts.control ? keepLease({ control: opts.control, agentId: config.agent.id, sessions: liveSessions, logger }) : null;

  return {
    listeners,
    publisher,
    sessionCount: () => servers.reduce((n, s) => n + s.sessions.size, 0),
    async stop() {
      await lease?.stop();
      await stopControl?.();
      await access.stop();
      await locks.stop();
      logins.stop();
      await Promise.all(servers.map((s) => s.close()));
      await Promise.all(catalogs.map((c) => c.close()));
      await publisher.flush(5000).catch(() => undefined);
      await publisher.close();
    },
  };
}

/** Sends what the outbox of an earlier run holds and ends its open sessions (outbox-recovery.ts). */
async function republishEarlierRun(publisher: EventPublisher, bus: EventBus, bodies: string[], logger: Logger): Promise<void> {
  if (bodies.length === 0) return;
  // Persisted ones are not sent again; with the bus away, everything is (duplicates are harmless).
  const recovery = await recoverOutbox(bodies, (sessions) =>
    withTimeout(bus.watermarks(sessions), 2000, 'the bus').catch(() => new Map<string, number>()));
  for (const e of recovery.events) publisher.publish(e, true);
  logger.warn({ events: recovery.events.length, ended: recovery.ended.length, unreadable: recovery.unreadable }, 'the outbox of an earlier run was sent again; its open sessions were ended (agent_restarted)');
}

export function splitHostPort(hostPort: string): [string, number] {
  const i = hostPort.lastIndexOf(':');
  return [hostPort.slice(0, i).replace(/^\[|\]$/g, ''), Number(hostPort.slice(i + 1))];
}
