// Runs the real `vigil` command (bin/vigil.mjs) as a child process, with an environment cleaned of
// the caller's Vigil settings so a test states every setting it relies on.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = path.join(REPO, 'bin/vigil.mjs');

export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('VIGIL') || k === 'REDIS_URL' || k === 'DATABASE_URL' || k.startsWith('PG')) continue;
    env[k] = v;
  }
  return { ...env, VIGIL_LOG_LEVEL: 'warn', ...extra };
}

/**
 * Test files run side by side on one Redis. A hub or agent there on the default key prefix would
 * read the streams of every other such process: a hub of one file would take (and, not trusting
 * their signer, drop) the events another file's hub waits for.
 */
function checkOwnRedisKeys(args: string[], env: Record<string, string>): void {
  if (env.REDIS_URL && !env.VIGIL__REDIS__KEYPREFIX && !args.includes('--config')) {
    throw new Error(`vigil ${args.join(' ')}: with REDIS_URL, give the process its own VIGIL__REDIS__KEYPREFIX (or a --config that sets redis.keyPrefix)`);
  }
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** opts.bin: another entry than bin/vigil.mjs (the bundle of `npm run build`). */
export function runVigil(args: string[], env: Record<string, string>, opts: { cwd?: string; bin?: string } = {}): Promise<RunResult> {
  checkOwnRedisKeys(args, env);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [opts.bin ?? BIN, ...args], { env: cleanEnv(env), cwd: opts.cwd ?? REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A long-running vigil command (hub, dev), resolved once stdout shows `ready`. */
export interface VigilProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

export function startVigil(args: string[], env: Record<string, string>, ready: RegExp, opts: { cwd?: string; timeoutMs?: number } = {}): Promise<VigilProcess> {
  checkOwnRedisKeys(args, env);
  const child = spawn(process.execPath, [BIN, ...args], { env: cleanEnv(env), cwd: opts.cwd ?? REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const handle: VigilProcess = {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`vigil ${args.join(' ')} was not ready in time\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, opts.timeoutMs ?? 90_000);
    child.stdout!.on('data', (d) => {
      stdout += d;
      if (ready.test(stdout)) {
        clearTimeout(timer);
        resolve(handle);
      }
    });
    child.stderr!.on('data', (d) => { stderr += d; });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`vigil ${args.join(' ')} exited with ${code} before it was ready\nstdout: ${stdout}\nstderr: ${stderr}`));
    });
  });
}
