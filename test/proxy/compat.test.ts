// What a real client sees must be the same through the agent as direct to PostgreSQL. Each
// behaviour runs both ways against the same server and the outcomes are compared: 100 MB values
// (node-postgres, bytea and text), startup settings (psql's PGOPTIONS, node-postgres options),
// garbage startup packets, notifications, binary COPY and cancel.
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startHarness, type Harness } from '../support/agent-harness.ts';
import { ofType } from '../support/recordings.ts';

const LARGE_CLIENT = fileURLToPath(new URL('../support/large-value-client.mjs', import.meta.url));
const MIB = 100;

let h: Harness;
let tmp: string;

beforeAll(async () => {
  h = await startHarness({
    postgresUrl: inject('postgresUrl'),
    seed: `CREATE TABLE big_bytea (id serial PRIMARY KEY, v bytea);
           CREATE TABLE big_text (id serial PRIMARY KEY, v text);
           CREATE TABLE copied (id int, note text, x numeric);`,
  });
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-compat-'));
});
afterAll(async () => {
  await h?.stop();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

type Path = 'direct' | 'agent';
const PATHS: Path[] = ['direct', 'agent'];
const urlOf = async (p: Path) => (p === 'direct' ? h.directUrl : h.uri());

async function connect(p: Path, extra: pg.ClientConfig = {}): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: await urlOf(p), ...extra });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

function psql(p: Path, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ stdout: string; stderr: string; code: number }> {
  return urlOf(p).then((url) => new Promise((resolve) => {
    execFile('psql', ['-X', '-v', 'ON_ERROR_STOP=1', url, ...args], { env: { ...process.env, PGCONNECT_TIMEOUT: '10', ...env } }, (err, stdout, stderr) => {
      resolve({ stdout, stderr, code: err ? Number((err as { code?: number }).code ?? 1) : 0 });
    });
  }));
}

type PgError = { code?: string; message: string };

/** The error a query failed with (a query that succeeds fails the test). */
async function failure(query: Promise<unknown>): Promise<PgError> {
  try {
    await query;
  } catch (err) {
    return err as PgError;
  }
  throw new Error('the query succeeded');
}

const pidOf = (client: pg.Client) => (client as unknown as { processID: number }).processID;

async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface LargeRun { insertMs: number; readMs: number; equal: boolean; sent: string; readWire: string }

/** Runs the large-value client in its own process; samples this process's memory meanwhile. */
async function largeValue(p: Path, kind: 'bytea' | 'text'): Promise<LargeRun & { peakExternalMiB: number }> {
  const url = await urlOf(p);
  const before = process.memoryUsage();
  let peak = 0;
  const sampler = setInterval(() => {
    const m = process.memoryUsage();
    peak = Math.max(peak, m.arrayBuffers - before.arrayBuffers, m.rss - before.rss);
  }, 20);
  try {
    const out = await new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, [LARGE_CLIENT, url, `big_${kind}`, kind, String(MIB), '12345']);
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('close', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`large-value client failed (${code}): ${stderr}`))));
    });
    return { ...(JSON.parse(out) as LargeRun), peakExternalMiB: Math.round(peak / 1024 / 1024) };
  } finally {
    clearInterval(sampler);
  }
}

