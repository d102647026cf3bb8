// The demo database of `vigil dev` (PGlite behind a wire server in a worker), direct and through
// the agent. Large values: a 70 MiB result once wedged it for every session (a framing limit threw
// inside PGlite's output callback); now a big value answers, or fails with a clear error, and
// other sessions go on. Startup settings, which its shared backend cannot apply, are not ignored
// in silence.
import { spawn } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { serialize } from 'pg-protocol';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startDemoDatabase, type DemoDatabase } from '../../proxy-agent/demo/demo-database.ts';
import { startHarness, type Harness } from '../support/agent-harness.ts';

const LARGE_CLIENT = fileURLToPath(new URL('../support/large-value-client.mjs', import.meta.url));
const MIB = 1024 * 1024;

let demo: DemoDatabase;
let h: Harness;

beforeAll(async () => {
  demo = await startDemoDatabase({ port: 0 });
  const { host, port, database, user, password } = demo.settings;
  h = await startHarness({ postgresUrl: inject('postgresUrl'), target: { upstream: { host, port, database, user, password } } });
});
afterAll(async () => {
  await h?.stop();
  await demo?.stop();
});

async function direct(): Promise<pg.Client> {
  const { host, port, user, password, database } = demo.settings;
  const client = new pg.Client({ host, port, user, password, database });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

describe('the demo database with large values', () => {
  it('when a session selects a 70 MiB value, then it gets it whole, direct and through the agent, and other sessions are answered after', async () => {
    for (const connect of [direct, () => h.client()]) {
      const c = await connect();
      const { rows } = await c.query(`select repeat('x', 70*1024*1024) as v`);
      expect(rows[0].v.length).toBe(70 * MIB);
      const other = await connect();
      expect((await other.query('select 6*7 as n')).rows[0].n).toBe(42);
      await Promise.all([c.end(), other.end()]);
    }
  }, 180_000);

  it('when node-postgres inserts and reads back a 100 MB bytea through the agent, then it comes back whole', async () => {
    const setup = await h.client();
    await setup.query('create table if not exists big_bytea (id serial primary key, v bytea)');
    await setup.end();
    const uri = await h.uri();
    const out = await new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, [LARGE_CLIENT, uri, 'big_bytea', 'bytea', '100', '7']);
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('close', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`large-value client failed (${code}): ${stderr}`))));
    });
    const run = JSON.parse(out) as { equal: boolean; insertMs: number; readMs: number };
    console.log(`100 MB bytea through the agent to the demo database: insert ${run.insertMs} ms, read ${run.readMs} ms`);
    expect(run.equal).toBe(true);
    expect((await h.psql(['-At', '-c', 'select 1'])).stdout).toBe('1\n');
  }, 240_000);

  it('when a client sets statement_timeout at startup through the agent, then the demo database says it ignores it', async () => {
    const client = new pg.Client({ connectionString: await h.uri(), statement_timeout: 1234 });
    const notices: string[] = [];
    client.on('notice', (n) => notices.push(n.message ?? ''));
    await client.connect();
    expect(notices).toEqual(['the demo database ignores start-up settings (statement_timeout): its sessions share one backend']);
    await client.end();
  });

  it('when a client sends a message larger than the demo database takes, then that session ends with a FATAL saying so and others go on', async () => {
    const socket = net.connect({ host: '127.0.0.1', port: demo.port });
    await new Promise((resolve) => socket.once('connect', resolve));
    let got = '';
    socket.on('data', (d) => (got += d.toString('latin1')));
    socket.write(serialize.startup({ user: 'postgres', database: 'postgres' }));
    const header = Buffer.from([0x51, 0x20, 0, 0, 0]); // Q, 512 MiB
    socket.write(header);
    await new Promise((resolve) => socket.once('close', resolve));
    expect(got).toContain('FATAL');
    expect(got).toContain('exceeds the 256 MiB limit');
    const c = await direct();
    expect((await c.query('select 1 as one')).rows[0].one).toBe(1);
    await c.end();
  });
});
