// vigil dev: everything in one process for trying Vigil out. The hub with its store (embedded PGlite
// in dataDir unless DATABASE_URL), the bus (in-process unless REDIS_URL), the demo database for
// every PostgreSQL target without an upstream, the demo shell and the demo API for the SSH and HTTP
// targets without one, the agent in front of the targets, and (unless the config names a real
// OpenID provider) a local one with a demo user per role for the dashboard login. Prints a psql,
// an ssh and a curl command for the demo user and runs until Ctrl-C.
import crypto from 'node:crypto';
import path from 'node:path';
import { createBus } from '../common/bus/create-bus.ts';
import { createMemoryKeyDirectory, createRedisKeyDirectory } from '../common/ssh-key-directory.ts';
import { createControlBus } from '../common/control/redis-control-bus.ts';
import { OidcSettings, type Config, type HttpTarget, type Target } from '../common/config/schema.ts';
import { curlCommand, httpTargetUrl, listenAddress, sshCommand } from '../common/connection-uri.ts';
import { createLogger, type Logger } from '../common/log.ts';
import { ensureSigningKey, TokenSigner } from '../common/tokens.ts';
import { startAgent, type Agent } from '../proxy-agent/agent.ts';
import { startDemoDatabase, type DemoDatabase } from '../proxy-agent/demo/demo-database.ts';
import type { UpstreamSettings } from '../proxy-agent/postgres/upstream-login.ts';
import { startDemoShell, type DemoShell } from '../proxy-agent/demo/demo-shell.ts';
import { startDemoHttpApi, type DemoHttpApi } from '../proxy-agent/demo/demo-http-api.ts';
import { ensureDemoCertificate, type CertificateFiles } from '../proxy-agent/demo/demo-certificate.ts';
import type { SshUpstreamSettings } from '../proxy-agent/ssh/upstream-ssh.ts';
import { DEMO_ROLE_MAP, DEMO_USERS } from '../server/dev-idp/demo-users.ts';
import type { DevIdentityProvider } from '../server/dev-idp/dev-identity-provider.ts';
import { ensureDashboardBuilt } from '../server/http/dashboard.ts';
import { startHub, type Hub } from '../server/hub.ts';
import type { Persister } from '../server/recordings/ingest/persister.ts';
import { createStore, type HubStores } from '../server/store/create-store.ts';
import { recordDemoSessions } from './demo-recordings.ts';
import { DEMO_USER } from './dev-defaults.ts';
import { Resources, selfCommand, untilSignal } from './lifecycle.ts';
import { describeListenError } from './commands/agent.ts';
import { issueConnectionUri, parseTtl } from './commands/token.ts';

/** After the agent stops, how long the persister may take to store its last events. */
const SETTLE_MS = 5000;
/**
 * Where the agent reads the demo API's key (the demo target's injected credential, as a real
 * target's is read from the environment): set in this process only, when the demo API starts.
 */
const DEMO_API_KEY_ENV = 'VIGIL_DEMO_API_KEY';
/** How the printed hint words a request guardrail's action. */
const RULE_OUTCOME = { allow: 'allowed', deny: 'refused', approve: 'waits for an approver' } as const;
/** What the printed curl command asks the demo API for: a secret, which the recording masks. */
const DEMO_API_PATH = '/api/v1/namespaces/default/secrets/db-credentials';

/** Runs everything `vigil dev` serves until SIGINT or SIGTERM. */
export async function runDev(config: Config): Promise<void> {
  const logger = createLogger(config.log.level);
  const resources = new Resources();
  try {
    const running = await startDev(config, logger, resources);
    process.stdout.write(await banner(config, running));
    // In the background: the dashboard is usable meanwhile.
    const demoSessions = recordDemoSessions({
      config, store: running.stores.recordings, logger,
      portOf: (target) => running.agent.listeners.get(target)?.port,
      credential: (target, port) => issueConnectionUri({ config, user: DEMO_USER, target, ttlMs: 10 * 60_000, port }),
      sshPort: running.agent.listeners.get(config.targets.find((t) => t.protocol === 'ssh')?.name ?? '')?.port,
    });
    await untilSignal(logger);
    await demoSessions;
    // Sessions end first so their session.end events still reach the store.
    await running.agent.stop();
    await settle(running.hub.persister, logger);
  } finally {
    await resources.closeAll(logger);
  }
}

