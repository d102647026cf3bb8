// npm run bench:ssh — the SSH proxy against a direct connection, in one run, interleaved: the real
// OpenSSH client `cat`s a large file (direct to sshd, then through the agent with recording and
// masking on), and a pty shell echoes single keystrokes (round trip from the keystroke to its
// echo, measured with the ssh2 client). Prints throughput, latency percentiles and the ratios the
// issue sets targets for. A benchmark, not a test: it prints PASS/MISS and exits 0 unless
// something crashed.
//
// Settings (environment): BENCH_MB (100), BENCH_ROUNDS (3), BENCH_KEYS (300 keystrokes per
// round), BENCH_QUICK=1 (20 MB, 1 round, 100 keystrokes).
//
// Processes: a private sshd (Debian's openssh-server, its own config and keys), PostgreSQL and
// Redis (private, free ports), the agent (bundled, its own process), the hub's persister in this
// driver, writing into PostgreSQL: every byte the agent relays is recorded and persisted.
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import ssh2, { type ClientChannel } from 'ssh2';
import { createBus } from '../../common/bus/create-bus.ts';
import { silentLogger } from '../../common/log.ts';
import { ensureSigningKey, TokenSigner } from '../../common/tokens.ts';
import { Persister } from '../../server/persist/persister.ts';
import { createStore } from '../../server/store/create-store.ts';
import { startPostgres, startRedis } from '../../test/support/services.ts';
import { startSshd } from '../../test/support/sshd.ts';
import { buildBundle } from '../build.ts';
import { Cleanup, cpuSeconds, startChild } from './processes.ts';
import { median } from './report.ts';

const env = process.env;
const QUICK = env.BENCH_QUICK === '1';
const MB = Number(env.BENCH_MB ?? (QUICK ? 20 : 100));
const ROUNDS = Number(env.BENCH_ROUNDS ?? (QUICK ? 1 : 3));
const KEYS = Number(env.BENCH_KEYS ?? (QUICK ? 100 : 300));
const THROUGHPUT_TARGET = 0.7;
const ADDED_P99_TARGET_MS = 5;

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BUNDLE_DIR = path.join(ROOT, 'dist', 'bench');
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

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

async function main(): Promise<void> {
  const started = Date.now();
  const elapsed = () => `[${String(Math.round((Date.now() - started) / 1000)).padStart(3)} s]`;
  say(`vigil bench:ssh — cat of a ${MB} MB file and ${KEYS} keystrokes, direct and through the agent, ${ROUNDS} interleaved round(s), ${os.cpus().length} CPUs`);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-ssh-'));
  cleanup.add('temp dir', () => fs.rmSync(tmp, { recursive: true, force: true }));
  await buildBundle({ outdir: BUNDLE_DIR, extra: { 'agent-process': 'scripts/bench/agent-process.ts' } });

  const sshd = await startSshd();
  cleanup.add('sshd', () => sshd.stop());
  const postgres = await startPostgres();
  cleanup.add('postgres', () => postgres.stop());
  const redis = await startRedis();
  cleanup.add('redis', () => redis.stop());
  const admin = new pg.Client({ connectionString: postgres.url });
  await admin.connect();
  await admin.query('CREATE DATABASE vigil_store');
  await admin.end();
  const store = await createStore({ databaseUrl: postgres.url.replace(/\/[^/]*$/, '/vigil_store'), dataDir: tmp });
  cleanup.add('store', () => store.close());
  const hubBus = await createBus(redis.url, silentLogger);
  cleanup.add('hub bus', () => hubBus.close());
  const persister = new Persister({ bus: hubBus, store, logger: silentLogger, blockMs: 200 });
  persister.start();
  cleanup.add('persister', () => persister.stop());

  // The file: random bytes as base64 text, as logs and dumps are (terminal output is text).
  const file = path.join(sshd.dir, 'big.txt');
  const out = fs.openSync(file, 'w');
  for (let written = 0; written < MB * 1024 * 1024; written += 4 * 1024 * 1024) fs.writeSync(out, crypto.randomBytes(3 * 1024 * 1024).toString('base64'));
  fs.closeSync(out);
  const bytes = fs.statSync(file).size;

  const dataDir = path.join(tmp, 'agent');
  const keys = ensureSigningKey(dataDir);
  const agentConfig = path.join(tmp, 'agent.json');
  fs.writeFileSync(agentConfig, JSON.stringify({
    dataDir, log: { level: 'warn' }, redis: { url: redis.url },
    agent: { ssh: { listen: '127.0.0.1:0' } },
    targets: [{ name: 'box', protocol: 'ssh', recording: 'required', upstream: { host: '127.0.0.1', port: sshd.port, user: sshd.user, privateKeyFile: sshd.clientKeyFile, hostKey: sshd.hostKey } }],
  }));
  const agent = startChild('agent', process.execPath, [path.join(BUNDLE_DIR, 'agent-process.mjs'), agentConfig], { cwd: ROOT, env: { ...env } }, cleanup);
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
  say(`${elapsed()} sshd :${sshd.port}, agent (pid ${agent.pid}) :${agentPort}, file ${(bytes / 1048576).toFixed(0)} MB; PostgreSQL :${postgres.port}, Redis :${redis.port}`);

  // Warm-up: logins, caches.
  for (const r of routes) await runSsh(r, 'true');

  const rates: Record<string, number[]> = { direct: [], agent: [] };
  const keystrokes: Record<string, number[]> = { direct: [], agent: [] };
  let agentCpu = 0;
  for (let round = 1; round <= ROUNDS; round++) {
    for (const r of routes) {
      const cpu0 = cpuSeconds(agent.pid);
      const run = await runSsh(r, `cat ${file}`);
      if (run.code !== 0) throw new Error(`${r.name}: ssh cat failed (${run.code}): ${run.stderr}`);
      const rate = bytes / 1048576 / run.seconds;
      rates[r.name].push(rate);
      if (r.name === 'agent') agentCpu += cpuSeconds(agent.pid) - cpu0;
      say(`${elapsed()} round ${round}/${ROUNDS}  cat      ${r.name.padEnd(6)} ${rate.toFixed(1).padStart(7)} MB/s  (${run.seconds.toFixed(2)} s)`);
    }
    for (const r of routes) {
      const samples = await keystrokeLatencies(r, KEYS);
      keystrokes[r.name].push(...samples);
      say(`${elapsed()} round ${round}/${ROUNDS}  keys     ${r.name.padEnd(6)} p50 ${pct(samples, 50).toFixed(2)} ms  p99 ${pct(samples, 99).toFixed(2)} ms`);
    }
  }

  const direct = median(rates.direct);
  const proxied = median(rates.agent);
  const ratio = proxied / direct;
  say();
  say(`throughput (median MB/s): direct ${direct.toFixed(1)}, agent ${proxied.toFixed(1)}; agent/direct ${ratio.toFixed(2)} (target >= ${THROUGHPUT_TARGET}: ${ratio >= THROUGHPUT_TARGET ? 'PASS' : 'MISS'})`);
  say(`  agent CPU: ${(agentCpu / (ROUNDS * MB)).toFixed(3)} s per MB relayed and recorded`);
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
}

main().then(
  () => process.exit(0),
  async (err) => {
    if (cleanup.interrupted) {
      await cleanup.run();
      process.exit(130);
    }
    process.stderr.write(`bench:ssh failed: ${(err as Error)?.stack ?? err}\n`);
    await cleanup.run();
    process.exit(1);
  },
);
