// npm run bench:ssh — the SSH proxy against a direct connection, in one run, interleaved: the real
// OpenSSH client `cat`s large files (direct to sshd, then through the agent with recording and
// masking on), and a pty shell echoes single keystrokes (round trip from the keystroke to its
// echo, measured with the ssh2 client). Prints throughput, latency percentiles and the ratios the
// issue sets targets for. A benchmark, not a test: it prints PASS/MISS and exits 0 unless
// something crashed.
//
// Settings (environment): BENCH_MB (100), BENCH_ROUNDS (3), BENCH_KEYS (300 keystrokes per
// round), BENCH_QUICK=1 (20 MB, 1 round, 100 keystrokes), BENCH_PROFILE=1 (the agent under
// --cpu-prof, run from source under tsx; its hot spots printed at the end).
//
// Processes: a private sshd (Debian's openssh-server, its own config and keys), PostgreSQL and
// Redis (private, free ports), the agent (bundled, its own process), the hub's persister in this
// driver, writing into PostgreSQL: every byte the agent relays is recorded and persisted.
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ssh2, { type ClientChannel } from 'ssh2';
import { ensureSigningKey, TokenSigner } from '../../common/tokens.ts';
import { startSshd } from '../../test/support/sshd.ts';
import { buildBundle } from '../build.ts';
import { BUNDLE_DIR, ROOT, startDataServices, startPersister } from './bench-services.ts';
import { Cleanup, cpuSeconds, machineBusySeconds, startChild, runBenchmark } from './processes.ts';
import { printProfileTop } from './cpu-profile.ts';
import { median, percentile } from './report.ts';

const env = process.env;
const QUICK = env.BENCH_QUICK === '1';
const MB = Number(env.BENCH_MB ?? (QUICK ? 20 : 100));
const ROUNDS = Number(env.BENCH_ROUNDS ?? (QUICK ? 1 : 3));
const KEYS = Number(env.BENCH_KEYS ?? (QUICK ? 100 : 300));
/** agent/direct per kind of output (the issue's targets: log lines as people cat most, base64 as masking's worst case). */
const THROUGHPUT_TARGET: Record<string, number> = { log: 0.7, base64: 0.5 };
const ADDED_P99_TARGET_MS = 5;
const PROFILE = env.BENCH_PROFILE === '1';

const cleanup = new Cleanup();
cleanup.installSignalHandlers();
const say = (line = '') => process.stdout.write(`${line}\n`);

interface Route {
  name: 'direct' | 'agent';
  /** OpenSSH client arguments up to the destination, and its environment. */
  args: string[];
  env: NodeJS.ProcessEnv;
  /** The same login for the ssh2 client. */
  connect: ssh2.ConnectConfig;
}

function runSsh(route: Route, command: string): Promise<{ seconds: number; code: number; stderr: string }> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn('ssh', [...route.args, command], { env: route.env, stdio: ['ignore', fs.openSync('/dev/null', 'w'), 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ seconds: Number(process.hrtime.bigint() - started) / 1e9, code: code ?? -1, stderr }));
  });
}

/** Keystroke round trips in a pty shell: each key typed after the previous echo came back. */
async function keystrokeLatencies(route: Route, count: number): Promise<number[]> {
  const conn = new ssh2.Client();
  await new Promise<void>((resolve, reject) => {
    conn.once('ready', () => resolve()).once('error', reject);
    conn.connect(route.connect);
  });
  try {
    const stream = await new Promise<ClientChannel>((resolve, reject) =>
      conn.shell({ term: 'xterm', cols: 120, rows: 40 }, (err, s) => (err ? reject(err) : resolve(s))));
    let received = '';
    let waiter: (() => void) | null = null;
    stream.on('data', (d: Buffer) => {
      received += d.toString('latin1');
      waiter?.();
    });
    const until = (cond: () => boolean, ms = 10_000) => new Promise<void>((resolve, reject) => {
      if (cond()) return resolve();
      const timer = setTimeout(() => reject(new Error(`no echo after ${ms} ms`)), ms);
      waiter = () => {
        if (!cond()) return;
        clearTimeout(timer);
        waiter = null;
        resolve();
      };
    });
    // A quiet prompt, then a line of keys: each one echoed by the remote pty.
    stream.write("PS1='ready> '; stty -ixon\r");
    await until(() => received.includes('ready> '));
    await new Promise((r) => setTimeout(r, 200));
    const samples: number[] = [];
    for (let i = 0; i < count; i++) {
      const key = String.fromCharCode(97 + (i % 26));
      const before = received.length;
      const t0 = process.hrtime.bigint();
      stream.write(key);
      await until(() => received.length > before && received.slice(before).includes(key));
      samples.push(Number(process.hrtime.bigint() - t0) / 1e6);
      if (i % 60 === 59) {
        stream.write('\u0015'); // Ctrl-U: an empty line again
        await new Promise((r) => setTimeout(r, 20));
      }
      await new Promise((r) => setTimeout(r, 2));
    }
    stream.end('\u0015exit\r');
    return samples;
  } finally {
    conn.end();
  }
}

