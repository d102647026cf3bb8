// npm run bench:pg — pgbench through the agent against the yardsticks, in one run, interleaved:
// the upstream directly, a bare Node TCP relay (the most any Node proxy can reach here), pgbouncer
// in session mode, and the Vigil agent with recording and masking on. Then checks the recording
// kept up and measures the agent's memory with many idle sessions. A benchmark, not a test: it
// prints PASS/MISS against the issue's targets and exits 0 unless something crashed.
//
// Settings (environment): BENCH_SECONDS (8) per run, BENCH_ROUNDS (3), BENCH_CLIENTS (8),
// BENCH_SCALE (10), BENCH_IDLE_SESSIONS (200), BENCH_QUICK=1 (2 s, 1 round),
// BENCH_TARGETS=direct,relay,pgbouncer,agent (a subset), BENCH_PROFILE=1 (agent under --cpu-prof,
// run from source under tsx; the profile is kept and its hot spots printed), BENCH_AGENT_BUS=null (diagnostic: the agent
// records into a bus that keeps nothing, to tell its own cost from Redis's and the hub's),
// BENCH_HUB=deferred (diagnostic: the hub's persister pauses during each agent run and catches up
// before the next, as if the hub and its store ran on other machines; Redis stays here),
// BENCH_ROW_LIMIT_STATEMENTS (2000, quick 400): UPDATEs per target and mode in the maxRows cost
// measurement at the end (row-limit-cost.ts; its pgbench runs take min(BENCH_SECONDS, 3) s, min(BENCH_ROUNDS, 2) rounds).
//
// Processes: PostgreSQL 15 and Redis (private, free ports), the relay, pgbouncer and the agent each
// in their own process. The hub's persister runs in this driver process (idle otherwise: pgbench is
// a child), reading Redis and writing into a separate database of the same PostgreSQL.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureSigningKey, TokenSigner } from '../../common/tokens.ts';
import { freePort } from '../../test/support/free-port.ts';
import { buildBundle } from '../build.ts';
import { BUNDLE_DIR, DB, ROOT, startDataServices, startPersister, STORE_DB, storeBackendsCpu, storeCpuBetween } from './bench-services.ts';
import { printProfileTop } from './cpu-profile.ts';
import { initPgbench, resetTables, runPgbench, WORKLOADS, type Endpoint, type RunResult } from './pgbench.ts';
import { pgbouncerAvailable, PGBOUNCER_BIN, startPgbouncer } from './pgbouncer.ts';
import { holdIdleSessions, printIdleMemory } from './idle-memory.ts';
import { measureGuardrailCost, printGuardrailCost } from './guardrail-cost.ts';
import { measureRowLimitCost, printRowLimitCost, ROW_LIMIT_VARIANTS, rowLimitTargets, type VariantKey } from './row-limit-cost.ts';
import { Cleanup, cpuSeconds, machineBusySeconds, rssMb, startChild, type Child, runBenchmark } from './processes.ts';
import { printRecording, printResults, type Measurement } from './report.ts';

const env = process.env;
const QUICK = env.BENCH_QUICK === '1';
const SECONDS = Number(env.BENCH_SECONDS ?? (QUICK ? 2 : 8));
const ROUNDS = Number(env.BENCH_ROUNDS ?? (QUICK ? 1 : 3));
const CLIENTS = Number(env.BENCH_CLIENTS ?? 8);
const THREADS = Math.min(2, CLIENTS);
const SCALE = Number(env.BENCH_SCALE ?? 10);
const IDLE_SESSIONS = Number(env.BENCH_IDLE_SESSIONS ?? 200);
const ROW_LIMIT_STATEMENTS = Number(env.BENCH_ROW_LIMIT_STATEMENTS ?? (QUICK ? 400 : 2000));
const PROFILE = env.BENCH_PROFILE === '1';
/** Diagnostic: the agent on a bus that records nothing (null-bus.ts), to separate its own cost. */
const NULL_BUS = env.BENCH_AGENT_BUS === 'null';
/** Diagnostic: no persistence during agent runs (the hub elsewhere); the agent's spool holds the run. */
const HUB_DEFERRED = env.BENCH_HUB === 'deferred';
const ONLY = env.BENCH_TARGETS?.split(',').map((s) => s.trim());
const RSS_TARGET_MB = 150;
/** Issue 18: the guardrail check of a statement no rule matches. */
const GUARDRAIL_TARGET_US = 20;

