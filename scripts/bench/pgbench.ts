// pgbench as the benchmark drives it: one run against one endpoint, its figures parsed from the
// summary pgbench prints (PostgreSQL 15's format).
import { spawn } from 'node:child_process';

export interface Endpoint {
  host: string;
  port: number;
  user: string;
  database: string;
  password?: string;
}

export interface Workload {
  name: string;
  /** pgbench arguments that pick the script and protocol. */
  args: string[];
}

export const WORKLOADS: Workload[] = [
  { name: 'select simple', args: ['-S', '-M', 'simple'] },
  { name: 'select extended', args: ['-S', '-M', 'extended'] },
  { name: 'TPC-B-like', args: ['-M', 'simple'] },
];

export interface RunResult {
  tps: number;
  latencyMs: number;
  transactions: number;
  failed: number;
}

export function parsePgbench(out: string): RunResult | null {
  const tps = /tps = ([\d.]+) \(without initial connection time\)/.exec(out);
  const lat = /latency average = ([\d.]+) ms/.exec(out);
  if (!tps || !lat) return null;
  const tx = /number of transactions actually processed: (\d+)/.exec(out);
  const failed = /number of failed transactions: (\d+)/.exec(out);
  return { tps: Number(tps[1]), latencyMs: Number(lat[1]), transactions: Number(tx?.[1] ?? 0), failed: Number(failed?.[1] ?? 0) };
}

function connEnv(e: Endpoint): NodeJS.ProcessEnv {
  // sslmode=disable for every target alike: none of them offers TLS, and prefer would cost each
  // login an SSLRequest round trip.
  return { ...process.env, PGHOST: e.host, PGPORT: String(e.port), PGUSER: e.user, PGDATABASE: e.database, PGSSLMODE: 'disable', ...(e.password ? { PGPASSWORD: e.password } : {}) };
}

function exec(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('pgbench', args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, out }));
  });
}

export async function initPgbench(e: Endpoint, scale: number): Promise<void> {
  const { code, out } = await exec(['-i', '-s', String(scale), '-q'], connEnv(e));
  if (code !== 0) throw new Error(`pgbench -i failed:\n${out}`);
}

export async function runPgbench(e: Endpoint, w: Workload, opts: { clients: number; threads: number; seconds: number }): Promise<RunResult> {
  const args = [...w.args, '-c', String(opts.clients), '-j', String(opts.threads), '-T', String(opts.seconds), '-n'];
  const { code, out } = await exec(args, connEnv(e));
  const result = parsePgbench(out);
  if (code !== 0 || !result) throw new Error(`pgbench ${args.join(' ')} against ${e.host}:${e.port} failed (exit ${code}):\n${out.slice(-2000)}`);
  return result;
}

/**
 * What pgbench does before a run unless -n, done here on the direct connection so every target
 * starts from the same table state and the proxies carry only the measured traffic.
 */
export async function resetTables(direct: Endpoint): Promise<void> {
  // One -c per statement: VACUUM refuses the implicit transaction of a multi-statement query.
  const sql = ['VACUUM pgbench_branches', 'VACUUM pgbench_tellers', 'TRUNCATE pgbench_history'].flatMap((s) => ['-c', s]);
  await new Promise<void>((resolve, reject) => {
    const child = spawn('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', ...sql], { env: connEnv(direct), stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`psql reset failed: ${err}`))));
  });
}
