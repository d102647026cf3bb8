// Real clients that keep a ledger of what they saw complete. Each statement carries a marker
// (`chaos-<case>-<client>-<n>`) and is written down only once its result came back, so the store
// can be checked against exactly what a user would have seen: node-postgres (simple and extended
// protocol), psql fed through its stdin (COPY included), pgbench (counted: its summary says how
// many transactions completed) and OpenSSH running a command whose output lines carry markers.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import pg from 'pg';
import { parsePgbench } from '../../scripts/bench/pgbench.ts';

export interface Seen {
  marker: string;
  at: number;
  /** statement: a db.query with its answer; output: a line of SSH output. */
  kind: 'statement' | 'output';
}

export interface ClientLog {
  name: string;
  seen: Seen[];
  /** Statements completed that are counted rather than marked one by one (pgbench). */
  counted?: { marker: string; completed: number };
  /** Connections that got in (a lower bound on the sessions the store must have). */
  logins: number;
  errors: string[];
  /** When its last connection ended. */
  endedAt: number;
}

export interface Client {
  log: ClientLog;
  /** Asks it to finish (a polite goodbye where it still can) and waits until it has. */
  stop(): Promise<void>;
  /** Resolves when it ended by itself or after stop(). */
  done: Promise<void>;
}

export interface Endpoint {
  port: number;
  user: string;
  target: string;
  token: string;
}

export const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const markerOf = (caseId: string, client: string, n: number | string) => `chaos-${caseId}-${client}-${n}`;
/** What the store side extracts from SQL and terminal text (a marker ends at anything else). */
export const MARKER = /chaos-[a-z0-9-]+/g;

function newLog(name: string): ClientLog {
  return { name, seen: [], logins: 0, errors: [], endedAt: 0 };
}

export interface PgLoopOptions {
  /** A statement every n sleeps in the server (pg_sleep), so a fault can land mid-statement. */
  sleepEvery?: number;
  sleepS?: number;
  pauseMs?: number;
  extended?: boolean;
  /** Connect again after losing the connection, until stopped (as psql's reset does). */
  reconnect?: boolean;
  /** Rows of 4 KB each per statement (a heavy session for the slow viewer). */
  payloadRows?: number;
  /** A new connection for every statement (slow-loris: logins must keep working). */
  connectEach?: boolean;
}

/** node-postgres in a loop of marked statements; `sleeping()` says it is inside a pg_sleep now. */
export function pgLoop(caseId: string, name: string, endpoint: () => Promise<Endpoint>, o: PgLoopOptions = {}): Client & { sleeping(): boolean; sleepingForMs(): number; latencies: number[] } {
  const log = newLog(name);
  const latencies: number[] = [];
  let stopping = false;
  let inSleepSince = 0;
  let n = 0;
  let current: pg.Client | null = null;
  const statement = (marker: string, sleeps: boolean) => {
    const from = sleeps ? ` from pg_sleep(${o.sleepS ?? 1.5})` : o.payloadRows ? `, repeat('x', 4000) as pad from generate_series(1, ${o.payloadRows})` : ', g from generate_series(1, 3) g';
    return o.extended ? { text: `select '${marker}' as m, $1::int as one${from}`, values: [1] } : { text: `select '${marker}' as m${from}` };
  };
  const run = async () => {
    while (!stopping) {
      const e = await endpoint();
      const client = new pg.Client({ host: '127.0.0.1', port: e.port, user: e.user, password: e.token, database: e.target, connectionTimeoutMillis: 10_000, query_timeout: 60_000 });
      client.on('error', (err) => log.errors.push(err.message));
      const began = Date.now();
      try {
        await client.connect();
        log.logins++;
        current = client;
      } catch (err) {
        log.errors.push(`connect: ${(err as Error).message}`);
        if (!o.reconnect) break;
        await pause(250);
        continue;
      }
      try {
        do {
          n++;
          const marker = markerOf(caseId, name, n);
          const sleeps = !!o.sleepEvery && n % o.sleepEvery === 0;
          inSleepSince = sleeps ? Date.now() : 0;
          const started = Date.now();
          const r = await client.query(statement(marker, sleeps));
          inSleepSince = 0;
          latencies.push(Date.now() - (o.connectEach ? began : started));
          if (r.rows[0]?.m === marker) log.seen.push({ marker, at: Date.now(), kind: 'statement' });
          if (o.pauseMs) await pause(o.pauseMs);
        } while (!stopping && !o.connectEach);
        current = null;
        await client.end();
        log.endedAt = Date.now();
      } catch (err) {
        inSleepSince = 0;
        current = null;
        log.errors.push((err as Error).message);
        log.endedAt = Date.now();
        await client.end().catch(() => undefined);
        if (!o.reconnect) break;
        await pause(250);
      }
    }
    log.endedAt ||= Date.now();
  };
  const done = run();
  return {
    log,
    latencies,
    done,
    sleeping: () => inSleepSince > 0,
    /** How long it has been inside its pg_sleep (-1: not in one). */
    sleepingForMs: () => (inSleepSince > 0 ? Date.now() - inSleepSince : -1),
    async stop() {
      stopping = true;
      // A statement stuck for longer than any case allows is cut, and said so.
      const timer = setTimeout(() => {
        log.errors.push('stalled: still waiting for a statement 30 s after stop');
        (current as unknown as { connection?: { stream?: { destroy(): void } } } | null)?.connection?.stream?.destroy();
      }, 30_000);
      await done;
      clearTimeout(timer);
    },
  };
}