const TOKEN_USER = 'bench';

const cleanup = new Cleanup();
cleanup.installSignalHandlers();
const say = (line = '') => process.stdout.write(`${line}\n`);

/**
 * A script of this folder, from its bundle, in its own process (no TypeScript loader in it). With
 * BENCH_PROFILE the agent runs from source under tsx instead, so that its profile names source files.
 */
function nodeChild(name: string, script: string, args: string[], nodeFlags: string[] = [], fromSource = false, extraEnv: NodeJS.ProcessEnv = {}): Child {
  const entry = fromSource ? ['--import', 'tsx', path.join(ROOT, 'scripts/bench', script)] : [path.join(BUNDLE_DIR, script.replace(/\.ts$/, '.mjs'))];
  return startChild(name, process.execPath, [...nodeFlags, ...entry, ...args], { cwd: ROOT, env: { ...env, ...extraEnv } }, cleanup);
}

interface Target {
  name: string;
  endpoint: Endpoint;
  /** The proxy's process (none for direct). */
  pid?: number;
}

/** Redis's pid, found by its port, so the recording pipeline's CPU can be shown too. */
function findRedisPid(port: number): number | undefined {
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // Redis rewrites its title to "redis-server 127.0.0.1:PORT".
      const cmd = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cmd.startsWith('redis-server') && new RegExp(`[: ]${port}\\b`).test(cmd.replace(/\0/g, ' '))) return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}

let elapsed = () => '';