interface Running {
  hub: Hub;
  stores: HubStores;
  agent: Agent;
  demo: DemoDatabase | null;
  demoApi: DemoHttpApi | null;
  idp: DevIdentityProvider | null;
}

async function startDev(config: Config, logger: Logger, resources: Resources): Promise<Running> {
  ensureSigningKey(config.dataDir);
  const needsDemo = config.targets.some((t) => t.protocol === 'postgres' && !t.upstream);
  // The two PGlite databases take seconds each to open: the demo one starts in its own thread
  // while the store opens here.
  const demoStarting = needsDemo
    ? startDemoDatabase({ dataDir: path.join(config.dataDir, 'demo-db'), port: 0, logger, logLevel: config.log.level })
    : Promise.resolve(null);
  demoStarting.then((demo) => demo && resources.add('demo database', () => demo.stop()), () => undefined);
  try {
    return await startRest(config, logger, resources, demoStarting);
  } catch (err) {
    // Registered for shutdown before this rethrows, whether the demo database started or not.
    await demoStarting.catch(() => undefined);
    throw err;
  }
}

async function startRest(config: Config, logger: Logger, resources: Resources, demoStarting: Promise<DemoDatabase | null>): Promise<Running> {
  const bus = await createBus(config.redis.url, logger, config.redis.keyPrefix);
  resources.add('bus', () => bus.close());
  const stores = await createStore({ databaseUrl: config.hub.databaseUrl, dataDir: config.dataDir, logger });
  resources.add('store', () => stores.close());
  const login = config.hub.auth.oidc ? null : await startDevLogin(config);
  await ensureDashboardBuilt();
  if (login) resources.add('identity provider', () => login.idp.stop());
  // One directory of registered SSH keys for the hub (which writes it) and the agent (which reads it).
  const sshKeys = config.redis.url ? await createRedisKeyDirectory(config.redis.url, config.redis.keyPrefix, logger) : createMemoryKeyDirectory();
  resources.add('ssh key directory', () => sshKeys.close());
  // And one control bus: the hub's kill orders reach the agent.
  const control = await createControlBus(config.redis.url, config.redis.keyPrefix, logger);
  resources.add('control bus', () => control.close());
  const hub = await startHub({ config: login?.config ?? config, bus, stores, logger, oidcClientSecret: login?.clientSecret, sshKeyDirectory: sshKeys, control });
  resources.add('hub', () => hub.stop());
  const demo = await demoStarting;

  const upstreams = new Map<string, UpstreamSettings>();
  if (demo) for (const t of config.targets) if (t.protocol === 'postgres' && !t.upstream) upstreams.set(t.name, demo.settings);
  const sshUpstreams = new Map<string, SshUpstreamSettings>();
  let shell: DemoShell | null = null;
  if (config.targets.some((t) => t.protocol === 'ssh' && !t.upstream)) {
    shell = await startDemoShell({ home: path.join(config.dataDir, 'demo-shell-home'), logger });
    resources.add('demo shell', () => shell!.stop());
    for (const t of config.targets) if (t.protocol === 'ssh' && !t.upstream) sshUpstreams.set(t.name, shell.settings);
  }
  let demoApi: DemoHttpApi | null = null;
  let agentConfig = config;
  if (config.targets.some(isDemoApi)) {
    demoApi = await startDemoHttpApi({ logger });
    resources.add('demo API', () => demoApi!.stop());
    agentConfig = { ...config, targets: await Promise.all(config.targets.map((t) => (isDemoApi(t) ? demoApiTarget(config, t, demoApi!) : t))) };
    process.env[DEMO_API_KEY_ENV] = demoApi.key;
  }
  const { publicKeyPem } = ensureSigningKey(config.dataDir);
  const started = await startAgent({ config: agentConfig, bus, logger, hubPublicKeyPem: publicKeyPem, upstreams, sshUpstreams, sshKeys, control })
    .catch((err) => { throw describeListenError(err); });
  // Stopped early on shutdown (so sessions end while the hub still persists) and again by closeAll.
  let stopping: Promise<void> | null = null;
  const agent: Agent = { ...started, stop: () => (stopping ??= started.stop()) };
  resources.add('agent', () => agent.stop());
  return { hub, stores, agent, demo, demoApi, idp: login?.idp ?? null };
}

