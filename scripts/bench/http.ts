// npm run bench:http — the HTTP proxy against a direct connection, in one run, interleaved:
// autocannon over keep-alive connections GETs small JSON answers (about 300 bytes) and 1 MiB JSON
// bodies from a node:http upstream, directly (client -> upstream) and through the agent (client ->
// agent -> upstream, recording and masking on, persisted to PostgreSQL through Redis). Prints
// requests/s, latency p50/p99, the agent/direct ratio and the latency the agent adds, twice: under
// load (BENCH_CONNECTIONS connections, each sending its next request as soon as it has the
// answer: the most each route serves, and its latency then, queueing included), and one request
// at a time (a single connection: the latency of a request on its own, which is what the agent
// adds to a user's call). A benchmark, not a test: it prints PASS/MISS and exits 0 unless
// something crashed.
//
// Settings (environment): BENCH_SECONDS (10) per run, BENCH_CONNECTIONS (10), BENCH_PIPELINING
// (1), BENCH_ROUNDS (3), BENCH_WARMUP (2 s per workload and route), BENCH_WORKLOADS=small,big (a
// subset), BENCH_SERIAL=0 (no one-at-a-time runs), BENCH_QUICK=1 (2 s runs, 1 round, 1 s
// warm-up), BENCH_PROFILE=1 (the agent under --cpu-prof, run from source under tsx; its hot spots
// printed at the end), BENCH_AGENT_BUS=null (diagnostic: the agent records into a bus that keeps
// nothing).
//
// Processes: PostgreSQL and Redis (private, free ports), the upstream, the agent (bundled, as
// `npm run build` ships it) and the load generator each in their own process; the hub's persister
// in this driver (idle otherwise), writing into PostgreSQL: every exchange through the agent is
// recorded and persisted. After each agent run the driver waits until the recording is persisted,
// so the next run does not pay for the previous one's catch-up. Each run says how busy the host
// was outside this benchmark ("others"): on a shared machine, figures taken beside other work are
// not comparable.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureSigningKey, TokenSigner } from '../../common/tokens.ts';
import { buildBundle } from '../build.ts';
import { BUNDLE_DIR, ROOT, startDataServices, startPersister, STORE_DB } from './bench-services.ts';
import { printProfileTop } from './cpu-profile.ts';
import type { LoadResult, LoadRun } from './http-load.ts';
import { Cleanup, cpuSeconds, machineBusySeconds, startChild, type Child, runBenchmark } from './processes.ts';
import { median } from './report.ts';

const env = process.env;
const QUICK = env.BENCH_QUICK === '1';
const SECONDS = Number(env.BENCH_SECONDS ?? (QUICK ? 2 : 10));
const CONNECTIONS = Number(env.BENCH_CONNECTIONS ?? 10);
const PIPELINING = Number(env.BENCH_PIPELINING ?? 1);
const ROUNDS = Number(env.BENCH_ROUNDS ?? (QUICK ? 1 : 3));
const WARMUP = Number(env.BENCH_WARMUP ?? (QUICK ? 1 : 2));
const SERIAL = env.BENCH_SERIAL !== '0';
const PROFILE = env.BENCH_PROFILE === '1';
const NULL_BUS = env.BENCH_AGENT_BUS === 'null';
const ONLY = env.BENCH_WORKLOADS?.split(',').map((s) => s.trim());
const RATIO_TARGET = 0.7;
const ADDED_P99_TARGET_MS = 5;

const TARGET = 'api';
const WORKLOADS = [
  { name: 'small', label: 'small JSON', path: '/small' },
  { name: 'big', label: '1 MiB JSON', path: '/big' },
].filter((w) => !ONLY || ONLY.includes(w.name));
type Workload = (typeof WORKLOADS)[number];
type RouteName = 'direct' | 'agent';
/** Under load (CONNECTIONS at once), or one request at a time. */
const MODES = [
  { name: 'load', connections: CONNECTIONS, label: `${CONNECTIONS} conns` },
  ...(SERIAL ? [{ name: 'serial', connections: 1, label: '1 conn' }] : []),
] as const;
type Mode = (typeof MODES)[number];

const cleanup = new Cleanup();
cleanup.installSignalHandlers();
const say = (line = '') => process.stdout.write(`${line}\n`);