const pct = (xs: number[], p: number) => percentile([...xs].sort((a, b) => a - b), p);

async function main(): Promise<void> {
  const started = Date.now();
  const elapsed = () => `[${String(Math.round((Date.now() - started) / 1000)).padStart(3)} s]`;
  say(`vigil bench:ssh — cat of a ${MB} MB file and ${KEYS} keystrokes, direct and through the agent, ${ROUNDS} interleaved round(s), ${os.cpus().length} CPUs`);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-ssh-'));
  cleanup.add('temp dir', () => fs.rmSync(tmp, { recursive: true, force: true }));
  await buildBundle({ outdir: BUNDLE_DIR, extra: { 'agent-process': 'scripts/bench/agent-process.ts' } });

  const sshd = await startSshd();
  cleanup.add('sshd', () => sshd.stop());
  const { postgres, redis, urlOf } = await startDataServices(cleanup, ['vigil_store']);
  const { store } = await startPersister(cleanup, redis.url, urlOf('vigil_store'), tmp);

  // Two files of text (terminal output is text): application-log lines, as people cat most, and
  // random bytes as base64 in lines of 76 (`base64` output), the masking detectors' worst case
  // (dense letters and digits set off their prefilters everywhere).
  const files = { log: path.join(sshd.dir, 'app.log'), base64: path.join(sshd.dir, 'random.b64') } as const;
  const fill = (file: string, chunk: () => string) => {
    const fd = fs.openSync(file, 'w');
    for (let written = 0; written < MB * 1024 * 1024;) {
      const text = chunk();
      fs.writeSync(fd, text);
      written += text.length;
    }
    fs.closeSync(fd);
  };
  let line = 0;
  fill(files.log, () => Array.from({ length: 20_000 }, () => {
    line++;
    return `2026-11-25T10:${String(line % 60).padStart(2, '0')}:00.${String(line % 1000).padStart(3, '0')}Z INFO request id=${line} method=GET path=/api/v1/items/${line % 977} status=200 duration_ms=${line % 97} user=u${line % 311}\n`;
  }).join(''));
  fill(files.base64, () => `${crypto.randomBytes(3 * 1024 * 1024).toString('base64').replace(/.{76}/g, '$&\n')}\n`);
  const bytes = fs.statSync(files.log).size;

  const dataDir = path.join(tmp, 'agent');
  const keys = ensureSigningKey(dataDir);
  const agentConfig = path.join(tmp, 'agent.json');
  fs.writeFileSync(agentConfig, JSON.stringify({
    dataDir, log: { level: 'warn' }, redis: { url: redis.url },
    agent: { ssh: { listen: '127.0.0.1:0' } },
    targets: [{ name: 'box', protocol: 'ssh', recording: 'required', upstream: { host: '127.0.0.1', port: sshd.port, user: sshd.user, privateKeyFile: sshd.clientKeyFile, hostKey: sshd.hostKey } }],
  }));
  const profileDir = PROFILE ? fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-ssh-profile-')) : null;
  const agentArgs = profileDir
    ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, '--import', 'tsx', path.join(ROOT, 'scripts/bench/agent-process.ts'), agentConfig]
    : [path.join(BUNDLE_DIR, 'agent-process.mjs'), agentConfig];
  const agent = startChild('agent', process.execPath, agentArgs, { cwd: ROOT, env: { ...env } }, cleanup);
  const agentPort = Number(((await agent.nextMessage((m) => 'listening' in m)).listening as Record<string, number>).box);
  const token = await (await TokenSigner.fromPem(keys.privateKeyPem)).connectionToken('bench', 'box', 6 * 3600_000);
  const askpass = path.join(tmp, 'askpass.sh');
  fs.writeFileSync(askpass, `#!/bin/sh\necho '${token}'\n`, { mode: 0o700 });

  const common = ['-F', '/dev/null', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR'];
  const routes: Route[] = [
    {
      name: 'direct',
      args: [...common, '-i', sshd.clientKeyFile, '-o', 'PasswordAuthentication=no', '-p', String(sshd.port), `${sshd.user}@127.0.0.1`],
      env: { ...env },
      connect: { host: '127.0.0.1', port: sshd.port, username: sshd.user, privateKey: fs.readFileSync(sshd.clientKeyFile) },
    },
    {
      name: 'agent',
      args: [...common, '-o', 'PubkeyAuthentication=no', '-p', String(agentPort), 'box@127.0.0.1'],
      env: { ...env, SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: 'force', DISPLAY: ':0' },
      connect: { host: '127.0.0.1', port: agentPort, username: 'box', password: token },
    },
  ];
  say(`${elapsed()} sshd :${sshd.port}, agent (pid ${agent.pid}) :${agentPort}, files of ${(bytes / 1048576).toFixed(0)} MB; PostgreSQL :${postgres.port}, Redis :${redis.port}`);

  // Warm-up: logins, caches.
  for (const r of routes) await runSsh(r, 'true');

  const rates: Record<string, number[]> = {};
  const keystrokes: Record<string, number[]> = { direct: [], agent: [] };
  const agentCpu: Record<string, number> = { log: 0, base64: 0 };
  /** Busy cores of the whole machine while the agent route ran, per kind (summed over rounds). */
  const busyCores: Record<string, number> = { log: 0, base64: 0 };
  for (let round = 1; round <= ROUNDS; round++) {
    for (const [kind, file] of Object.entries(files)) {
      for (const r of routes) {
        const cpu0 = cpuSeconds(agent.pid);
        const machine0 = machineBusySeconds();
        const run = await runSsh(r, `cat ${file}`);
        if (run.code !== 0) throw new Error(`${r.name}: ssh cat failed (${run.code}): ${run.stderr}`);
        const size = fs.statSync(file).size;
        const rate = size / 1048576 / run.seconds;
        (rates[`${kind} ${r.name}`] ??= []).push(rate);
        if (r.name === 'agent') {
          agentCpu[kind] += (cpuSeconds(agent.pid) - cpu0) / (size / 1048576);
          busyCores[kind] += (machineBusySeconds() - machine0) / run.seconds;
        }
        say(`${elapsed()} round ${round}/${ROUNDS}  cat ${kind.padEnd(6)} ${r.name.padEnd(6)} ${rate.toFixed(1).padStart(7)} MB/s  (${run.seconds.toFixed(2)} s)`);
      }
    }
    for (const r of routes) {
      const samples = await keystrokeLatencies(r, KEYS);
      keystrokes[r.name].push(...samples);
      say(`${elapsed()} round ${round}/${ROUNDS}  keys       ${r.name.padEnd(6)} p50 ${pct(samples, 50).toFixed(2)} ms  p99 ${pct(samples, 99).toFixed(2)} ms`);
    }
  }

  say();
  for (const kind of Object.keys(files)) {
    const direct = median(rates[`${kind} direct`]);
    const proxied = median(rates[`${kind} agent`]);
    const ratio = proxied / direct;
    const target = THROUGHPUT_TARGET[kind];
    say(`cat ${kind} (median MB/s): direct ${direct.toFixed(1)}, agent ${proxied.toFixed(1)}; agent/direct ${ratio.toFixed(2)} (target >= ${target}: ${ratio >= target ? 'PASS' : 'MISS'}); agent CPU ${(1000 * agentCpu[kind] / ROUNDS).toFixed(1)} ms per MB relayed and recorded; machine ${(busyCores[kind] / ROUNDS).toFixed(2)} of ${os.cpus().length} cores busy`);
  }
  const p = (name: string, q: number) => pct(keystrokes[name], q);
  const added = p('agent', 99) - p('direct', 99);
  say(`keystroke round trip (ms): direct p50 ${p('direct', 50).toFixed(2)} p99 ${p('direct', 99).toFixed(2)}; agent p50 ${p('agent', 50).toFixed(2)} p99 ${p('agent', 99).toFixed(2)}`);
  say(`  added by the agent: p50 ${(p('agent', 50) - p('direct', 50)).toFixed(2)} ms, p99 ${added.toFixed(2)} ms (target p99 < ${ADDED_P99_TARGET_MS} ms: ${added < ADDED_P99_TARGET_MS ? 'PASS' : 'MISS'})`);

  // The recording kept up: every event the agent published is in the store.
  agent.send('drain');
  const drained = await agent.nextMessage((m) => 'drained' in m, 300_000);
  const sessions = await store.listSessions({ limit: 500 });
  const complete = sessions.filter((s) => s.persistedSeq === s.lastSeq).length;
  const outputEvents = sessions.reduce((n, s) => n + s.eventCount, 0);
  say(`recording: ${sessions.length} sessions, ${outputEvents} events stored, ${complete} complete; drained ${drained.drained ? `after ${String(drained.ms)} ms` : `NO (${String(drained.error)})`}`);
  say(`${elapsed()} cleaning up`);
  await cleanup.run();
  if (profileDir) {
    const files = fs.readdirSync(profileDir).filter((f) => f.endsWith('.cpuprofile')).map((f) => path.join(profileDir, f));
    const main = files.sort((a, b) => fs.statSync(b).size - fs.statSync(a).size)[0];
    if (main) printProfileTop(main, ROOT, say);
    say(`profile kept in ${profileDir}`);
  }
}

runBenchmark('bench:ssh', main, cleanup);
