// npm run bench:revoke — how fast revoking just-in-time grants ends the sessions under them: 50
// live PostgreSQL sessions through the agent to a `jit` target, under grants people asked for and
// an approver approved (the hub's HTTP API, API tokens); half idle, half inside
// `select pg_sleep(60)`. The approver revokes every grant at once (one POST each, concurrently).
// Prints, per round and as medians over rounds, the time from just before a grant's revoke call to
// each of its sessions' client sockets closing (p50, p99, max), and met/MISS against the issue's
// target (p99 < 200 ms). Also shown: how long the revoke call took to answer, when the revocation
// appeared on the control bus (a subscriber in this driver), and whether the upstream backend of
// a session ended inside a statement still runs that statement afterwards.
// A benchmark, not a test: exits 0 unless something failed (a session that never closed is a
// failure, not a missed target).
//
// Settings (environment): BENCH_SESSIONS (50), BENCH_GRANTS ("10,50": one layout per number, each
// grant held by its own person with BENCH_SESSIONS / grants sessions), BENCH_ROUNDS (3),
// BENCH_BUSY=half|all|none (which sessions are inside pg_sleep; the others are idle, and their
// upstream backends exit when the agent ends them: with `all` none exits during the measurement,
// which matters when PostgreSQL shares a small machine with everything else), BENCH_QUICK=1
// (1 round, layout 10).
//
// Processes: PostgreSQL (the target's database and, in another database, the hub's store) and
// Redis, private, on free ports; the hub (`vigil hub`: PostgreSQL store, Redis control bus) and
// the agent (`vigil agent`), bundled, each in its own process as in production; the PostgreSQL
// clients, the API calls and a control-bus subscriber in this driver.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { parseConfig } from '../../common/config/load-config.ts';
import { createRedisControlBus } from '../../common/control/redis-control-bus.ts';
import { ensureSigningKey, TokenSigner } from '../../common/tokens.ts';
import { freePort } from '../../test/support/free-port.ts';
import { buildBundle } from '../build.ts';
import { BUNDLE_DIR, DB, ROOT, startDataServices, STORE_DB } from './bench-services.ts';
import { Cleanup, cpuSeconds, machineBusySeconds, runBenchmark, startChild, type Child } from './processes.ts';
import { median, percentile } from './report.ts';

const env = process.env;
const QUICK = env.BENCH_QUICK === '1';
const SESSIONS = Number(env.BENCH_SESSIONS ?? 50);
const LAYOUTS = (env.BENCH_GRANTS ?? (QUICK ? '10' : '10,50')).split(',').map(Number);
const ROUNDS = Number(env.BENCH_ROUNDS ?? (QUICK ? 1 : 3));
const BUSY = env.BENCH_BUSY ?? 'half';
const isBusy = (i: number) => BUSY === 'all' || (BUSY === 'half' && i % 2 === 0);
const P99_TARGET_MS = 200;
/** A session still open this long after its grant's revoke call: revocation failed. */
const CLOSE_TIMEOUT_MS = 10_000;

const TARGET = 'pg';
const SLEEP = 'select pg_sleep(60)';
const APPROVER = 'approver-1';

const cleanup = new Cleanup();
cleanup.installSignalHandlers();
const say = (line = '') => process.stdout.write(`${line}\n`);
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ms = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : '-');
const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);

/** Resolves once the child prints something matching `pattern` on stdout (`vigil hub`/`agent` print no JSON). */
function printed(child: Child, pattern: RegExp, timeoutMs = 30_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    const done = (err: Error | null, line = '') => {
      clearTimeout(timer);
      child.proc.stdout!.off('data', onData);
      child.proc.off('exit', onExit);
      if (err) reject(err);
      else resolve(line);
    };
    const onData = (d: Buffer) => {
      out += d;
      const m = pattern.exec(out);
      if (m) done(null, m[0]);
    };
    const onExit = () => done(new Error(`${pattern} not printed: the process exited (code ${child.proc.exitCode}); stderr:\n${child.stderrTail()}\nstdout:\n${out}`));
    const timer = setTimeout(() => done(new Error(`nothing matching ${pattern} printed in ${timeoutMs} ms; stderr:\n${child.stderrTail()}`)), timeoutMs);
    child.proc.stdout!.on('data', onData);
    child.proc.once('exit', onExit);
  });
}