describe('compatibility: direct and through the agent', () => {
  for (const kind of ['bytea', 'text'] as const) {
    it(`when node-postgres inserts and reads back a 100 MB ${kind} value, then it comes back whole both ways and the agent holds no copy of it`, async () => {
      const direct = await largeValue('direct', kind);
      const agent = await largeValue('agent', kind);
      console.log(`100 MB ${kind}: direct insert ${direct.insertMs} ms, read ${direct.readMs} ms; agent insert ${agent.insertMs} ms, read ${agent.readMs} ms, peak memory growth of the agent's process ${agent.peakExternalMiB} MiB`);
      expect(direct.equal).toBe(true);
      expect(agent).toMatchObject({ equal: true, sent: direct.sent, readWire: direct.readWire });
      // A whole copy of the value (100 MiB sent; 200 MiB of hex read back for bytea) would show.
      expect(agent.peakExternalMiB).toBeLessThan(90);

      // The recording keeps the start of each value, a marker, its size and its hash.
      const events = await h.sessionWhere((e) => e.type === 'db.query' && e.data.sql.startsWith(`insert into big_${kind}`));
      const insert = ofType(events, 'db.query').find((e) => e.data.sql.startsWith('insert'))!;
      const param = insert.data.params![0].value!;
      expect(param.endsWith(`[TRUNCATED ${MIB * 1024 * 1024} bytes sha256:${direct.sent}]`)).toBe(true);
      expect(param.length).toBeLessThan(70_000);
      const select = ofType(events, 'db.query').find((e) => e.data.sql.startsWith('select v'))!;
      const cell = ofType(events, 'db.result').find((e) => e.data.querySeq === select.seq)!.data.rows[0][0]!;
      const wireBytes = kind === 'bytea' ? 2 + 2 * MIB * 1024 * 1024 : MIB * 1024 * 1024;
      expect(cell.endsWith(`[TRUNCATED ${wireBytes} bytes sha256:${direct.readWire}]`)).toBe(true);
      expect(cell.length).toBeLessThan(70_000);
    }, 240_000);
  }

  it('when psql sets statement_timeout and idle_in_transaction_session_timeout in PGOPTIONS, then the session has them both ways', async () => {
    const env = { PGOPTIONS: '-c statement_timeout=1234 -c idle_in_transaction_session_timeout=5s' };
    const sql = ['-At', '-c', 'show statement_timeout', '-c', 'show idle_in_transaction_session_timeout'];
    const [direct, agent] = await Promise.all(PATHS.map((p) => psql(p, sql, env)));
    expect(direct.stdout).toBe('1234ms\n5s\n');
    expect(agent).toEqual(direct);
  });

  it('when node-postgres passes statement_timeout, lock_timeout and options, then the session has them both ways', async () => {
    const show = async (p: Path) => {
      const c = await connect(p, { statement_timeout: 4321, lock_timeout: 999, options: '-c search_path=pg_catalog --DateStyle=SQL,DMY', application_name: 'compat' });
      const r = await c.query(`select current_setting('statement_timeout') s, current_setting('lock_timeout') l,
        current_setting('search_path') p, current_setting('DateStyle') d, current_setting('application_name') a`);
      await c.end();
      return r.rows[0];
    };
    const direct = await show('direct');
    expect(direct).toEqual({ s: '4321ms', l: '999ms', p: 'pg_catalog', d: 'SQL, DMY', a: 'compat' });
    expect(await show('agent')).toEqual(direct);
  });

  it('when a statement outlives the statement_timeout set at startup, then it is cancelled the same way both ways', async () => {
    const run = async (p: Path) => {
      const c = await connect(p, { statement_timeout: 200 });
      const err = await failure(c.query('select pg_sleep(5)'));
      await c.end();
      return err;
    };
    const [direct, agent] = await Promise.all(PATHS.map(run));
    expect(direct).toMatchObject({ code: '57014', message: 'canceling statement due to statement timeout' });
    expect(agent).toMatchObject({ code: direct.code, message: direct.message });
  });

  it('when a client sets at startup a setting the target does not allow, then it gets an error naming it instead of silence', async () => {
    const direct = await psql('direct', ['-At', '-c', 'show work_mem'], { PGOPTIONS: '-c work_mem=64kB' });
    expect(direct.stdout).toBe('64kB\n');
    const agent = await psql('agent', ['-At', '-c', 'show work_mem'], { PGOPTIONS: '-c work_mem=64kB' });
    expect(agent.code).not.toBe(0);
    expect(agent.stderr).toContain('the start-up setting "work_mem" (in options) is not allowed on target "pg"');
    const err = await failure(connect('agent', { options: '-c geqo=off' }));
    expect(err).toMatchObject({ code: '42501', message: expect.stringContaining('"geqo"') });
  });

  it('when garbage or an unsupported protocol arrives as a startup packet, then the agent answers exactly as PostgreSQL does', async () => {
    const pgPort = Number(new URL(inject('postgresUrl')).port);
    const i32 = (n: number) => { const b = Buffer.alloc(4); b.writeUInt32BE(n >>> 0); return b; };
    const cstr = (s: string) => Buffer.from(`${s}\0`);
    const packet = (version: number, ...body: Buffer[]) => {
      const b = Buffer.concat([i32(version), ...body]);
      return Buffer.concat([i32(b.length + 4), b]);
    };
    const cases: Record<string, Buffer> = {
      'length below 8': Buffer.concat([i32(4), i32(196608)]),
      'length of 2 GB': Buffer.concat([i32(0x7fffffff), i32(196608)]),
      'length past 10000': Buffer.concat([i32(10_005), i32(196608), Buffer.alloc(9_997)]),
      'an HTTP request': Buffer.from('GET / HTTP/1.1\r\nHost: vigil\r\n\r\n'),
      'protocol 2.0': packet(0x20000, cstr('user'), cstr('postgres'), cstr('')),
      'protocol 4.0': packet(0x40000, cstr('user'), cstr('postgres'), cstr('')),
      'protocol 3.7': packet(0x30007, cstr('user'), cstr('postgres'), cstr('')),
      'an unknown _pq_ option': packet(0x30000, cstr('user'), cstr('postgres'), cstr('_pq_.vigil'), cstr('1'), cstr('')),
      'no terminator': packet(0x30000, cstr('user'), cstr('postgres')),
      'no user': packet(0x30000, cstr('database'), cstr('postgres'), cstr('')),
      'a cancel request without a key': Buffer.concat([i32(12), i32(80877102), i32(1)]),
      'a cancel request with an unknown key': Buffer.concat([i32(16), i32(80877102), i32(1), i32(2)]),
    };
    for (const [name, bytes] of Object.entries(cases)) {
      const [direct, agent] = await Promise.all([startupAnswer(pgPort, bytes), startupAnswer(h.port, bytes)]);
      expect(agent, name).toEqual(direct);
    }
  });

  it('when a session LISTENs and NOTIFYs, then each notification carries the pid its sender\'s client was given', async () => {
    const run = async (p: Path) => {
      const listener = await connect(p);
      const sender = await connect(p);
      const seen: pg.Notification[] = [];
      listener.on('notification', (n) => seen.push(n));
      await listener.query('LISTEN jobs');
      await listener.query(`NOTIFY jobs, 'from myself'`);
      await sender.query(`NOTIFY jobs, 'from another session'`);
      await waitUntil(() => seen.length === 2);
      const result = seen.map((n) => [n.payload, n.processId === pidOf(listener) ? 'listener' : n.processId === pidOf(sender) ? 'sender' : `other ${n.processId}`]);
      await Promise.all([listener.end(), sender.end()]);
      return result;
    };
    const direct = await run('direct');
    expect(direct).toEqual([['from myself', 'listener'], ['from another session', 'sender']]);
    expect(await run('agent')).toEqual(direct);
  });

  it('when psql copies in binary format out and back in, then the bytes and the counts are the same and the recording counts rows', async () => {
    const rows = 1000;
    const query = `select g as id, 'row ' || g as note, case when g % 3 = 0 then null else g * 1.5 end as x from generate_series(1, ${rows}) g`;
    const file = (p: Path) => path.join(tmp, `${p}.bin`);
    for (const p of PATHS) {
      const out = await psql(p, ['-c', `\\copy (${query}) to '${file(p)}' with (format binary)`]);
      expect(out.stdout).toBe(`COPY ${rows}\n`);
      const back = await psql(p, ['-c', `\\copy copied from '${file(p)}' with (format binary)`]);
      expect(back.stdout).toBe(`COPY ${rows}\n`);
    }
    expect(fs.readFileSync(file('agent')).equals(fs.readFileSync(file('direct')))).toBe(true);
    const events = await h.sessionWhere((e) => e.type === 'db.copy' && e.data.direction === 'in' && e.data.format === 'binary');
    expect(ofType(events, 'db.copy')).toMatchObject([{ data: { direction: 'in', format: 'binary', rows, outcome: 'done' } }]);
    const outEvents = await h.sessionWhere((e) => e.type === 'db.copy' && e.data.direction === 'out' && e.data.format === 'binary');
    expect(ofType(outEvents, 'db.copy')).toMatchObject([{ data: { direction: 'out', format: 'binary', rows, outcome: 'done' } }]);
  });

  it('when node-postgres cancels a running statement, then it is cancelled the same way both ways', async () => {
    const run = async (p: Path) => {
      const client = await connect(p);
      const running = failure(client.query('select pg_sleep(30)'));
      const active = client as unknown as { activeQuery: unknown };
      await waitUntil(() => active.activeQuery !== null && active.activeQuery !== undefined);
      // Until the server runs it a cancel would be lost: wait until it sleeps.
      const watcher = await connect('direct');
      await waitUntil(async () => (await watcher.query(`select count(*)::int n from pg_stat_activity where query = 'select pg_sleep(30)' and state = 'active'`)).rows[0].n === 1);
      await watcher.end();
      const canceller = new pg.Client({ connectionString: await urlOf(p) });
      (canceller as unknown as { cancel(c: pg.Client, q: unknown): void }).cancel(client, active.activeQuery);
      const err = await running;
      await client.end();
      return err;
    };
    const direct = await run('direct');
    expect(direct).toMatchObject({ code: '57014', message: 'canceling statement due to user request' });
    expect(await run('agent')).toMatchObject({ code: direct.code, message: direct.message });
  });
});