function envFor(e: Endpoint, appName: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('PG')) env[k] = v;
  return { ...env, PGHOST: '127.0.0.1', PGPORT: String(e.port), PGUSER: e.user, PGPASSWORD: e.token, PGDATABASE: e.target, PGSSLMODE: 'disable', PGAPPNAME: appName, PGCONNECT_TIMEOUT: '10' };
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Ends a child that did not finish in time: SIGTERM, then SIGKILL. */
async function reap(child: ChildProcess, graceMs: number): Promise<boolean> {
  const timer = setTimeout(() => child.kill('SIGTERM'), graceMs);
  const hard = setTimeout(() => child.kill('SIGKILL'), graceMs + 5000);
  await exited(child);
  clearTimeout(timer);
  clearTimeout(hard);
  return child.signalCode === null;
}

export interface PsqlFeed {
  /** Writes text to psql's stdin (statements, COPY data); ignored once psql is gone. */
  write(text: string): void;
  alive(): boolean;
  stopping(): boolean;
  marker(n: number | string): string;
}

/**
 * psql reading its stdin, as a person pastes into it: `feed` writes statements over time. A line
 * psql prints that is a marker (a select's value) or `done:<marker>` (an \echo after a COPY) is
 * a statement it saw complete. psql, not interactive, exits when its connection is lost.
 */