/** A script of this folder in its own process: bundled, or from source under tsx (for a profile naming source files). */
function nodeChild(name: string, script: string, args: string[], opts: { flags?: string[]; fromSource?: boolean; env?: NodeJS.ProcessEnv } = {}): Child {
  const entry = opts.fromSource ? ['--import', 'tsx', path.join(ROOT, 'scripts/bench', script)] : [path.join(BUNDLE_DIR, script.replace(/\.ts$/, '.mjs'))];
  return startChild(name, process.execPath, [...(opts.flags ?? []), ...entry, ...args], { cwd: ROOT, env: { ...env, ...opts.env } }, cleanup);
}

interface Measurement {
  round: number;
  workload: string;
  mode: Mode['name'];
  route: RouteName;
  load: LoadResult;
  /** CPU seconds during the run. */
  agentCpu: number;
  upstreamCpu: number;
  loadCpu: number;
  /** The driver: the hub's persister. */
  hubCpu: number;
  /** Busy cores of the whole machine. */
  machineCores: number;
  /** Busy cores outside this benchmark's processes (other work on the host). */
  otherCores: number;
  wall: number;
}

/** CPU seconds so far of a process and each of its descendants alive now (this benchmark's tree: Redis, PostgreSQL's backends...). */
function treeCpu(root: number): Map<number, number> {
  const parentOf = new Map<number, number>();
  const cpuOf = new Map<number, number>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parentOf.set(Number(entry), Number(fields[1]));
      cpuOf.set(Number(entry), (Number(fields[11]) + Number(fields[12])) / 100);
    } catch {
      // gone meanwhile
    }
  }
  const tree = new Map<number, number>();
  for (const [pid, cpu] of cpuOf) {
    for (let p: number | undefined = pid; p !== undefined && p > 1; p = parentOf.get(p)) {
      if (p === root) {
        tree.set(pid, cpu);
        break;
      }
    }
  }
  return tree;
}

/** CPU seconds the tree used between two samples (a process new since `before` counts whole; one that ended between them is not counted). */
function treeCpuBetween(before: Map<number, number>, after: Map<number, number>): number {
  let sum = 0;
  for (const [pid, cpu] of after) sum += cpu - (before.get(pid) ?? 0);
  return sum;
}

const ms = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : '-');
const int = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '-');