/** An HTTP target `vigil dev` serves its demo API behind: one the config gives no upstream. */
const isDemoApi = (t: Target): t is HttpTarget & { upstream: undefined } => t.protocol === 'http' && !t.upstream;

/** The demo API target as the agent serves it: the API's URL and key, and TLS with a certificate made once. */
async function demoApiTarget(config: Config, target: HttpTarget, api: DemoHttpApi): Promise<HttpTarget> {
  const tls = target.tls && demoTlsFiles(config, target);
  if (tls) await ensureDemoCertificate(tls);
  return { ...target, tls, upstream: { url: api.url, credential: { type: 'bearer', tokenEnv: DEMO_API_KEY_ENV } } };
}

/** The demo API's TLS files: relative paths are in dataDir, where `vigil dev` makes them. */
function demoTlsFiles(config: Config, target: HttpTarget): CertificateFiles | undefined {
  if (!target.tls) return undefined;
  return { certFile: path.resolve(config.dataDir, target.tls.certFile), keyFile: path.resolve(config.dataDir, target.tls.keyFile) };
}

/** The local OpenID provider and the hub config that logs in through it. */
async function startDevLogin(config: Config): Promise<{ idp: DevIdentityProvider; config: Config; clientSecret: string }> {
  const clientId = 'vigil-dev';
  const clientSecret = crypto.randomBytes(24).toString('base64url');
  const hubUrl = (config.hub.publicUrl ?? `http://${config.hub.listen}`).replace(/\/$/, '');
  // Loaded only here: the other commands have no use for an identity provider.
  const { startDevIdentityProvider } = await import('../server/dev-idp/dev-identity-provider.ts');
  const idp = await startDevIdentityProvider({ port: 0, client: { clientId, clientSecret, redirectUris: [`${hubUrl}/auth/callback`] } });
  const oidc = OidcSettings.parse({ issuer: idp.issuer, clientId, roles: { map: DEMO_ROLE_MAP } });
  return { idp, clientSecret, config: { ...config, hub: { ...config.hub, auth: { ...config.hub.auth, oidc } } } };
}