export function psqlClient(caseId: string, name: string, e: Endpoint, feed: (f: PsqlFeed) => Promise<void>): Client {
  const log = newLog(name);
  const child = spawn('psql', ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=0'], { env: envFor(e, `chaos-${caseId}-${name}`), stdio: ['pipe', 'pipe', 'pipe'] });
  let stopping = false;
  let gone = false;
  child.stdin!.on('error', () => undefined);
  child.stderr!.on('data', (d: Buffer) => { if (log.errors.length < 20) log.errors.push(d.toString().trim()); });
  readline.createInterface({ input: child.stdout! }).on('line', (line) => {
    const marker = line.startsWith('done:') ? line.slice(5) : line;
    if (/^chaos-[a-z0-9-]+$/.test(marker)) {
      if (log.seen.length === 0) log.logins = 1;
      log.seen.push({ marker, at: Date.now(), kind: 'statement' });
    }
  });
  const closed = exited(child).then(() => {
    gone = true;
    log.endedAt = Date.now();
  });
  const f: PsqlFeed = {
    write: (text) => { if (!gone && child.stdin!.writable) child.stdin!.write(text); },
    alive: () => !gone,
    stopping: () => stopping,
    marker: (n) => markerOf(caseId, name, n),
  };
  const fed = feed(f).catch((err: Error) => log.errors.push(`feed: ${err.message}`)).finally(() => child.stdin!.end());
  const done = Promise.all([fed, closed]).then(() => undefined);
  return {
    log,
    done,
    async stop() {
      stopping = true;
      await fed;
      if (!(await reap(child, 30_000))) log.errors.push('psql had to be killed');
      await closed;
    },
  };
}

/** The usual psql feed: marked selects, one every pauseMs, a pg_sleep every sleepEvery. */
export function selectFeed(pauseMs: number, sleepEvery = 0): (f: PsqlFeed) => Promise<void> {
  return async (f) => {
    for (let n = 1; f.alive() && !f.stopping(); n++) {
      const sleeps = sleepEvery > 0 && n % sleepEvery === 0;
      f.write(`select '${f.marker(n)}'${sleeps ? ' from pg_sleep(1.5)' : ''};\n`);
      await pause(pauseMs);
    }
  };
}

/**
 * pgbench through the agent for `seconds`: one marked statement per transaction. What it reports
 * as processed is what its clients saw complete.
 */
export function pgbenchClient(caseId: string, dir: string, e: Endpoint, clients: number, seconds: number): Client {
  const log = newLog('pgbench');
  const marker = markerOf(caseId, 'pgbench', 'tx');
  const script = path.join(dir, `pgbench-${caseId}.sql`);
  fs.writeFileSync(script, `select '${marker}' as m, :client_id as c;\n`);
  const child = spawn('pgbench', ['-n', '-f', script, '-M', 'simple', '-c', String(clients), '-j', '1', '-T', String(seconds)], { env: envFor(e, `chaos-${caseId}-pgbench`), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const done = exited(child).then(() => {
    log.endedAt = Date.now();
    const summary = parsePgbench(out);
    log.counted = { marker, completed: summary?.transactions ?? 0 };
    if (child.exitCode !== 0) log.errors.push(`pgbench exit ${child.exitCode}: ${out.split('\n').filter((l) => /error|abort/i.test(l)).slice(0, 3).join(' | ')}`);
    if (!summary) log.errors.push(`pgbench printed no summary: ${out.slice(-500)}`);
  });
  return {
    log,
    done,
    async stop() {
      await reap(child, (seconds + 30) * 1000);
      await done;
    },
  };
}

/**
 * The real ssh client through the agent (password: the token, through SSH_ASKPASS), running a
 * command that prints one marked line every intervalS for `lines` lines.
 */
export function sshClient(caseId: string, name: string, e: Endpoint, askpass: string, lines: number, intervalS = 0.1): Client {
  const log = newLog(name);
  const prefix = markerOf(caseId, name, '');
  const command = `i=0; while [ $i -lt ${lines} ]; do i=$((i+1)); echo ${prefix}$i; sleep ${intervalS}; done`;
  const args = ['-F', '/dev/null', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR',
    '-o', 'PubkeyAuthentication=no', '-o', 'PreferredAuthentications=password', '-o', 'NumberOfPasswordPrompts=1',
    '-p', String(e.port), `${e.target}@127.0.0.1`, command];
  const child = spawn('ssh', args, {
    env: { ...process.env, SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: 'force', DISPLAY: ':0', CHAOS_SSH_PASSWORD: e.token },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stderr!.on('data', (d: Buffer) => { if (log.errors.length < 20) log.errors.push(d.toString().trim()); });
  readline.createInterface({ input: child.stdout! }).on('line', (line) => {
    if (!line.startsWith(prefix)) return;
    log.logins = 1;
    log.seen.push({ marker: line, at: Date.now(), kind: 'output' });
  });
  const done = exited(child).then(() => { log.endedAt = Date.now(); });
  return {
    log,
    done,
    async stop() {
      if (!(await reap(child, (lines * intervalS + 30) * 1000))) log.errors.push('ssh had to be killed');
      await done;
    },
  };
}