async function main(): Promise<void> {
  const started = Date.now();
  const elapsed = () => `[${String(Math.round((Date.now() - started) / 1000)).padStart(3)} s]`;
  say(`vigil bench:http — ${WORKLOADS.map((w) => w.label).join(' and ')}, ${CONNECTIONS} keep-alive connections${PIPELINING > 1 ? ` x ${PIPELINING} pipelined` : ''}, ${SECONDS} s per run, ${ROUNDS} interleaved round(s), ${os.cpus().length} CPUs`);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-http-'));
  cleanup.add('temp dir', () => fs.rmSync(tmp, { recursive: true, force: true }));
  await buildBundle({ outdir: BUNDLE_DIR, extra: { 'agent-process': 'scripts/bench/agent-process.ts', 'http-upstream': 'scripts/bench/http-upstream.ts', 'http-load': 'scripts/bench/http-load.ts' } });

  const { postgres, redis, urlOf } = await startDataServices(cleanup, [STORE_DB]);
  const { store, persister } = await startPersister(cleanup, redis.url, urlOf(STORE_DB), tmp);

  // The upstream's own credential: the direct client sends it, the agent injects it.
  const upstreamKey = crypto.randomBytes(24).toString('base64url');
  const upstream = nodeChild('upstream', 'http-upstream.ts', [], { env: { BENCH_UPSTREAM_KEY: upstreamKey } });
  const up = await upstream.nextMessage((m) => 'listening' in m);
  const upstreamUrl = `http://127.0.0.1:${String(up.listening)}`;

  const dataDir = path.join(tmp, 'agent');
  const keys = ensureSigningKey(dataDir);
  const agentConfig = path.join(tmp, 'agent.json');
  // Recording (required) and masking on with the defaults: the first 64 KiB of each body kept, masked.
  fs.writeFileSync(agentConfig, JSON.stringify({
    dataDir, log: { level: 'warn' }, redis: { url: redis.url },
    targets: [{ name: TARGET, protocol: 'http', listen: '127.0.0.1:0', recording: 'required', upstream: { url: upstreamUrl, credential: { type: 'bearer', tokenEnv: 'BENCH_UPSTREAM_KEY' } } }],
  }));
  const profileDir = PROFILE ? fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-http-profile-')) : null;
  const agent = nodeChild('agent', 'agent-process.ts', [agentConfig], {
    flags: profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [],
    fromSource: PROFILE,
    env: { BENCH_UPSTREAM_KEY: upstreamKey },
  });
  const agentPort = Number(((await agent.nextMessage((m) => 'listening' in m)).listening as Record<string, number>)[TARGET]);
  const agentUrl = `http://127.0.0.1:${agentPort}`;
  const signer = await TokenSigner.fromPem(keys.privateKeyPem);
  /** A fresh login for each run through the agent: each run is one session (one client's token). */
  const agentToken = () => signer.connectionToken('bench', TARGET, 6 * 3600_000);

  const load = nodeChild('load', 'http-load.ts', []);
  await load.nextMessage((m) => 'ready' in m);
  say(`${elapsed()} upstream (pid ${upstream.pid}) :${String(up.listening)}, agent (pid ${agent.pid}${PROFILE ? ', from source, profiled' : ''}) :${agentPort}, load generator (pid ${load.pid}); PostgreSQL :${postgres.port}, Redis :${redis.port}`);
  say(`bodies: small ${String(up.smallBytes)} bytes, big ${String(up.bigBytes)} bytes, both application/json; ${NULL_BUS ? 'agent bus: NULL (BENCH_AGENT_BUS=null): nothing is recorded, diagnostic run' : 'recording: required, persisted by the hub\'s persister in this driver into PostgreSQL'}`);

  // Both routes answer the same bytes (the agent relays the upstream's body unchanged).
  for (const w of WORKLOADS) {
    const direct = Buffer.from(await (await fetch(`${upstreamUrl}${w.path}`, { headers: { authorization: `Bearer ${upstreamKey}` } })).arrayBuffer());
    const viaAgent = await fetch(`${agentUrl}${w.path}`, { headers: { authorization: `Bearer ${await agentToken()}` } });
    const body = Buffer.from(await viaAgent.arrayBuffer());
    if (viaAgent.status !== 200 || !body.equals(direct)) throw new Error(`${w.path} through the agent: status ${viaAgent.status}, ${body.length} bytes, ${body.equals(direct) ? 'same' : 'not the same'} body as direct: ${body.subarray(0, 200).toString()}`);
  }

  const loadRun = async (run: LoadRun): Promise<LoadResult> => {
    load.send(JSON.stringify({ run }));
    const msg = await load.nextMessage((m) => 'result' in m || 'failed' in m, (run.seconds + 60) * 1000);
    if ('failed' in msg) throw new Error(`load generator: ${String(msg.failed)}`);
    return msg.result as LoadResult;
  };
  const headersFor = async (route: RouteName) => ({ authorization: `Bearer ${route === 'direct' ? upstreamKey : await agentToken()}` });
  const urlFor = (route: RouteName, w: Workload) => `${route === 'direct' ? upstreamUrl : agentUrl}${w.path}`;
  const agentStats = async () => {
    agent.send('stats');
    return (await agent.nextMessage((m) => 'stats' in m)).stats as { queued: number; unconfirmed: number; dropped: number; appended: number };
  };
  const drain = async () => {
    agent.send('drain');
    return agent.nextMessage((m) => 'drained' in m, 300_000);
  };

  /** One run, with the CPU of each process and of the machine around it. */
  const measure = async (round: number, w: Workload, mode: Mode, route: RouteName): Promise<Measurement> => {
    const run: LoadRun = { url: urlFor(route, w), headers: await headersFor(route), connections: mode.connections, seconds: SECONDS, pipelining: PIPELINING };
    const before = { agent: cpuSeconds(agent.pid), upstream: cpuSeconds(upstream.pid), load: cpuSeconds(load.pid), driver: process.cpuUsage(), tree: treeCpu(process.pid), machine: machineBusySeconds(), at: Date.now() };
    const result = await loadRun(run);
    const wall = (Date.now() - before.at) / 1000;
    const driver = process.cpuUsage(before.driver);
    const machine = machineBusySeconds() - before.machine;
    const tree = treeCpuBetween(before.tree, treeCpu(process.pid));
    return {
      round, workload: w.name, mode: mode.name, route, load: result,
      agentCpu: cpuSeconds(agent.pid) - before.agent,
      upstreamCpu: cpuSeconds(upstream.pid) - before.upstream,
      loadCpu: cpuSeconds(load.pid) - before.load,
      hubCpu: (driver.user + driver.system) / 1e6,
      machineCores: machine / wall,
      otherCores: Math.max(0, machine - tree) / wall,
      wall,
    };
  };
  const describe = (m: Measurement) => {
    const r = m.load;
    const bad = r.non2xx + r.errors + r.timeouts;
    return `${int(r.rps).padStart(7)} req/s  p50 ${ms(r.p50).padStart(6)} ms  p99 ${ms(r.p99).padStart(6)} ms  ` +
      `agent ${(m.agentCpu / m.wall).toFixed(2)} cores${m.route === 'agent' && r.ok ? ` (${int((1e6 * m.agentCpu) / r.ok)} us/req)` : ''}, upstream ${(m.upstreamCpu / m.wall).toFixed(2)}, load ${(m.loadCpu / m.wall).toFixed(2)}, hub ${(m.hubCpu / m.wall).toFixed(2)}, machine ${m.machineCores.toFixed(2)} (others ${m.otherCores.toFixed(2)})` +
      `${bad ? `  FAILED: ${r.non2xx} non-2xx, ${r.errors} errors, ${r.timeouts} timeouts` : ''}`;
  };
  /** After a run through the agent: its backlog, then wait until it is persisted. */
  const settle = async () => {
    const s = await agentStats();
    const backlog = s.queued + s.unconfirmed;
    const drained = await drain();
    return `backlog ${backlog} events, persisted ${drained.drained ? `${String(drained.ms)} ms after the run` : `NOT (${String(drained.error)})`}`;
  };

  // Whatever else the host runs competes for the same cores: said before the figures.
  const idle0 = machineBusySeconds();
  await new Promise((r) => setTimeout(r, 1000));
  const otherCores = machineBusySeconds() - idle0;
  say(`host busy before the runs: ${otherCores.toFixed(2)} of ${os.cpus().length} cores${otherCores > 0.2 ? ' — other work is running on this machine: the figures are unreliable' : ''}`);

  // Warm-up: connections, JIT, caches; not measured.
  for (const w of WORKLOADS) {
    for (const route of ['direct', 'agent'] as const) {
      await loadRun({ url: urlFor(route, w), headers: await headersFor(route), connections: CONNECTIONS, seconds: WARMUP, pipelining: PIPELINING });
      if (route === 'agent') await drain();
    }
  }
  say(`${elapsed()} warm-up done (${WARMUP} s per workload and route)`);

  const measurements: Measurement[] = [];
  let backlogMax = 0;
  for (let round = 1; round <= ROUNDS; round++) {
    for (const w of WORKLOADS) {
      for (const mode of MODES) {
        // Alternate which route goes first, so that a drift of the host's speed favours neither.
        const order: RouteName[] = round % 2 ? ['direct', 'agent'] : ['agent', 'direct'];
        for (const route of order) {
          const m = await measure(round, w, mode, route);
          measurements.push(m);
          let after = '';
          if (route === 'agent') {
            const s = await agentStats();
            backlogMax = Math.max(backlogMax, s.queued + s.unconfirmed);
            after = `  ${await settle()}`;
          }
          say(`${elapsed()} round ${round}/${ROUNDS}  ${w.label.padEnd(10)} ${mode.label.padEnd(8)} ${route.padEnd(6)} ${describe(m)}${after}`);
        }
      }
    }
  }

  const of = (w: string, mode: Mode['name'], route: RouteName) => measurements.filter((m) => m.workload === w && m.mode === mode && m.route === route);
  const med = (w: string, mode: Mode['name'], route: RouteName, pick: (m: Measurement) => number) => {
    const xs = of(w, mode, route);
    return xs.length ? median(xs.map(pick)) : NaN;
  };

  say();
  say(`medians over ${ROUNDS} round(s) of ${SECONDS} s; latency from autocannon's send to the whole response (every 2xx response); CPU in cores busy`);
  say('(agent, upstream: their processes; hub: the persister in the driver; others: the host\'s work outside this benchmark)');
  say(`${'workload'.padEnd(12)}${'clients'.padEnd(10)}${'route'.padEnd(8)}${'req/s'.padStart(9)}${'MB/s'.padStart(8)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'agent'.padStart(7)}${'us/req'.padStart(8)}${'upstream'.padStart(10)}${'hub'.padStart(6)}${'machine'.padStart(9)}${'others'.padStart(8)}`);
  for (const w of WORKLOADS) {
    for (const mode of MODES) {
      for (const route of ['direct', 'agent'] as const) {
        const xs = of(w.name, mode.name, route);
        if (!xs.length) continue;
        const cores = (pick: (m: Measurement) => number) => median(xs.map((m) => pick(m) / m.wall));
        const perReq = route === 'agent' ? (1e6 * xs.reduce((n, m) => n + m.agentCpu, 0)) / xs.reduce((n, m) => n + m.load.ok, 0) : NaN;
        const first = mode === MODES[0] && route === 'direct';
        say(`${(first ? w.label : '').padEnd(12)}${(route === 'direct' ? mode.label : '').padEnd(10)}${route.padEnd(8)}` +
          `${int(med(w.name, mode.name, route, (m) => m.load.rps)).padStart(9)}${med(w.name, mode.name, route, (m) => m.load.mbps).toFixed(1).padStart(8)}` +
          `${ms(med(w.name, mode.name, route, (m) => m.load.p50)).padStart(9)}${ms(med(w.name, mode.name, route, (m) => m.load.p99)).padStart(9)}` +
          `${(route === 'agent' ? cores((m) => m.agentCpu).toFixed(2) : '-').padStart(7)}${(route === 'agent' ? int(perReq) : '-').padStart(8)}` +
          `${cores((m) => m.upstreamCpu).toFixed(2).padStart(10)}${cores((m) => m.hubCpu).toFixed(2).padStart(6)}` +
          `${cores((m) => m.machineCores * m.wall).toFixed(2).padStart(9)}${cores((m) => m.otherCores * m.wall).toFixed(2).padStart(8)}`);
      }
    }
  }

  say();
  const verdicts: string[] = [];
  const pass = (ok: boolean) => (ok ? 'PASS' : 'MISS');
  for (const w of WORKLOADS) {
    const added = (mode: Mode['name'], p: 'p50' | 'p99') => med(w.name, mode, 'agent', (m) => m.load[p]) - med(w.name, mode, 'direct', (m) => m.load[p]);
    const ratio = med(w.name, 'load', 'agent', (m) => m.load.rps) / med(w.name, 'load', 'direct', (m) => m.load.rps);
    verdicts.push(`bench:http ${w.label}: agent/direct ${ratio.toFixed(2)} req/s, added p50 ${added('load', 'p50').toFixed(2)} ms, p99 ${added('load', 'p99').toFixed(2)} ms ` +
      `(target >= ${RATIO_TARGET}, < ${ADDED_P99_TARGET_MS} ms: ${pass(ratio >= RATIO_TARGET)}, ${pass(added('load', 'p99') < ADDED_P99_TARGET_MS)}; ${CONNECTIONS} connections)`);
    if (SERIAL) {
      verdicts.push(`bench:http ${w.label}, one request at a time: added p50 ${added('serial', 'p50').toFixed(2)} ms, p99 ${added('serial', 'p99').toFixed(2)} ms ` +
        `(target < ${ADDED_P99_TARGET_MS} ms: ${pass(added('serial', 'p99') < ADDED_P99_TARGET_MS)})`);
    }
  }
  const others = median(measurements.map((m) => m.otherCores));
  if (others > 0.2) verdicts.push(`note: other work on the host took ${others.toFixed(2)} cores (median over the runs): these figures are not comparable with a quiet machine's`);

  // The recording kept up: every event the agent published is in the store.
  if (!NULL_BUS) {
    const drained = await drain();
    const stats = await agentStats();
    const sessions = await store.listSessions({ limit: 500 });
    const complete = sessions.filter((s) => s.persistedSeq === s.lastSeq).length;
    const events = sessions.reduce((n, s) => n + s.eventCount, 0);
    const p = persister.metrics();
    say(`recording: agent appended ${stats.appended} events to Redis (dropped ${stats.dropped}), persister wrote ${p.persisted} (errors ${p.errors}); store holds ${sessions.length} sessions, ${events} events, ${complete} with no gap; ` +
      `largest backlog after a run ${backlogMax} events; drained ${drained.drained ? `after ${String(drained.ms)} ms` : `NO (${String(drained.error)})`}`);
  }
  say();
  for (const line of verdicts) say(line);

  const agentCpuTotal = cpuSeconds(agent.pid);
  say(`${elapsed()} cleaning up`);
  await cleanup.run();
  if (profileDir) {
    say();
    // tsx's loader thread writes a profile too; the main thread's is the largest.
    const files = fs.readdirSync(profileDir).filter((f) => f.endsWith('.cpuprofile')).map((f) => path.join(profileDir, f));
    const main = files.sort((a, b) => fs.statSync(b).size - fs.statSync(a).size)[0];
    if (main) printProfileTop(main, ROOT, say);
    say(`agent process CPU (all threads, from /proc) ${agentCpuTotal.toFixed(1)} s`);
    say(`profile kept in ${profileDir}`);
  }
  say(`\ntotal ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

runBenchmark('bench:http', main, cleanup);