async function banner(config: Config, { hub, agent, demo, demoApi, idp }: Running): Promise<string> {
  const first = config.targets.find((t) => t.protocol === 'postgres' && !t.upstream) ?? config.targets[0];
  const uri = await issueConnectionUri({
    config, user: DEMO_USER, target: first.name, ttlMs: parseTtl(config.hub.tokenTtl), port: agent.listeners.get(first.name)?.port,
  });
  const vigil = selfCommand();
  const lines = [
    'Vigil dev is running (Ctrl-C to stop)',
    `  hub      ${hub.url}   store: ${config.hub.databaseUrl ? 'PostgreSQL (DATABASE_URL)' : `embedded PGlite in ${path.join(config.dataDir, 'store')}`}`,
    `  bus      ${config.redis.url ? 'Redis (REDIS_URL)' : 'in-process (set REDIS_URL to use Redis)'}`,
    `  dashboard ${hub.url}/`,
    idp
      ? `  login    ${hub.url}/auth/login   via the dev identity provider ${idp.issuer}: ${DEMO_USERS.map((u) => u.username).join(', ')}`
      : `  login    ${hub.url}/auth/login   via ${config.hub.auth.oidc?.issuer}`,
  ];
  for (const t of config.targets) {
    const at = agent.listeners.get(t.name);
    let upstream: string;
    if (t.protocol === 'ssh') upstream = t.upstream ? `ssh ${t.upstream.user}@${t.upstream.host}:${t.upstream.port}` : `demo shell (a pseudo-terminal in ${path.join(config.dataDir, 'demo-shell-home')})`;
    else if (t.protocol === 'http') upstream = t.upstream ? t.upstream.url : `demo API (${demoApi?.url}, an admin API that takes only its own key, which the agent adds)`;
    else if (t.upstream) upstream = `${t.upstream.host}:${t.upstream.port}/${t.upstream.database}`;
    else upstream = `demo database (PGlite, 127.0.0.1:${demo?.port}, sample data in ${path.join(config.dataDir, 'demo-db')})`;
    lines.push(`  target   ${t.name}  ${at ? `${at.address}:${at.port}` : listenAddress(config, t)}  ->  ${upstream}`);
  }
  lines.push(
    '',
    `Connect as ${DEMO_USER} (the token is valid for ${config.hub.tokenTtl}; \`${vigil} token --user NAME --target ${first.name}\` makes more):`,
    `  psql '${uri}'`,
    '',
  );
  const shellTarget = config.targets.find((t) => t.protocol === 'ssh');
  if (shellTarget) {
    const password = await issueConnectionUri({ config, user: DEMO_USER, target: shellTarget.name, ttlMs: parseTtl(config.hub.tokenTtl) });
    lines.push(
      `Or open a shell on ${shellTarget.name} as ${DEMO_USER}, and give this token at the password prompt:`,
      `  ${sshCommand(config, shellTarget, agent.listeners.get(shellTarget.name)?.port)}`,
      `  ${password}`,
      '',
    );
  }
  const apiTarget = config.targets.find((t): t is HttpTarget => t.protocol === 'http');
  if (apiTarget) {
    const port = agent.listeners.get(apiTarget.name)?.port;
    const signer = await TokenSigner.fromPem(ensureSigningKey(config.dataDir).privateKeyPem);
    const token = await signer.connectionToken(DEMO_USER, apiTarget.name, parseTtl(config.hub.tokenTtl));
    if (isDemoApi(apiTarget)) {
      const tls = demoTlsFiles(config, apiTarget);
      const rules = apiTarget.guardrails.filter((g) => g.request).map((g) => `; ${g.request}: ${RULE_OUTCOME[g.action]}`);
      lines.push(
        `Or call the demo API on ${apiTarget.name} as ${DEMO_USER}: her Vigil token is the bearer token, and the agent adds the API's own key:`,
        `  curl ${tls ? `--cacert ${shellWord(tls.certFile)} ` : ''}-H 'Authorization: Bearer ${token}' ${httpTargetUrl(config, apiTarget, port)}${DEMO_API_PATH}`,
        `  (GET / lists the routes: pods, users, POST /api/v1/users, /events, a WebSocket at /ws${rules.join('')})`,
        '',
      );
    } else {
      lines.push(`Or call ${apiTarget.name} as ${DEMO_USER}:`, `  ${curlCommand(config, apiTarget, token, port)}`, '');
    }
  }
  const jit = config.targets.find((t) => t.access === 'jit');
  if (jit) {
    lines.push(
      `Just-in-time access: ${jit.name} admits ${DEMO_USER} only while an approver allows it. Ask (or on the dashboard, Access, as ${DEMO_USER}):`,
      `  ${vigil} request ${jit.name} --for 30m --reason "INC-1: check refunds" --wait`,
      `then approve it as aaron (dashboard, Access), and connect with \`${vigil} token --user ${DEMO_USER} --target ${jit.name}\`.`,
    );
    if (jit.guardrails.some((g) => g.action === 'approve')) lines.push('There a DROP or TRUNCATE waits for an approver too; aaron can revoke the grant and the session ends at once.');
    lines.push('');
  }
  lines.push(
    'Then read the recording (masked):',
    `  ${vigil} sessions list`,
    `  ${vigil} sessions show <ID>`,
    `  ${vigil} export <ID> --format jsonl`,
    ...(apiTarget ? [`  ${vigil} export <ID> --format har > session.har   # an HTTP session`] : []),
    '',
    'vigil dev is ready',
    '',
  );
  return lines.join('\n');
}

/** A path as one shell word, quoted only when it must be. */
function shellWord(text: string): string {
  return /^[\w./:@%+=,-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

/** Waits until the persister has taken nothing new for a moment (the in-process bus dies with us). */
async function settle(persister: Persister, logger: Logger): Promise<void> {
  const deadline = Date.now() + SETTLE_MS;
  let last = -1;
  while (Date.now() < deadline) {
    const { received } = persister.metrics();
    if (received === last) return;
    last = received;
    await new Promise((r) => setTimeout(r, 300));
  }
  logger.warn('the last events may not all be stored: the persister was still busy at shutdown');
}
