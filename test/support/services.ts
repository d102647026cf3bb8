// Private Redis and PostgreSQL instances for tests, on free ports, from Debian's binaries, so the
// suite neither depends on nor disturbs the services already running on the machine. A test may
// stop and restart its own instance (the Redis and store restart tests do).
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, waitForPort } from './free-port.ts';

const PG_BIN = process.env.VIGIL_PG_BIN ?? '/usr/lib/postgresql/15/bin';

export interface RedisInstance {
  port: number;
  url: string;
  stop(): Promise<void>;
  /** Stops and starts again on the same port (data survives only with appendOnly). */
  restart(): Promise<void>;
  /** Stops the server, keeping its port for start(). */
  halt(): Promise<void>;
  /** Starts a halted server again on the same port. */
  start(): Promise<void>;
  /** Ends the server with SIGKILL (no shutdown, nothing saved), keeping its port for start(). */
  kill(): Promise<void>;
}

export interface PostgresInstance {
  port: number;
  /** Superuser URL (trust auth on 127.0.0.1). */
  url: string;
  dataDir: string;
  /** Stops the server and removes its data. */
  stop(): Promise<void>;
  /** Stops the server (fast shutdown: every connection is cut), keeping its data and port. */
  halt(): Promise<void>;
  /** Starts a halted server again on the same port; resolves once it answers queries. */
  start(): Promise<void>;
  /** halt(), then start(). */
  restart(): Promise<void>;
}

function waitExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/**
 * tls: the server takes TLS only, with this certificate and key (PEM files); users: ACL users
 * (name, password), each allowed everything, and the default user switched off.
 */
export async function startRedis(opts: { appendOnly?: boolean; tls?: { certFile: string; keyFile: string; caFile: string }; users?: Array<[string, string]> } = {}): Promise<RedisInstance> {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-redis-'));
  let child: ChildProcess;
  const launch = async () => {
    const listen = opts.tls
      ? ['--port', '0', '--tls-port', String(port), '--tls-cert-file', opts.tls.certFile, '--tls-key-file', opts.tls.keyFile, '--tls-ca-cert-file', opts.tls.caFile, '--tls-auth-clients', 'no']
      : ['--port', String(port)];
    const users = opts.users ? [...opts.users.flatMap(([name, password]) => ['--user', name, 'on', `>${password}`, '~*', '&*', '+@all']), '--user', 'default', 'off'] : [];
    const args = [...listen, '--bind', '127.0.0.1', '--dir', dir, '--save', '',
      '--appendonly', opts.appendOnly ? 'yes' : 'no', '--daemonize', 'no', ...users];
    if (opts.appendOnly) args.push('--appendfsync', 'always');
    child = spawn('redis-server', args, { stdio: 'ignore' });
    await waitForPort(port);
  };
  await launch();
  const stop = async () => {
    child.kill('SIGTERM');
    await waitExit(child);
  };
  return {
    port,
    url: `${opts.tls ? 'rediss' : 'redis'}://127.0.0.1:${port}`,
    stop: async () => { await stop(); fs.rmSync(dir, { recursive: true, force: true }); },
    restart: async () => { await stop(); await launch(); },
    halt: stop,
    start: launch,
    kill: async () => { child.kill('SIGKILL'); await waitExit(child); },
  };
}

/** tls: the server's certificate and key (PEM files); the server then takes TLS connections too. */
export async function startPostgres(opts: { tls?: { certFile: string; keyFile: string } } = {}): Promise<PostgresInstance> {
  const port = await freePort();
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-pg-'));
  const dataDir = path.join(root, 'data');
  const sockDir = path.join(root, 'sock');
  fs.mkdirSync(sockDir);
  // initdb and postgres refuse to run as root: run them as the postgres user directly (not via
  // runuser, which would stand between the test and the server's signals).
  const asRoot = process.getuid?.() === 0;
  const ids = asRoot ? { uid: Number(execFileSync('id', ['-u', 'postgres']).toString()), gid: Number(execFileSync('id', ['-g', 'postgres']).toString()) } : {};
  if (asRoot) execFileSync('chown', ['-R', 'postgres:postgres', root]);
  execFileSync(path.join(PG_BIN, 'initdb'), ['-D', dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync'], { stdio: 'ignore', ...ids });
  // Roles with these names must log in with a password (each method once), so tests exercise the
  // agent's upstream login; every other role is trusted. pg_hba is first-match: prepend.
  const hba = path.join(dataDir, 'pg_hba.conf');
  fs.writeFileSync(hba, [
    'host all scram_user 127.0.0.1/32 scram-sha-256',
    'host all md5_user 127.0.0.1/32 md5',
    'host all clear_user 127.0.0.1/32 password',
    fs.readFileSync(hba, 'utf8'),
  ].join('\n'));
  // The server reads its key only if no one else may: copies it owns, mode 0600.
  const tlsArgs: string[] = [];
  if (opts.tls) {
    for (const [name, from] of [['server.crt', opts.tls.certFile], ['server.key', opts.tls.keyFile]] as const) {
      fs.copyFileSync(from, path.join(dataDir, name));
      fs.chmodSync(path.join(dataDir, name), 0o600);
    }
    if (asRoot) execFileSync('chown', ['postgres:postgres', path.join(dataDir, 'server.crt'), path.join(dataDir, 'server.key')]);
    tlsArgs.push('-c', 'ssl=on', '-c', 'ssl_cert_file=server.crt', '-c', 'ssl_key_file=server.key');
  }
  let child: ChildProcess | null = null;
  const launch = async () => {
    if (child) return;
    child = spawn(path.join(PG_BIN, 'postgres'), ['-D', dataDir, '-p', String(port), '-k', sockDir, '-h', '127.0.0.1',
      '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'max_connections=300', ...tlsArgs], { stdio: 'ignore', ...ids });
    await waitForPort(port);
    // Accepting TCP is not accepting queries: wait for the server to leave start-up.
    const deadline = Date.now() + 20_000;
    for (;;) {
      try {
        execFileSync('psql', ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-d', 'postgres', '-Atc', 'select 1'], { stdio: 'ignore' });
        break;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  };
  const halt = async () => {
    const running = child;
    child = null;
    if (!running) return;
    running.kill('SIGINT'); // fast shutdown
    const killer = setTimeout(() => running.kill('SIGKILL'), 10_000);
    await waitExit(running);
    clearTimeout(killer);
  };
  await launch();
  return {
    port,
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    dataDir,
    stop: async () => {
      await halt();
      fs.rmSync(root, { recursive: true, force: true });
    },
    halt,
    start: launch,
    restart: async () => { await halt(); await launch(); },
  };
}
