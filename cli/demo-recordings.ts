// `vigil dev` records two sessions of its own on a fresh store, through its own agent as the demo
// user, so the player has something to replay at once: a psql-like session on the demo database
// (queries with masked results, an error) and a shell on the demo shell (typed
// commands, output, a full-screen redraw, a resize). They are real sessions: the agent proxies,
// masks and records them like any other.
import pg from 'pg';
import ssh2 from 'ssh2';
import type { Config } from '../common/config/schema.ts';
import type { Logger } from '../common/log.ts';
import type { RecordingStore } from '../server/recordings/store/recording-store.ts';

export interface DemoRecordingOptions {
  config: Config;
  store: RecordingStore;
  logger: Logger;
  /** The agent's listening port per target name. */
  portOf: (target: string) => number | undefined;
  /** A connection token (SSH) or URI (PostgreSQL) for the demo user on a target. */
  credential: (target: string, port?: number) => Promise<string>;
  /** The agent's SSH listener. */
  sshPort?: number;
}

const PSQL_SCRIPT = [
  'select count(*) from customers',
  'select id, name, email, ssn, card_number from customers order by id limit 5',
  'select item, amount, status from orders where amount > 100 order by amount desc limit 10',
  'select * from no_such_table',
  'select service, token from api_credentials',
];

const SHELL_SCRIPT = ['ls -la', 'uname -a', 'printf "\\033[1;32mgreen\\033[0m and \\033[4munderlined\\033[0m\\n"', 'for i in 1 2 3; do echo "line $i"; done', 'clear', 'echo "after a full-screen clear"', 'exit'];

/** Records the demo sessions unless the store holds a session already; never throws. */
export async function recordDemoSessions(opts: DemoRecordingOptions): Promise<void> {
  const log = opts.logger.child({ component: 'demo-recordings' });
  try {
    if ((await opts.store.listSessions({ limit: 1 })).length > 0) return;
    const pgTarget = opts.config.targets.find((t) => t.protocol === 'postgres' && !t.upstream && t.access !== 'jit');
    const sshTarget = opts.config.targets.find((t) => t.protocol === 'ssh' && !t.upstream);
    if (pgTarget) await recordPsql(await opts.credential(pgTarget.name, opts.portOf(pgTarget.name)));
    if (sshTarget && opts.sshPort) await recordShell(opts.sshPort, sshTarget.name, await opts.credential(sshTarget.name));
    log.info('recorded a demo psql session and a demo shell session: replay them from the dashboard\'s Sessions page');
  } catch (err) {
    log.warn({ err: (err as Error).message }, 'the demo sessions could not be recorded');
  }
}

async function recordPsql(uri: string): Promise<void> {
  const client = new pg.Client({ connectionString: uri, application_name: 'vigil-demo' });
  await client.connect();
  try {
    for (const sql of PSQL_SCRIPT) {
      await client.query(sql).catch(() => undefined);
      await pause(150);
    }
  } finally {
    await client.end();
  }
}

async function recordShell(port: number, target: string, token: string): Promise<void> {
  const conn = new ssh2.Client();
  await new Promise<void>((resolve, reject) => {
    conn.once('ready', () => resolve()).once('error', reject);
    conn.connect({ host: '127.0.0.1', port, username: target, password: token, readyTimeout: 20_000 });
  });
  try {
    await new Promise<void>((resolve, reject) => {
      conn.shell({ term: 'xterm-256color', cols: 100, rows: 30 }, (err, stream) => {
        if (err) return reject(err);
        stream.on('data', () => undefined);
        stream.on('close', () => resolve());
        void (async () => {
          await pause(500);
          for (const [i, line] of SHELL_SCRIPT.entries()) {
            // Typed a key at a time, as a person would.
            for (const ch of `${line}\r`) {
              stream.write(ch);
              await pause(15);
            }
            if (i === 2) stream.setWindow(36, 120, 0, 0);
            await pause(300);
          }
        })().catch(reject);
      });
    });
  } finally {
    conn.end();
  }
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
