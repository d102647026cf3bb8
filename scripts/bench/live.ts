// npm run bench:live — live viewing under load: N proxied PostgreSQL sessions (pgbench through the
// agent, rate-limited to a total number of recorded events per second) watched by M Socket.IO
// viewers logged in through the real OpenID provider. Prints the events/s delivered to viewers and
// the latency from the agent's emit to the viewer's receipt (p50/p99), checks every viewer got each
// seq once and in order, then connects idle viewers and prints the hub's resident memory.
// A benchmark, not a test: it prints PASS/MISS against the issue's targets and exits 0 unless
// something crashed.
//
// Settings (environment): BENCH_SESSIONS (10), BENCH_VIEWERS (50), BENCH_EVENTS_PER_S (2000),
// BENCH_SECONDS (15) measured after BENCH_WARMUP (3) s, BENCH_IDLE_VIEWERS (500),
// BENCH_WATCH=one|all (one: viewer i watches session i mod N, as on-call people each watch a
// session; all: every viewer watches every session), BENCH_QUICK=1 (5 s, 100 idle viewers).
//
// Processes: PostgreSQL 15 (the target and, in another database, the hub's store) and Redis,
// private, on free ports; the agent, the hub (`vigil hub`, bundled) and the viewers each in their
// own process; pgbench; the OpenID provider in this driver (idle after the logins).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { ensureSigningKey, TokenSigner } from '../../common/tokens.ts';
import { DEMO_ROLE_MAP } from '../../server/dev-idp/demo-users.ts';
import { startDevIdentityProvider } from '../../server/dev-idp/dev-identity-provider.ts';
import { freePort } from '../../test/support/free-port.ts';
import { browserLike, loginThroughProvider } from '../../test/support/oidc-login-client.ts';
import { buildBundle } from '../build.ts';
import { BUNDLE_DIR, DB, ROOT, startDataServices, STORE_DB } from './bench-services.ts';
import { runPgbench, type Endpoint } from './pgbench.ts';
import { Cleanup, cpuSeconds, rssMb, startChild, type Child, runBenchmark } from './processes.ts';

const env = process.env;
const QUICK = env.BENCH_QUICK === '1';
const SESSIONS = Number(env.BENCH_SESSIONS ?? 10);
const VIEWERS = Number(env.BENCH_VIEWERS ?? 50);
const EVENTS_PER_S = Number(env.BENCH_EVENTS_PER_S ?? 2000);
const SECONDS = Number(env.BENCH_SECONDS ?? (QUICK ? 5 : 15));
const WARMUP = Number(env.BENCH_WARMUP ?? 3);
const IDLE_VIEWERS = Number(env.BENCH_IDLE_VIEWERS ?? (QUICK ? 100 : 500));
const WATCH_ALL = env.BENCH_WATCH === 'all';
const P99_TARGET_MS = 50;
const RSS_TARGET_MB = 300;

const TOKEN_USER = 'bench';
const CLIENT = { clientId: 'vigil-bench', clientSecret: 'bench-secret' };
/** A statement whose result is a small table, as people's queries mostly are. */
const QUERY = "SELECT g AS n, md5(g::text) AS note, now() AS at FROM generate_series(1, 5) g;\n";

const cleanup = new Cleanup();
cleanup.installSignalHandlers();
const say = (line = '') => process.stdout.write(`${line}\n`);
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

function bundled(name: string, script: string, args: string[], extraEnv: NodeJS.ProcessEnv = {}): Child {
  return startChild(name, process.execPath, [path.join(BUNDLE_DIR, script), ...args], { cwd: ROOT, env: { ...env, ...extraEnv } }, cleanup);
}

/** Sends one JSON command to a viewer process and waits for its answer. */
async function ask(viewers: Child, cmd: object, key: string, timeoutMs = 120_000): Promise<Record<string, unknown>> {
  viewers.send(JSON.stringify(cmd));
  const msg = await viewers.nextMessage((m) => key in m || 'error' in m, timeoutMs);
  if ('error' in msg) throw new Error(`viewers: ${String(msg.error)}`);
  return msg;
}

async function waitForHttp(url: string, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      await fetch(url);
      return;
    } catch (err) {
      if (Date.now() > until) throw new Error(`${url} did not answer: ${(err as Error).message}`);
      await pause(100);
    }
  }
}

interface Report { received: number; disorder: number; samples: number; p50: number; p90: number; p99: number; max: number }