type Api = (method: string, urlPath: string, body?: unknown) => Promise<{ status: number; body: Record<string, any> }>;

function apiAs(hubUrl: string, token: string): Api {
  return async (method, urlPath, body) => {
    const res = await fetch(`${hubUrl}${urlPath}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json().catch(() => ({}))) as Record<string, any> };
  };
}

/** One proxied PostgreSQL session, its client socket watched for the end. */
interface Session {
  grant: number;
  busy: boolean;
  client: pg.Client;
  socket: net.Socket;
  /** performance.now() when the socket ended, closed or failed, whichever first. */
  closedAt: number | null;
  /** What the client was told (the agent's FATAL), if anything. */
  message: string;
  closed: Promise<void>;
}

async function openSession(port: number, user: string, password: string, grant: number, busy: boolean): Promise<Session> {
  const socket = new net.Socket();
  let markClosed!: () => void;
  const session: Session = {
    grant, busy, socket, closedAt: null, message: '',
    client: new pg.Client({ host: '127.0.0.1', port, user, password, database: DB, application_name: 'bench-revoke', stream: () => socket }),
    closed: new Promise<void>((resolve) => (markClosed = resolve)),
  };
  const onClosed = () => {
    if (session.closedAt !== null) return;
    session.closedAt = performance.now();
    markClosed();
  };
  socket.once('end', onClosed).once('close', onClosed).once('error', onClosed);
  const told = (err: Error) => (session.message ||= err.message);
  session.client.on('error', told);
  await session.client.connect();
  if (busy) session.client.query(SLEEP).then(() => told(new Error('pg_sleep ended normally')), told);
  return session;
}

interface RoundResult {
  /** Revoke call start -> client socket closed, per closed session (ms). */
  close: number[];
  closeIdle: number[];
  closeBusy: number[];
  /** Revoke call start -> its HTTP answer, per grant. */
  http: number[];
  /** Revoke call start -> the revoked state seen on the control bus, per grant. */
  bus: number[];
  unclosed: number;
  withoutMessage: number;
  /** Sessions inside pg_sleep, and their upstream backends still in it after the sessions ended. */
  busy: number;
  stillSleeping: number;
  /** CPU time of the agent and the hub from the revoke calls until every session closed. */
  agentCpuMs: number;
  hubCpuMs: number;
  /** Busy cores of the whole machine meanwhile (anything else running slows the figures). */
  machineCores: number;
}

async function main(): Promise<void> {
  const started = Date.now();
  const elapsed = () => `[${String(Math.round((Date.now() - started) / 1000)).padStart(3)} s]`;
  for (const g of LAYOUTS) {
    if (!Number.isInteger(g) || g < 1 || SESSIONS % g !== 0) throw new Error(`BENCH_GRANTS: ${g} does not divide BENCH_SESSIONS=${SESSIONS}`);
  }
  if (!['half', 'all', 'none'].includes(BUSY)) throw new Error(`BENCH_BUSY: expected half, all or none, got ${BUSY}`);
  const sessionsAre = { half: `half idle, half in ${SLEEP}`, all: `all in ${SLEEP}`, none: 'all idle' }[BUSY];
  say(`vigil bench:revoke — ${SESSIONS} live PostgreSQL sessions to a jit target (${sessionsAre}), ` +
    `grants revoked at once over the hub's API; layouts: ${LAYOUTS.map((g) => `${g} grants x ${SESSIONS / g} sessions`).join(', ')}; ${ROUNDS} round(s), ${os.cpus().length} CPUs (load average ${os.loadavg()[0].toFixed(1)})`);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-revoke-'));
  cleanup.add('temp dir', () => fs.rmSync(tmp, { recursive: true, force: true }));
  await buildBundle({ outdir: BUNDLE_DIR });

  const { postgres, redis, urlOf } = await startDataServices(cleanup, [DB, STORE_DB]);

  // One configuration for both: the hub needs the target's approval settings, the agent its
  // upstream and listener. They share the data dir (the agent reads the hub's public key there,
  // this driver signs API and connection tokens with its private key, as `vigil token` does).
  const dataDir = path.join(tmp, 'data');
  const keys = ensureSigningKey(dataDir);
  const agentPort = await freePort();
  const raw = {
    dataDir, log: { level: 'warn' }, redis: { url: redis.url },
    hub: { listen: '127.0.0.1:0', databaseUrl: urlOf(STORE_DB) },
    targets: [{
      name: TARGET, protocol: 'postgres', listen: `127.0.0.1:${agentPort}`, access: 'jit',
      upstream: { host: '127.0.0.1', port: postgres.port, database: DB, user: 'postgres' },
    }],
  };
  const config = parseConfig(raw, 'bench:revoke');

  // The hub and the agent as `vigil hub` and `vigil agent`, each in its own process (its own event
  // loop and Redis connections), as in production; this driver holds only the clients.
  const configFile = path.join(tmp, 'vigil.json');
  fs.writeFileSync(configFile, JSON.stringify(raw));
  const vigil = (name: string, command: string) =>
    startChild(name, process.execPath, [path.join(BUNDLE_DIR, 'vigil.mjs'), command, '--config', configFile], { cwd: ROOT, env: { ...env } }, cleanup);
  const hub = vigil('hub', 'hub');
  const hubUrl = /http:\/\/\S+/.exec(await printed(hub, /vigil hub: API on http:\/\/\S+/))![0].replace(/,$/, '');
  const agent = vigil('agent', 'agent');
  await printed(agent, /vigil agent: target pg on \S+/);

  // When each revocation is on the control bus, as any subscriber (an agent) would see it.
  const watcher = await createRedisControlBus(redis.url, config.redis.keyPrefix);
  cleanup.add('control watcher', () => watcher.close());
  const revokedSeen = new Map<number, number>();
  await watcher.subscribe((m) => {
    if (m.kind === 'access' && m.status === 'revoked' && !revokedSeen.has(m.requestId)) revokedSeen.set(m.requestId, performance.now());
  });

  // Watches the target database directly: the sleeping statements, and what outlives a revoke.
  const direct = new pg.Client({ connectionString: urlOf(DB) });
  await direct.connect();
  cleanup.add('direct client', () => direct.end());
  const sleeping = async () => Number((await direct.query(
    "SELECT count(*)::int AS n FROM pg_stat_activity WHERE state = 'active' AND query = $1", [SLEEP])).rows[0].n);
  const endSleepers = () => direct.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = $1 AND pid <> pg_backend_pid()', [SLEEP]);

  const signer = await TokenSigner.fromPem(keys.privateKeyPem);
  const approver = apiAs(hubUrl, await signer.apiToken(APPROVER, 'approver', 3600_000));
  const maxGrants = Math.max(...LAYOUTS);
  const people = await Promise.all(Array.from({ length: maxGrants }, async (_, g) => {
    const user = `eng-${g + 1}`;
    return {
      user,
      api: apiAs(hubUrl, await signer.apiToken(user, 'engineer', 3600_000)),
      password: await signer.connectionToken(user, TARGET, 3600_000),
    };
  }));
  say(`${elapsed()} hub (pid ${hub.pid}) ${hubUrl}, agent (pid ${agent.pid}) :${agentPort}, PostgreSQL :${postgres.port}, Redis :${redis.port}`);

  const live: Session[] = [];
  cleanup.add('clients', () => live.forEach((s) => s.socket.destroy()));

  async function round(grants: number): Promise<RoundResult> {
    const perGrant = SESSIONS / grants;
    // Each person asks; the approver approves.
    const ids = await Promise.all(people.slice(0, grants).map(async (p) => {
      const asked = await p.api('POST', '/api/access-requests', { target: TARGET, reason: 'bench: INC-1 investigate', duration: '1h' });
      if (asked.status !== 201) throw new Error(`${p.user}: access request failed: HTTP ${asked.status} ${JSON.stringify(asked.body)}`);
      const id = Number(asked.body.request.id);
      const approved = await approver('POST', `/api/access-requests/${id}/approve`, { comment: 'ok' });
      if (approved.body.request?.status !== 'granted') throw new Error(`request #${id}: approval failed: HTTP ${approved.status} ${JSON.stringify(approved.body)}`);
      return id;
    }));

    // Sessions: grant g holds sessions g*perGrant .. (g+1)*perGrant-1 (BENCH_BUSY=half: every other one busy).
    const sessions = await Promise.all(Array.from({ length: SESSIONS }, (_, i) => {
      const g = Math.floor(i / perGrant);
      return openSession(agentPort, people[g].user, people[g].password, g, isBusy(i));
    }));
    live.push(...sessions);
    const busy = sessions.filter((s) => s.busy).length;
    for (let tries = 0; (await sleeping()) < busy; tries++) {
      if (tries > 100) throw new Error(`only ${await sleeping()} of ${busy} sessions are inside ${SLEEP}`);
      await pause(50);
    }
    await pause(300);
    const early = sessions.filter((s) => s.closedAt !== null).length;
    if (early) throw new Error(`${early} sessions ended before the revocation: ${sessions.find((s) => s.closedAt !== null)!.message}`);

    // The revocation: every grant at once, each timed from just before its own call.
    const cpu0 = { agent: cpuSeconds(agent.pid), hub: cpuSeconds(hub.pid), machine: machineBusySeconds(), at: performance.now() };
    const calls = await Promise.all(ids.map(async (id) => {
      const t0 = performance.now();
      const res = await approver('POST', `/api/access-requests/${id}/revoke`, { reason: 'incident closed' });
      if (res.status !== 200 || res.body.request?.status !== 'revoked') throw new Error(`revoking #${id} failed: HTTP ${res.status} ${JSON.stringify(res.body)}`);
      return { id, t0, http: performance.now() - t0 };
    }));
    await Promise.race([Promise.all(sessions.map((s) => s.closed)), pause(CLOSE_TIMEOUT_MS)]);
    const agentCpuMs = (cpuSeconds(agent.pid) - cpu0.agent) * 1000;
    const hubCpuMs = (cpuSeconds(hub.pid) - cpu0.hub) * 1000;
    const machineCores = (machineBusySeconds() - cpu0.machine) / ((performance.now() - cpu0.at) / 1000);

    const result: RoundResult = {
      close: [], closeIdle: [], closeBusy: [], http: calls.map((c) => c.http),
      bus: calls.map((c) => (revokedSeen.get(c.id) ?? NaN) - c.t0),
      unclosed: 0, withoutMessage: 0, busy, stillSleeping: 0, agentCpuMs, hubCpuMs, machineCores,
    };
    for (const s of sessions) {
      if (s.closedAt === null) {
        result.unclosed++;
        continue;
      }
      const latency = s.closedAt - calls[s.grant].t0;
      result.close.push(latency);
      (s.busy ? result.closeBusy : result.closeIdle).push(latency);
      if (!/was revoked/.test(s.message)) result.withoutMessage++;
    }
    // The agent has let go of the upstream connections (it destroys them 1 s after the end at
    // the latest): a backend still inside pg_sleep runs on without anyone to answer.
    await pause(1500);
    result.stillSleeping = await sleeping();
    await endSleepers();
    for (const s of sessions) s.socket.destroy();
    live.splice(0);
    return result;
  }

  const results = new Map<number, RoundResult[]>(LAYOUTS.map((g) => [g, []]));
  for (let r = 1; r <= ROUNDS; r++) {
    for (const grants of LAYOUTS) {
      const res = await round(grants);
      results.get(grants)!.push(res);
      const c = sorted(res.close);
      say(`${elapsed()} round ${r}/${ROUNDS}  ${`${grants} grants x ${SESSIONS / grants}`.padEnd(16)} closed ${c.length}/${SESSIONS}; ` +
        `revoke -> close p50 ${ms(percentile(c, 50))} ms, p99 ${ms(percentile(c, 99))} ms, max ${ms(c.at(-1) ?? NaN)} ms; ` +
        `revoke call answered p50 ${ms(percentile(sorted(res.http), 50))} ms; on the bus p50 ${ms(percentile(sorted(res.bus), 50))} ms; ` +
        `machine ${res.machineCores.toFixed(1)} cores busy` +
        `${res.unclosed ? `; ${res.unclosed} NOT CLOSED after ${CLOSE_TIMEOUT_MS} ms` : ''}`);
    }
  }

  say();
  say(`medians over ${ROUNDS} round(s), ms from just before a grant's revoke call (POST /api/access-requests/:id/revoke) to each of its sessions' client socket closing`);
  say(`${'layout'.padEnd(24)}${'closed'.padStart(8)}${'p50'.padStart(8)}${'p99'.padStart(8)}${'max'.padStart(8)}${'idle p99'.padStart(10)}${'busy p99'.padStart(10)}` +
    `${'call p50'.padStart(10)}${'call max'.padStart(10)}${'bus p50'.padStart(9)}${'bus max'.padStart(9)}   CPU ms: hub, agent`);
  let unclosed = 0;
  const verdicts: string[] = [];
  for (const grants of LAYOUTS) {
    const rs = results.get(grants)!;
    const med = (f: (r: RoundResult) => number) => median(rs.map(f));
    const p = (xs: number[], q: number) => percentile(sorted(xs), q);
    const p99 = med((r) => p(r.close, 99));
    const closed = rs.reduce((n, r) => n + r.close.length, 0);
    unclosed += rs.reduce((n, r) => n + r.unclosed, 0);
    say(`${`${grants} grants x ${SESSIONS / grants} sessions`.padEnd(24)}${`${closed}/${SESSIONS * rs.length}`.padStart(8)}` +
      `${ms(med((r) => p(r.close, 50))).padStart(8)}${ms(p99).padStart(8)}${ms(med((r) => Math.max(...r.close))).padStart(8)}` +
      `${ms(med((r) => p(r.closeIdle, 99))).padStart(10)}${ms(med((r) => p(r.closeBusy, 99))).padStart(10)}` +
      `${ms(med((r) => p(r.http, 50))).padStart(10)}${ms(med((r) => Math.max(...r.http))).padStart(10)}` +
      `${ms(med((r) => p(r.bus, 50))).padStart(9)}${ms(med((r) => Math.max(...r.bus))).padStart(9)}` +
      `   ${med((r) => r.hubCpuMs).toFixed(0)}, ${med((r) => r.agentCpuMs).toFixed(0)}`);
    verdicts.push(`${grants} grants: ${p99 < P99_TARGET_MS && rs.every((r) => r.unclosed === 0) ? 'met' : 'MISS'} (${ms(p99)} ms)`);
  }
  say(`  p99 is nearest rank: over ${SESSIONS} sessions a round it is the round's max; idle/busy p99: the idle sessions and those inside pg_sleep`);
  say('  call = the revoke POST until its answer; bus = until this driver\'s subscriber saw the revoked state on the control bus (Redis pub/sub);');
  say('  CPU = of the hub\'s and the agent\'s processes from the revoke calls until the last session closed (10 ms ticks)');
  say(`target p99 < ${P99_TARGET_MS} ms: ${verdicts.join('; ')}`);

  const all = LAYOUTS.flatMap((g) => results.get(g)!);
  const withoutMessage = all.reduce((n, r) => n + r.withoutMessage, 0);
  const still = all.reduce((n, r) => n + r.stillSleeping, 0);
  const busyTotal = all.reduce((n, r) => n + r.busy, 0);
  say(`clients told why: ${all.reduce((n, r) => n + r.close.length, 0) - withoutMessage} of the closed sessions got the FATAL "access grant #N was revoked by ..."` +
    `${withoutMessage ? ` (${withoutMessage} closed without it)` : ''}`);
  if (busyTotal) {
    say(`upstream: ${still} of ${busyTotal} backends ended inside ${SLEEP} were still running it 1.5 s after the revocation` +
      `${still ? ' (the agent closes the connection but does not cancel the running statement; terminated by this benchmark)' : ''}`);
  }
  say(`${elapsed()} cleaning up`);
  await cleanup.run();
  say(`total ${((Date.now() - started) / 1000).toFixed(0)} s`);
  if (unclosed) throw new Error(`${unclosed} session(s) were still open ${CLOSE_TIMEOUT_MS} ms after their grant was revoked`);
}

runBenchmark('bench:revoke', main, cleanup);
