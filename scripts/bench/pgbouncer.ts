// pgbouncer in session mode in front of the private upstream: the C proxy users already trust, as
// the yardstick for the agent. It refuses to run as root, so it runs as the postgres user.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { waitForPort } from '../../test/support/free-port.ts';
import { type Child, type Cleanup, startChild } from './processes.ts';

export const PGBOUNCER_BIN = process.env.PGBOUNCER_BIN ?? '/usr/sbin/pgbouncer';

export function pgbouncerAvailable(): boolean {
  return fs.existsSync(PGBOUNCER_BIN);
}

function postgresIds(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  return {
    uid: Number(execFileSync('id', ['-u', 'postgres']).toString().trim()),
    gid: Number(execFileSync('id', ['-g', 'postgres']).toString().trim()),
  };
}

export async function startPgbouncer(opts: {
  dir: string;
  listenPort: number;
  upstreamPort: number;
  database: string;
  user: string;
  cleanup: Cleanup;
}): Promise<Child> {
  const ini = path.join(opts.dir, 'pgbouncer.ini');
  const users = path.join(opts.dir, 'userlist.txt');
  // The upstream trusts 127.0.0.1, so pgbouncer needs no password towards it; trust towards the
  // client keeps the login cost comparable with the direct connection's.
  fs.writeFileSync(users, `"${opts.user}" ""\n`);
  fs.writeFileSync(ini, [
    '[databases]',
    `${opts.database} = host=127.0.0.1 port=${opts.upstreamPort} dbname=${opts.database}`,
    '[pgbouncer]',
    'listen_addr = 127.0.0.1',
    `listen_port = ${opts.listenPort}`,
    'unix_socket_dir =',
    'auth_type = trust',
    `auth_file = ${users}`,
    'pool_mode = session',
    'max_client_conn = 400',
    'default_pool_size = 40',
    'ignore_startup_parameters = extra_float_digits',
    'log_connections = 0',
    'log_disconnections = 0',
    '',
  ].join('\n'));
  const ids = postgresIds();
  if (ids) execFileSync('chown', ['-R', `${ids.uid}:${ids.gid}`, opts.dir]);
  const child = startChild('pgbouncer', PGBOUNCER_BIN, [ini], { ...(ids ?? {}) }, opts.cleanup);
  try {
    await waitForPort(opts.listenPort, 10_000);
  } catch (err) {
    throw new Error(`pgbouncer did not start: ${(err as Error).message}\n${child.stderrTail()}`);
  }
  return child;
}
