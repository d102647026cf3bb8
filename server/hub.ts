// The hub: persists what agents send over the bus and serves recordings over HTTP. It holds the
// token-signing key (created in dataDir on first start); agents verify tokens with its public half.
// The caller owns the bus and the stores: stop() leaves them open.
import crypto from 'node:crypto';
import http from 'node:http';
import type net from 'node:net';
import type { BusEvent, EventBus } from '../common/bus/event-bus.ts';
import { parseDuration, type Config } from '../common/config/schema.ts';
import { oidcClientSecret, readSecret, sessionSecretOf } from '../common/config/secrets.ts';
import type { Logger } from '../common/log.ts';
import { ensureSigningKey, TokenSigner, TokenVerifier } from '../common/tokens.ts';
import { createApiApp } from './http/app.ts';
import { LockService } from './locks/lock-service.ts';
import { readinessChecks } from './http/readiness.ts';
import { dashboardDir } from './http/dashboard.ts';
import { createMetricsRegistry } from './http/metrics.ts';
import { sessionSecret } from './http/session-secret.ts';
import { createSessionStore } from './http/session-store.ts';
import { createWebLogin } from './http/web-login.ts';
import { startLiveServer, type LiveServer } from './live/live-server.ts';
import { Persister } from './recordings/ingest/persister.ts';
import { RecordingIndexer } from './recordings/index/indexer.ts';
import { RecordingSealer } from './recordings/trust/sealer.ts';
import { HUB_SIGNER_PREFIX } from './agents/agent-registry.ts';
import { RefusalAudit } from './agents/refusal-audit.ts';
import { signBatch } from '../common/agent-identity.ts';
import { RecordingVerifier } from './recordings/trust/recording-verifier.ts';
import { FileAnchor } from './recordings/trust/manifest-anchor.ts';
import { recordingDerivers } from './recordings/index/derivers.ts';
import { Resources } from '../common/resources.ts';
import type { HubStores } from './store/create-store.ts';
import { createMemoryKeyDirectory, createRedisKeyDirectory, type SshKeyDirectory } from '../common/ssh-key-directory.ts';
import { syncKeyDirectory } from './http/routes/ssh-keys.ts';
import type { ControlBus } from '../common/control/control-bus.ts';
import { createControlBus } from '../common/control/redis-control-bus.ts';
import { AccessService } from './access/access-service.ts';
import { SessionReaper } from './liveness/session-reaper.ts';
import { serveAgentAudit } from './audit/agent-audit-intake.ts';

export interface HubOptions {
  config: Config;
  bus: EventBus;
  /** The hub's database: recordings, access requests and audit log, registered SSH keys. */
  stores: HubStores;
  logger: Logger;
  /** The OpenID client secret, when the caller has it (vigil dev); else from the environment. */
  oidcClientSecret?: string;
  /** Where the dashboard's built files are (default: web/dist of this installation). */
  dashboardDir?: string;
  /**
   * Where agents look up registered SSH keys. Default: in Redis when configured (agents elsewhere
   * read it there), else in this process's memory (an agent in the same process must be given
   * the same one: `vigil dev`).
   */
  sshKeyDirectory?: SshKeyDirectory;
  /** Decisions to the agents. Default: over Redis when configured, else in this process only. */
  control?: ControlBus;
  /** How often sessions are checked against their agents' leases (default 1 s). */
  reaperEveryMs?: number;
}

export interface Hub {
  address: net.AddressInfo;
  /** Base URL of the API, e.g. http://127.0.0.1:8080. */
  url: string;
  persister: Persister;
  /**
   * Ends the sessions no agent can end. A test pauses it (stop, then start) to take an agent's
   * start-up time out of the race with its lease.
   */
  reaper: Pick<SessionReaper, 'start' | 'stop'>;
  stop(): Promise<void>;
}