async function main(): Promise<void> {
  const started = Date.now();
  elapsed = () => `[${String(Math.round((Date.now() - started) / 1000)).padStart(3)} s]`;
  say(`vigil bench:pg — ${CLIENTS} clients, ${THREADS} threads, ${SECONDS} s per run, ${ROUNDS} round(s), scale ${SCALE}, ${os.cpus().length} CPUs`);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-'));
  cleanup.add('temp dir', () => fs.rmSync(tmp, { recursive: true, force: true }));

  // The agent and the relay run as production would: bundled by esbuild, without tsx (whose loader
  // thread alone holds about 35 MB).
  await buildBundle({ outdir: BUNDLE_DIR, extra: { 'agent-process': 'scripts/bench/agent-process.ts', 'bare-relay': 'scripts/bench/bare-relay.ts' } });

  const { postgres, redis, urlOf } = await startDataServices(cleanup, [DB, STORE_DB]);
  const redisPid = findRedisPid(redis.port);
  const direct: Endpoint = { host: '127.0.0.1', port: postgres.port, user: 'postgres', database: DB };
  const t0 = Date.now();
  await initPgbench(direct, SCALE);
  say(`upstream: PostgreSQL on :${postgres.port}, pgbench tables at scale ${SCALE} in ${((Date.now() - t0) / 1000).toFixed(1)} s; Redis on :${redis.port}`);

  // The hub side: persister in this process, store in its own database.
  const { store, persister } = await startPersister(cleanup, redis.url, urlOf(STORE_DB), tmp);

  const targets: Target[] = [{ name: 'direct', endpoint: direct }];
  const want = (name: string) => !ONLY || ONLY.includes(name);

  if (want('relay')) {
    const relay = nodeChild('relay', 'bare-relay.ts', [`127.0.0.1:${postgres.port}`]);
    const msg = await relay.nextMessage((m) => 'listening' in m);
    targets.push({ name: 'relay', endpoint: { ...direct, port: Number(msg.listening) }, pid: relay.pid });
  }

  if (want('pgbouncer')) {
    if (pgbouncerAvailable()) {
      // Its own temp dir, not under `tmp`: pgbouncer runs as postgres and must read its files.
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-pgbouncer-'));
      cleanup.add('pgbouncer dir', () => fs.rmSync(dir, { recursive: true, force: true }));
      const port = await freePort();
      const bouncer = await startPgbouncer({ dir, listenPort: port, upstreamPort: postgres.port, database: DB, user: 'postgres', cleanup });
      targets.push({ name: 'pgbouncer', endpoint: { ...direct, port }, pid: bouncer.pid });
    } else {
      say(`note: ${PGBOUNCER_BIN} is not installed: pgbouncer is skipped (apt-get install pgbouncer)`);
    }
  }

  let agent: Child | undefined;
  let agentRssAtStart = NaN;
  let profileDir: string | undefined;
  let agentEndpoint: Endpoint | undefined;
  let startAgentProcess: ((name: string, flags: string[]) => Promise<{ child: Child; endpoint: Endpoint }>) | undefined;
  let startRowLimitAgent: (() => Promise<{ child: Child; endpoints: Record<VariantKey, Endpoint> }>) | undefined;
  if (want('agent')) {
    const dataDir = path.join(tmp, 'agent');
    const keys = ensureSigningKey(dataDir);
    const config = {
      dataDir,
      log: { level: 'warn' },
      redis: { url: redis.url },
      // A deferred hub confirms nothing during a run: the spool must hold a whole run's events.
      ...(HUB_DEFERRED ? { agent: { spool: { maxEvents: 2_000_000, maxBytes: 2 * 1024 ** 3 } } } : {}),
      // Recording and masking on (all built-in detectors, column rules, default row limit);
      // client-side masking off: the client gets the upstream's bytes as they are.
      targets: [{ name: DB, protocol: 'postgres', listen: '127.0.0.1:0', recording: 'required', upstream: { host: '127.0.0.1', port: postgres.port, database: DB, user: 'postgres' } }],
    };
    const configFile = path.join(tmp, 'agent.json');
    fs.writeFileSync(configFile, JSON.stringify(config));
    const signer = await TokenSigner.fromPem(keys.privateKeyPem);
    // The token is pgbench's password (PGPASSWORD); its user must be pgbench's -U. Valid for the whole run.
    const token = await signer.connectionToken(TOKEN_USER, DB, 6 * 3600_000);
    startAgentProcess = async (name, extraFlags) => {
      // --expose-gc only lets the memory check tell live memory from garbage; the agent never calls gc.
      // Each agent process has an id (and so an outbox) of its own: two on one outbox are refused.
      const child = nodeChild(name, 'agent-process.ts', [configFile], ['--expose-gc', ...extraFlags], PROFILE, { VIGIL__AGENT__ID: name.replace(/\W+/g, '-') });
      const msg = await child.nextMessage((m) => 'listening' in m);
      const port = Number((msg.listening as Record<string, number>)[DB]);
      return { child, endpoint: { host: '127.0.0.1', port, user: TOKEN_USER, database: DB, password: token } };
    };
    const flags: string[] = [];
    if (PROFILE) {
      profileDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-profile-'));
      flags.push('--cpu-prof', `--cpu-prof-dir=${profileDir}`);
    }
    // The maxRows measurement's targets live in an agent process of their own, started after the
    // main runs: the benchmarked agent's config, memory figures and CPU stay as they were.
    startRowLimitAgent = async () => {
      const file = path.join(tmp, 'agent-row-limit.json');
      fs.writeFileSync(file, JSON.stringify({ ...config, targets: rowLimitTargets({ host: '127.0.0.1', port: postgres.port, database: DB, user: 'postgres' }) }));
      const child = nodeChild('row-limit agent', 'agent-process.ts', [file], [], false, { VIGIL__AGENT__ID: 'row-limit-agent' });
      const ports = (await child.nextMessage((m) => 'listening' in m)).listening as Record<string, number>;
      const endpoints = {} as Record<VariantKey, Endpoint>;
      for (const v of ROW_LIMIT_VARIANTS) {
        endpoints[v.key] = { host: '127.0.0.1', port: ports[v.target], user: TOKEN_USER, database: DB, password: await signer.connectionToken(TOKEN_USER, v.target, 3600_000) };
      }
      return { child, endpoints };
    };
    const started = await startAgentProcess('agent', flags);
    agent = started.child;
    agentEndpoint = started.endpoint;
    agentRssAtStart = rssMb(agent.pid);
    targets.push({ name: 'agent', endpoint: agentEndpoint, pid: agent.pid });
  }
  say(`targets: ${targets.map((t) => `${t.name}${t.pid ? ` (pid ${t.pid})` : ''} :${t.endpoint.port}`).join(', ')}`);
  say(NULL_BUS ? 'agent bus: NULL (BENCH_AGENT_BUS=null): nothing is recorded, diagnostic run' : 'hub persister: in the driver process; store: database vigil_store on the same PostgreSQL');
  if (HUB_DEFERRED) say('hub: DEFERRED (BENCH_HUB=deferred): the persister pauses during agent runs and catches up between them, diagnostic run');

  const run = (t: Target, w: (typeof WORKLOADS)[number], seconds: number) =>
    runPgbench(t.endpoint, w, { clients: CLIENTS, threads: THREADS, seconds });

  // Warm-up: connections, JIT and caches, not measured.
  const warm = Math.max(1, Math.min(2, Math.floor(SECONDS / 2)));
  for (const t of targets) for (const w of WORKLOADS) await run(t, w, warm);
  say(`${elapsed()} warm-up done (${warm} s per target and workload)`);

  const agentStats = async () => {
    agent!.send('stats');
    return (await agent!.nextMessage((m) => 'stats' in m)).stats as { queued: number; unconfirmed: number; dropped: number; appended: number };
  };

  const measurements: Measurement[] = [];
  let backlogMax = 0;
  for (let round = 1; round <= ROUNDS; round++) {
    for (const w of WORKLOADS) {
      for (const t of targets) {
        if (w.name === 'TPC-B-like') await resetTables(direct);
        if (HUB_DEFERRED && t.name === 'agent') await persister.stop();
        const storeBefore = await storeBackendsCpu(postgres.url, cpuSeconds);
        const before = { proxy: t.pid ? cpuSeconds(t.pid) : 0, driver: process.cpuUsage(), redis: redisPid ? cpuSeconds(redisPid) : 0, machine: machineBusySeconds(), at: Date.now() };
        const result: RunResult = await run(t, w, SECONDS);
        const storeCpu = storeCpuBetween(storeBefore, await storeBackendsCpu(postgres.url, cpuSeconds));
        const wall = (Date.now() - before.at) / 1000;
        const driverUs = process.cpuUsage(before.driver);
        const m: Measurement = {
          round, workload: w.name, target: t.name, ...result,
          proxyCpu: t.pid ? cpuSeconds(t.pid) - before.proxy : 0,
          hubCpu: (driverUs.user + driverUs.system) / 1e6,
          storeCpu,
          redisCpu: redisPid ? cpuSeconds(redisPid) - before.redis : 0,
          machineCores: (machineBusySeconds() - before.machine) / wall,
          wall,
        };
        let extra = '';
        if (t.name === 'agent') {
          const s = await agentStats();
          const backlog = s.queued + s.unconfirmed;
          backlogMax = Math.max(backlogMax, backlog);
          extra = ` backlog ${backlog} events`;
          if (HUB_DEFERRED) {
            // Catch up before the next run, so that it is not measured against the backlog.
            persister.start();
            agent!.send('drain');
            const caughtUp = await agent!.nextMessage((msg) => 'drained' in msg, 300_000);
            extra += `, persisted after the run in ${caughtUp.ms ?? '?'} ms`;
          }
        }
        measurements.push(m);
        say(`${elapsed()} round ${round}/${ROUNDS}  ${w.name.padEnd(15)} ${t.name.padEnd(9)} tps ${m.tps.toFixed(0).padStart(6)}  lat ${m.latencyMs.toFixed(3)} ms` +
          `${t.pid ? `  proxy ${(m.proxyCpu / SECONDS).toFixed(2)} cores` : ''}  machine ${m.machineCores.toFixed(2)} cores${m.failed ? `  FAILED ${m.failed}` : ''}${extra}`);
      }
    }
  }

  say();
  printResults(measurements, targets.map((t) => t.name), SECONDS, say);

  if (agent) {
    if (NULL_BUS) say('\nrecording: BENCH_AGENT_BUS=null — the agent recorded into a bus that keeps nothing (diagnostic run; no persistence check)');
  }
  if (agent && !NULL_BUS) {
    // Recording: every event the agent published must reach the store.
    await new Promise((r) => setTimeout(r, 300)); // let the last session.end events be published
    agent.send('drain');
    const drained = await agent.nextMessage((m) => 'drained' in m, 130_000);
    const stats = await agentStats();
    const sessions = await store.listSessions({ limit: 500 });
    const storedEvents = sessions.reduce((n, s) => n + s.eventCount, 0);
    printRecording({
      drained: drained.drained === true, drainMs: Number(drained.ms ?? NaN), drainError: drained.error as string | undefined,
      published: stats.appended, dropped: stats.dropped, backlogMax,
      persister: persister.metrics(),
      sessions: sessions.length,
      ended: sessions.filter((s) => s.endedAt).length,
      complete: sessions.filter((s) => s.persistedSeq === s.lastSeq).length,
      storedEvents,
    }, say);

    say(`${elapsed()} recording checked`);
  }
  if (agent) {
    // Memory: many real, authenticated, idle sessions; through the benchmarked agent (after the
    // load, as a long-running agent is) and through a fresh one (the sessions' own footprint).
    say();
    say(`memory: agent RSS at start ${agentRssAtStart.toFixed(1)} MB`);
    printIdleMemory('the benchmarked agent', await holdIdleSessions(agentEndpoint!, agent, IDLE_SESSIONS), RSS_TARGET_MB, say);
    const fresh = await startAgentProcess!('fresh agent', []);
    await new Promise((r) => setTimeout(r, 500));
    printIdleMemory('a fresh agent', await holdIdleSessions(fresh.endpoint, fresh.child, IDLE_SESSIONS), RSS_TARGET_MB, say);
    await fresh.child.stop();
  }

  say();
  printGuardrailCost(await measureGuardrailCost(), GUARDRAIL_TARGET_US, say);
  if (startRowLimitAgent) {
    say();
    const rowLimitAgent = await startRowLimitAgent();
    say(`${elapsed()} row limit: agent with targets ${ROW_LIMIT_VARIANTS.map((v) => v.target).join(', ')} started (pid ${rowLimitAgent.child.pid})`);
    const cost = await measureRowLimitCost({
      direct,
      targets: rowLimitAgent.endpoints,
      statements: ROW_LIMIT_STATEMENTS,
      pgbench: { clients: CLIENTS, threads: THREADS, seconds: Math.min(SECONDS, 3), rounds: Math.min(ROUNDS, 2) },
      progress: (line) => say(`${elapsed()} ${line}`),
    });
    await rowLimitAgent.child.stop();
    printRowLimitCost(cost, say);
  }

  const agentCpu = agent ? cpuSeconds(agent.pid) : 0;
  say(`${elapsed()} cleaning up`);
  await cleanup.run();
  if (profileDir) {
    say();
    const files = fs.readdirSync(profileDir).filter((f) => f.endsWith('.cpuprofile'));
    // tsx's loader thread writes a profile too; the main thread's is the largest.
    const main = files.map((f) => path.join(profileDir!, f)).sort((a, b) => fs.statSync(b).size - fs.statSync(a).size)[0];
    if (main) printProfileTop(main, ROOT, say);
    // V8 samples by wall clock: time the process sat preempted inside a syscall (a socket write
    // that woke pgbench or PostgreSQL) is charged to that syscall, so native writes look larger.
    say(`agent process CPU (all threads, from /proc) ${agentCpu.toFixed(1)} s; profile "busy" above counts main-thread wall time, preemption included`);
    say(`profile kept in ${profileDir}`);
  }
  say(`\ntotal ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

runBenchmark('bench:pg', main, cleanup);