/**
 * How a server answers a startup packet: nothing before closing, or its first message (an
 * ErrorResponse read as severity, SQLSTATE and message; protocol 2's error as its text).
 */
function startupAnswer(port: number, bytes: Buffer): Promise<unknown> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => socket.write(bytes));
    let got = Buffer.alloc(0);
    const done = () => {
      socket.destroy();
      resolve(describe(got));
    };
    socket.on('data', (d) => {
      got = Buffer.concat([got, d]);
      // A server that goes on after its first message (NegotiateProtocolVersion) waits for more.
      if (got[0] === 0x76 && got.length >= 5 && got.length >= 1 + got.readUInt32BE(1)) done();
    });
    socket.on('error', done);
    socket.on('close', done);
    setTimeout(done, 5000);
  });

  function describe(got: Buffer): unknown {
    if (got.length === 0) return 'closed without an answer';
    if (got[0] === 0x45 && got.length > 5 && got[1] === 0) {
      const fields: Record<string, string> = {};
      for (const f of got.subarray(5, 1 + got.readUInt32BE(1)).toString('utf8').split('\0')) if (f) fields[f[0]] = f.slice(1);
      return { error: fields.S, code: fields.C, message: fields.M };
    }
    if (got[0] === 0x76) return { negotiate: got.subarray(0, 1 + got.readUInt32BE(1)).toString('hex') };
    return { raw: got.toString('latin1') };
  }
}