export async function startHub(opts: HubOptions): Promise<Hub> {
  const { config, bus, stores, logger } = opts;
  const store = stores.recordings;
  const { publicKeyPem, privateKeyPem } = ensureSigningKey(config.dataDir);
  const verifier = await TokenVerifier.fromPem(publicKeyPem);

  // The hub's manifest key (recordings/trust/) also signs the ends it writes; the agents it trusts
  // sign what they append (agents/agent-registry.ts), and the persister keeps only that.
  const recordingKeys = await stores.openRecordingKeys(config.dataDir);
  const agents = stores.createAgentRegistry(logger, () => recordingKeys.published());
  await agents.enrollLocal(config.dataDir);
  const refusals = new RefusalAudit(stores.access, logger);

  // Everything this hub starts, stopped newest first on stop() or when start-up fails half-way.
  const owned = new Resources();
  const indexer = new RecordingIndexer({ store, index: stores.index, derivers: recordingDerivers, logger });
  indexer.start();
  owned.add('indexer', () => indexer.stop());
  const persister = new Persister({
    bus, store, logger, onPersisted: (ids) => indexer.nudge(ids),
    ...(config.hub.agents.requireSignatures ? { agents, onRefused: (r) => refusals.report(r) } : {}),
  });
  persister.start();
  owned.add('persister', () => persister.stop());

  const server = http.createServer();
  let address: net.AddressInfo;
  let url: string;
  let live: LiveServer | null = null;
  let reaper: SessionReaper;
  try {
    // Ended recordings are sealed: a signed manifest each (recordings/trust/).
    const anchor = config.hub.anchorFile ? new FileAnchor(config.hub.anchorFile) : undefined;
    const sealer = new RecordingSealer({ store, manifests: stores.manifests, keys: recordingKeys, logger, anchor });
    sealer.start();
    owned.add('sealer', () => sealer.stop());
    // The audit log is checkpointed and signed every 10 s (audit/audit-checkpoints.ts).
    const auditCheckpoints = stores.createAuditCheckpoints(recordingKeys, logger);
    auditCheckpoints.start();
    owned.add('audit checkpoints', () => auditCheckpoints.stop());
    const trust = { verifier: new RecordingVerifier(stores.manifests, recordingKeys, anchor), keys: recordingKeys, auditCheckpoints };
    // Recordings past their target's retention are purged, unless held (recordings/retention/).
    const purger = stores.createPurger({ config, manifests: stores.manifests, keys: recordingKeys, sealer, logger });
    purger.start(parseDuration(config.hub.retention.every));
    owned.add('retention', () => purger.stop());
    let keyDirectory = opts.sshKeyDirectory;
    if (!keyDirectory) {
      const own = config.redis.url ? await createRedisKeyDirectory(config.redis.url, config.redis.keyPrefix, logger) : createMemoryKeyDirectory();
      owned.add('ssh key directory', () => own.close());
      keyDirectory = own;
    }
    await syncKeyDirectory(stores.sshKeys, keyDirectory);
    let control = opts.control;
    if (!control) {
      const own = await createControlBus(config.redis.url, config.redis.keyPrefix, logger);
      owned.add('control bus', () => own.close());
      control = own;
    }
    // Sessions whose agent died or restarted end in the recording, with a reason.
    const sign = (events: readonly BusEvent[]) => {
      const key = recordingKeys.current();
      return signBatch(`${HUB_SIGNER_PREFIX}${key.id}`, key.privateKey, events);
    };
    reaper = new SessionReaper({ store, bus, control, logger, everyMs: opts.reaperEveryMs, sign });
    reaper.start();
    owned.add('session reaper', () => reaper.stop());
    const stopAgentAudit = await serveAgentAudit(control, stores.access, logger);
    owned.add('agent audit intake', stopAgentAudit);
    const access = new AccessService({ config, store: stores.access, control, logger: logger.child({ component: 'access' }) });
    await access.start();
    owned.add('access requests', () => access.stop());
    // A revoked agent is locked out as a whole: it ends its sessions and takes no new one.
    const revokedAgents = async () => (await agents.revoked()).map((a) => ({
      id: `A-${crypto.createHash('sha256').update(a.id).digest('hex').slice(0, 16)}`, agent: a.id, by: a.revokedBy ?? 'an admin', reason: a.revokeReason ?? 'its enrollment was revoked', createdAt: a.revokedAt ?? new Date().toISOString(),
    }));
    const locks = new LockService({ store: stores.locks, audit: stores.access, control, logger, extra: revokedAgents });
    locks.start();
    owned.add('locks', async () => locks.stop());
    const sessions = await createSessionStore(config.hub.auth.oidc ? config.redis.url : undefined, logger, config.redis.keyPrefix);
    owned.add('login sessions', () => sessions.close());

    // Upgraded connections (the dashboard's WebSockets) are no longer the HTTP server's: it does
    // not close them, and close() would wait for every open browser tab to go away.
    const sockets = new Set<net.Socket>();
    server.on('connection', (socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
    });
    address = await listen(server, config.hub.listen);
    owned.add('http server', async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      for (const socket of sockets) socket.destroy();
      await closed;
    });
    url = `http://${urlHost(address)}:${address.port}`;
    const oidc = config.hub.auth.oidc;
    const publicUrl = config.hub.publicUrl ?? url;
    const webLogin = oidc && createWebLogin({
      oidc,
      clientSecret: opts.oidcClientSecret ?? readSecret(oidcClientSecret(oidc)),
      publicUrl,
      sessionSecret: sessionSecret(config.dataDir, sessionSecretOf(config.hub.auth)),
      sessionTtlMs: parseDuration(config.hub.auth.sessionTtl),
      recheckMs: parseDuration(config.hub.auth.loginRecheck),
      store: sessions.store,
      logger,
    });
    const app = createApiApp({
      stores,
      announceAnnotation: (annotation) => live?.announceAnnotation(annotation),
      verifier,
      logger: logger.child({ component: 'api' }),
      metrics: () => ({ persister: persister.metrics(), bus: bus.status(), live: live?.outbound(), sealer: sealer.metrics() }),
      targets: { config, signer: await TokenSigner.fromPem(privateKeyPem), tokenTtlMs: parseDuration(config.hub.tokenTtl) },
      metricsRegistry: createMetricsRegistry({
        persister: () => persister.metrics(),
        busUp: () => bus.status() === 'up',
        liveSessions: () => store.countLiveSessions(),
        viewers: () => live?.viewers() ?? 0,
        viewersOutbound: () => live?.outbound() ?? { bufferedBytes: 0, dropped: 0 },
        backlog: () => bus.backlog(persister.group),
      }),
      webLogin,
      sshKeyDirectory: keyDirectory,
      control,
      access,
      locks,
      reaper,
      dashboardDir: webLogin ? (opts.dashboardDir ?? dashboardDir()) : undefined,
      readiness: readinessChecks({ store: stores, redisBus: config.redis.url ? bus : undefined, idp: webLogin ? webLogin.idpReachable : undefined }),
      rateLimits: config.hub.rateLimits,
      trust,
      purger,
      agents: { registry: agents, onRevoked: () => void locks.publish().catch(() => undefined) },
    });
    // The app first: Socket.IO takes over /socket.io/ and hands every other request to the
    // listeners the server already has.
    server.on('request', app);
    if (webLogin) {
      const started = await startLiveServer({ httpServer: server, bus, store, logger, sessionMiddleware: webLogin.session, origin: new URL(publicUrl).origin, redisUrl: config.redis.url, redisKeyPrefix: config.redis.keyPrefix, access: { service: access, control }, audit: stores.access, limits: config.hub.live, shares: stores.shares, logins: webLogin.logins });
      owned.add('live viewing', () => started.close());
      live = started;
      webLogin.onLogout((sid) => started.loggedOut(sid));
    }
  } catch (err) {
    await owned.closeAll(logger);
    throw err;
  }
  logger.info({ url, login: config.hub.auth.oidc ? config.hub.auth.oidc.issuer : 'API tokens only' }, 'hub listening');

  let stopping: Promise<void> | null = null;
  return {
    address,
    url,
    persister,
    reaper,
    stop() {
      stopping ??= owned.closeAll(logger);
      return stopping;
    },
  };
}

function listen(server: http.Server, hostPort: string): Promise<net.AddressInfo> {
  const i = hostPort.lastIndexOf(':');
  const host = hostPort.slice(0, i).replace(/^\[|\]$/g, '');
  const port = Number(hostPort.slice(i + 1));
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      reject(err.code === 'EADDRINUSE'
        ? new Error(`hub.listen ${hostPort} is already in use (another vigil hub or vigil dev?)`)
        : new Error(`hub cannot listen on ${hostPort}: ${err.message}`));
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve(server.address() as net.AddressInfo);
    });
  });
}

/** A host for URLs: wildcard addresses become loopback, IPv6 gets brackets. */
export function urlHost(address: Pick<net.AddressInfo, 'address' | 'family'>): string {
  if (address.address === '0.0.0.0') return '127.0.0.1';
  if (address.address === '::') return '[::1]';
  return address.family === 'IPv6' ? `[${address.address}]` : address.address;
}