async function main(): Promise<void> {
  const started = Date.now();
  const elapsed = () => `[${String(Math.round((Date.now() - started) / 1000)).padStart(3)} s]`;
  say(`vigil bench:live — ${SESSIONS} sessions, ${EVENTS_PER_S} events/s in all, ${VIEWERS} viewers (${WATCH_ALL ? 'each watches every session' : 'each watches one session'}), ${SECONDS} s measured, ${os.cpus().length} CPUs`);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-live-'));
  cleanup.add('temp dir', () => fs.rmSync(tmp, { recursive: true, force: true }));

  await buildBundle({ outdir: BUNDLE_DIR, extra: { 'agent-process': 'scripts/bench/agent-process.ts', 'viewer-process': 'scripts/bench/viewer-process.ts' } });

  const { postgres, redis, urlOf } = await startDataServices(cleanup, [DB, STORE_DB]);
  const storeUrl = urlOf(STORE_DB);

  // Hub and agent share a data dir: the agent verifies tokens with the hub's public key from it.
  const dataDir = path.join(tmp, 'data');
  const keys = ensureSigningKey(dataDir);

  const hubPort = await freePort();
  const hubUrl = `http://127.0.0.1:${hubPort}`;
  const idp = await startDevIdentityProvider({ port: 0, client: { ...CLIENT, redirectUris: [`${hubUrl}/auth/callback`] } });
  cleanup.add('identity provider', () => idp.stop());
  const hubConfig = path.join(tmp, 'hub.json');
  fs.writeFileSync(hubConfig, JSON.stringify({
    dataDir, log: { level: 'warn' }, redis: { url: redis.url },
    hub: { listen: `127.0.0.1:${hubPort}`, databaseUrl: storeUrl, auth: { oidc: { issuer: idp.issuer, clientId: CLIENT.clientId, roles: { map: DEMO_ROLE_MAP } } } },
  }));
  const hub = bundled('hub', 'vigil.mjs', ['hub', '--config', hubConfig], { VIGIL_OIDC_CLIENT_SECRET: CLIENT.clientSecret });
  await waitForHttp(`${hubUrl}/api/me`);

  const agentConfig = path.join(tmp, 'agent.json');
  fs.writeFileSync(agentConfig, JSON.stringify({
    dataDir, log: { level: 'warn' }, redis: { url: redis.url },
    targets: [{ name: DB, protocol: 'postgres', listen: '127.0.0.1:0', recording: 'required', upstream: { host: '127.0.0.1', port: postgres.port, database: DB, user: 'postgres' } }],
  }));
  const agent = bundled('agent', 'agent-process.mjs', [agentConfig]);
  const listening = await agent.nextMessage((m) => 'listening' in m);
  const signer = await TokenSigner.fromPem(keys.privateKeyPem);
  const agentEndpoint: Endpoint = {
    host: '127.0.0.1', port: Number((listening.listening as Record<string, number>)[DB]),
    user: TOKEN_USER, database: DB, password: await signer.connectionToken(TOKEN_USER, DB, 6 * 3600_000),
  };
  const appended = async () => {
    agent.send('stats');
    return Number(((await agent.nextMessage((m) => 'stats' in m)).stats as { appended: number }).appended);
  };

  // Reviewers log in through the provider, as in the browser; their cookies open the sockets.
  const cookies: string[] = [];
  const login = async (user: string) => {
    const browser = browserLike();
    const { response } = await loginThroughProvider(browser, hubUrl, user);
    if (response.status !== 303) throw new Error(`login as ${user} failed: HTTP ${response.status}`);
    return browser.jar.header();
  };
  for (const user of ['rita', 'remy']) cookies.push(await login(user));
  // The admin reads the hub's own count of connected viewers from /metrics.
  const adminCookie = await login('ada');
  const hubViewers = async () => {
    const text = await (await fetch(`${hubUrl}/metrics`, { headers: { cookie: adminCookie } })).text();
    return Number(/^vigil_viewers (\d+)/m.exec(text)?.[1] ?? NaN);
  };
  say(`${elapsed()} hub (pid ${hub.pid}) ${hubUrl}, agent (pid ${agent.pid}) :${agentEndpoint.port}, PostgreSQL :${postgres.port}, Redis :${redis.port}; rita and remy logged in`);

  // How many events one statement records, to set pgbench's rate for the events/s asked for.
  const script = path.join(tmp, 'query.sql');
  fs.writeFileSync(script, QUERY);
  const workload = (rate: number) => ({ name: 'live', args: ['-f', script, '-M', 'simple', '-R', String(rate)] });
  const calibrationBefore = await appended();
  const calibration = await runPgbench(agentEndpoint, workload(200), { clients: 1, threads: 1, seconds: 2 });
  await pause(300);
  const perTx = (await appended() - calibrationBefore - 2) / Math.max(1, calibration.transactions); // minus start and end
  const txRate = Math.max(1, Math.round(EVENTS_PER_S / perTx));
  say(`${elapsed()} one statement records ${perTx.toFixed(2)} events: pgbench runs ${txRate} statements/s over ${SESSIONS} sessions`);

  // The load: pgbench's sessions through the agent, for warm-up, measurement and slack.
  const runStarted = new Date(Date.now() - 1000);
  const load = runPgbench(agentEndpoint, workload(txRate), { clients: SESSIONS, threads: Math.min(2, SESSIONS), seconds: WARMUP + SECONDS + 10 });
  load.catch(() => undefined);

  // Their session ids, from the store, once the hub has them.
  const store = new pg.Client({ connectionString: storeUrl });
  await store.connect();
  cleanup.add('store client', () => store.end());
  let ids: string[] = [];
  for (let tries = 0; ids.length < SESSIONS; tries++) {
    if (tries > 200) throw new Error(`only ${ids.length} of ${SESSIONS} sessions reached the hub`);
    await pause(100);
    const r = await store.query('SELECT id FROM sessions WHERE ended_at IS NULL AND started_at >= $1', [runStarted]);
    ids = r.rows.map((row: { id: string }) => row.id);
  }

  const viewers = bundled('viewers', 'viewer-process.mjs', [JSON.stringify({ url: hubUrl, cookies })]);
  await viewers.nextMessage((m) => 'ready' in m);
  await ask(viewers, { connect: VIEWERS, follow: false }, 'connected');
  const watching = await ask(viewers, { watch: ids, all: WATCH_ALL }, 'watching');
  say(`${elapsed()} ${VIEWERS} viewers watch (${String(watching.watching)} watches); warm-up ${WARMUP} s`);
  await pause(WARMUP * 1000);

  await ask(viewers, { reset: true }, 'reset');
  const before = { appended: await appended(), hubCpu: cpuSeconds(hub.pid), agentCpu: cpuSeconds(agent.pid), viewersCpu: cpuSeconds(viewers.pid), at: Date.now() };
  await pause(SECONDS * 1000);
  const report = (await ask(viewers, { report: true }, 'report')).report as Report;
  const wall = (Date.now() - before.at) / 1000;
  const produced = (await appended() - before.appended) / wall;
  const cores = (pid: number, was: number) => ((cpuSeconds(pid) - was) / wall).toFixed(2);
  await load;

  say();
  say(`events recorded: ${produced.toFixed(0)}/s; delivered to viewers: ${(report.received / wall).toFixed(0)}/s (${report.samples} deliveries in ${wall.toFixed(1)} s)`);
  say(`emit -> viewer latency: p50 ${report.p50.toFixed(1)} ms, p90 ${report.p90.toFixed(1)} ms, p99 ${report.p99.toFixed(1)} ms, max ${report.max.toFixed(1)} ms ` +
    `(includes the agent's 5 ms batching linger and up to 1 ms of timestamp rounding)`);
  say(`  target p99 < ${P99_TARGET_MS} ms at ${EVENTS_PER_S} events/s with ${VIEWERS} viewers: ${report.p99 < P99_TARGET_MS && produced >= EVENTS_PER_S * 0.9 ? 'PASS' : 'MISS'}`);
  say(`  order: ${report.disorder === 0 ? 'every viewer got each seq once, in order' : `${report.disorder} deliveries out of order or repeated: FAIL`}`);
  say(`CPU: hub ${cores(hub.pid, before.hubCpu)} cores, agent ${cores(agent.pid, before.agentCpu)}, viewers' process ${cores(viewers.pid, before.viewersCpu)}`);
  await viewers.stop();

  // Idle viewers: the Live page open, nothing watched. The hub's memory with them.
  await pause(2000);
  const rssBefore = rssMb(hub.pid);
  const idle = bundled('idle viewers', 'viewer-process.mjs', [JSON.stringify({ url: hubUrl, cookies })]);
  await idle.nextMessage((m) => 'ready' in m);
  await ask(idle, { connect: IDLE_VIEWERS, follow: true }, 'connected');
  await pause(3000);
  const rssWith = rssMb(hub.pid);
  say();
  say(`memory: hub RSS ${rssBefore.toFixed(1)} MB before, ${rssWith.toFixed(1)} MB with ${IDLE_VIEWERS} idle viewers on the Live page ` +
    `(the hub counts ${await hubViewers()} connected; PostgreSQL store); ` +
    `target < ${RSS_TARGET_MB} MB: ${rssWith < RSS_TARGET_MB ? 'PASS' : 'MISS'}`);
  await idle.stop();

  say(`${elapsed()} cleaning up`);
  await cleanup.run();
  say(`total ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

runBenchmark('bench:live', main, cleanup);
