// Just-in-time access end to end, with real parts: psql and an SSH client through the agent,
// Redis as the control path between hub and agent (each with its own connection, as on separate
// machines), approvals over the hub's API as the demo people. Connecting without a grant opens a
// request; approval lets psql in and lets a waiting SSH shell go on; revocation and expiry end
// live sessions with a message; a held DROP runs only when approved.
import { spawn } from 'node:child_process';
import ssh2, { type ClientChannel } from 'ssh2';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import type { ControlBus } from '../../common/control/control-bus.ts';
import { createRedisControlBus } from '../../common/control/redis-control-bus.ts';
import { startHarness, type Harness } from '../support/agent-harness.ts';
import { startHubWithLogin, type HubWithLogin } from '../support/dashboard-browser.ts';
import { apiAs, type ApiCall } from '../support/oidc-login-client.ts';
import { openShellThroughAgent, startSshHarness, type SshHarness } from '../support/ssh-harness.ts';
import { liveSessionOf, ofType } from '../support/recordings.ts';

vi.setConfig({ testTimeout: 60_000, hookTimeout: 120_000 });

const run = `${process.pid}-${Date.now()}`;
const controls: ControlBus[] = [];
let pgh: Harness;
let sshh: SshHarness;
let pgWeb: HubWithLogin;
let sshWeb: HubWithLogin;
let alice: ApiCall;
let aaron: ApiCall;
let sshAlice: ApiCall;
let sshAaron: ApiCall;

const control = async (prefix: string) => {
  const bus = await createRedisControlBus(inject('redisUrl'), prefix);
  controls.push(bus);
  return bus;
};

beforeAll(async () => {
  const pgPrefix = `jit-pg-${run}:`;
  pgh = await startHarness({
    postgresUrl: inject('postgresUrl'),
    control: await control(pgPrefix),
    seed: 'CREATE TABLE held_t (id int); CREATE TABLE kept_t (id int);',
    target: { access: 'jit', guardrails: [{ name: 'drops-need-approval', statements: ['DROP'], action: 'approve' }] },
  });
  pgWeb = await startHubWithLogin({ dataDir: pgh.config.dataDir, targets: pgh.config.targets, bus: pgh.bus, stores: pgh.stores, control: await control(pgPrefix) });
  const sshPrefix = `jit-ssh-${run}:`;
  sshh = await startSshHarness({ demoShell: { access: 'jit', guardrails: [{ name: 'rm-needs-approval', command: 'rm', action: 'approve' }] }, control: await control(sshPrefix) });
  sshWeb = await startHubWithLogin({ dataDir: sshh.dir, targets: sshh.config.targets, bus: sshh.bus, stores: sshh.stores, control: await control(sshPrefix) });
  [alice, aaron, sshAlice, sshAaron] = await Promise.all([apiAs(pgWeb.hub.url, 'alice'), apiAs(pgWeb.hub.url, 'aaron'), apiAs(sshWeb.hub.url, 'alice'), apiAs(sshWeb.hub.url, 'aaron')]);
});

afterAll(async () => {
  await pgWeb?.stop();
  await sshWeb?.stop();
  await pgh?.stop();
  await sshh?.stop();
  for (const c of controls) await c.close();
});

/** alice's open requests (newest first). */
async function pending(api: ApiCall, scope: 'connect' | 'statement') {
  const { body } = await api('GET', '/api/access-requests?status=pending');
  return (body.requests as Array<{ id: number; scope: string; user: string; statement: string | null }>).filter((r) => r.scope === scope);
}

async function grantFor(api: ApiCall, approver: ApiCall, duration?: string): Promise<number> {
  const asked = await api('POST', '/api/access-requests', { target: 'pg', reason: 'INC-42 investigate', ...(duration ? { duration } : {}) });
  expect(asked.status).toBe(201);
  const approved = await approver('POST', `/api/access-requests/${asked.body.request.id}/approve`, {});
  expect(approved.body.request.status).toBe('granted');
  return asked.body.request.id as number;
}


describe('just-in-time access to PostgreSQL', () => {
  it('when alice connects without a grant, then psql gets a FATAL naming the request; once aaron approves it, she connects', async () => {
    const first = await pgh.psql(['-c', 'select 1 as one']);
    expect(first.code).not.toBe(0);
    const m = /request #(\d+) is waiting for an approver/.exec(first.stderr);
    expect(m, first.stderr).not.toBeNull();
    const id = Number(m![1]);
    // Asking again finds the same open request.
    expect((await pgh.psql(['-c', 'select 1'])).stderr).toContain(`request #${id} is waiting`);
    expect((await pending(alice, 'connect')).map((r) => r.id)).toEqual([id]);

    // Not hers to approve, and engineers cannot decide.
    expect((await alice('POST', `/api/access-requests/${id}/approve`, {})).status).toBe(403);
    const approved = await aaron('POST', `/api/access-requests/${id}/approve`, { comment: 'ok for the incident' });
    expect(approved.status).toBe(200);
    expect(approved.body.request).toMatchObject({ status: 'granted', decisions: [{ approver: 'aaron', decision: 'approve' }] });

    const second = await pgh.psql(['-t', '-A', '-c', 'select 1 as one']);
    expect(second.stderr).toBe('');
    expect(second.stdout.trim()).toBe('1');
    const session = await pgh.sessionWhere((e) => e.type === 'access' && e.data.action === 'granted' && e.data.requestId === id);
    expect(ofType(session, 'access')).toMatchObject([{ data: { action: 'granted', requestId: id, by: 'aaron' } }]);

    const audit = await pgh.stores.access.auditLog({ requestId: id });
    expect(audit.map((a) => a.action).reverse()).toEqual(['access.requested', 'access.approved', 'access.granted']);
    // Revoked for the next tests' sake, by its holder.
    expect((await alice('POST', `/api/access-requests/${id}/revoke`, {})).status).toBe(200);
  });

  it('when aaron revokes the grant during SELECT pg_sleep(60), then psql gets a FATAL with the revocation and the recording says revoked', async () => {
    const id = await grantFor(alice, aaron);
    const psql = spawn('psql', ['-X', '-c', 'select pg_sleep(60)', await pgh.uri('alice')]);
    let stderr = '';
    psql.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number>((resolve) => psql.on('close', (code) => resolve(code ?? -1)));
    const sessionId = await liveSessionOf(pgh.store, 'alice');
    const revoked = await aaron('POST', `/api/access-requests/${id}/revoke`, { reason: 'incident closed' });
    expect(revoked.status).toBe(200);
    expect(await exited).not.toBe(0);
    expect(stderr).toContain(`access grant #${id} was revoked by aaron: incident closed`);
    // The statement it was running is cancelled on the target too, not left to run on.
    const direct = new pg.Client({ connectionString: pgh.directUrl });
    await direct.connect();
    try {
      await expect.poll(async () => (await direct.query(`select count(*)::int as n from pg_stat_activity where query = 'select pg_sleep(60)' and state = 'active'`)).rows[0].n, { timeout: 3_000 }).toBe(0);
    } finally {
      await direct.end();
    }
    const end = await pgh.sessionWhere((e) => e.type === 'session.end' && e.sessionId === sessionId);
    expect(end.at(-1)).toMatchObject({ data: { reason: 'revoked' } });
    // Revoked means no new sessions either, and reconnecting at once (psql's reset) opens no new
    // request "(no reason: opened by connecting)" in the approvers' inbox: she asks again in words.
    const again = await pgh.psql(['-c', 'select 1']);
    expect(again.stderr).toContain(`access grant #${id} for pg was revoked by aaron; reconnecting does not ask again`);
    expect(await pending(aaron, 'connect')).toEqual([]);
  });

  it('when the grant runs out, then the live session ends with a message saying it expired', async () => {
    const id = await grantFor(alice, aaron, '3s');
    const client = await pgh.client('alice');
    const errors: Error[] = [];
    client.on('error', (err) => errors.push(err));
    const ended = new Promise<void>((resolve) => client.once('end', () => resolve()));
    await client.query('select 1');
    await ended;
    expect(errors.map((e) => e.message).join()).toContain(`access grant #${id} expired`);
    const sessionId = (await pgh.store.listSessions({ user: 'alice' }))[0].id;
    const end = await pgh.sessionWhere((e) => e.type === 'session.end' && e.sessionId === sessionId);
    expect(end.at(-1)).toMatchObject({ data: { reason: 'grant_expired' } });
    await expect.poll(async () => (await alice('GET', `/api/access-requests/${id}`)).body.request.status, { timeout: 10_000 }).toBe('expired');
    // Connecting again right away (as psql's reset does) is refused without a new request.
    const again = await pgh.psql(['-c', 'select 1']);
    expect(again.stderr).toContain(`access grant #${id} for pg has expired; reconnecting does not ask again`);
    expect(await pending(aaron, 'connect')).toEqual([]);
    // Asked for in words, it is an ordinary request again.
    const asked = await alice('POST', '/api/access-requests', { target: 'pg', reason: 'one more look' });
    expect(asked.status).toBe(201);
    expect((await pgh.psql(['-c', 'select 1'])).stderr).toContain(`request #${asked.body.request.id} is waiting`);
    expect((await aaron('POST', `/api/access-requests/${asked.body.request.id}/deny`, { comment: 'not now' })).status).toBe(200);
  });

  it('when a DROP TABLE is held, then it runs once approved, and after a denial it fails with the table still there', async () => {
    const id = await grantFor(alice, aaron);
    const client = await pgh.client('alice');
    try {
      // Approved: the statement runs.
      const dropped = client.query('drop table held_t');
      await expect.poll(async () => (await pending(aaron, 'statement')).length, { timeout: 10_000 }).toBe(1);
      const [held] = await pending(aaron, 'statement');
      expect(held).toMatchObject({ user: 'alice', statement: 'drop table held_t' });
      expect((await alice('POST', `/api/access-requests/${held.id}/approve`, {})).status).toBe(403);
      expect((await aaron('POST', `/api/access-requests/${held.id}/approve`, {})).status).toBe(200);
      await dropped;

      // Denied: an error, and the session goes on.
      const refused = client.query('drop table kept_t').then(() => null, (err: Error) => err);
      await expect.poll(async () => (await pending(aaron, 'statement')).length, { timeout: 10_000 }).toBe(1);
      const [second] = await pending(aaron, 'statement');
      expect((await aaron('POST', `/api/access-requests/${second.id}/deny`, { comment: 'not during business hours' })).status).toBe(200);
      const err = await refused;
      expect(err?.message).toContain(`request #${second.id} was denied by aaron: not during business hours`);
      expect((await client.query('select 1 as still_here')).rows).toEqual([{ still_here: 1 }]);
    } finally {
      await client.end();
    }
    const direct = new pg.Client({ connectionString: pgh.directUrl });
    await direct.connect();
    const tables = (await direct.query(`select table_name from information_schema.tables where table_name in ('held_t', 'kept_t')`)).rows.map((r) => r.table_name);
    await direct.end();
    expect(tables).toEqual(['kept_t']);
    const session = await pgh.sessionWhere((e) => e.type === 'access' && e.data.action === 'held');
    expect(ofType(session, 'access').map((e) => e.data.action)).toEqual(['granted', 'held', 'approved', 'held', 'denied']);
    expect(ofType(session, 'guardrail.hit').map((e) => e.data)).toMatchObject([{ action: 'approve', rule: 'drops-need-approval' }, { action: 'approve' }]);
    // The hits are in the audit log too, with the statements as recorded.
    const audited = (await pgh.stores.access.auditLog({ limit: 1000 })).filter((a) => a.action === 'guardrail.held');
    expect(audited.map((a) => a.detail.statement).reverse()).toEqual(['drop table held_t', 'drop table kept_t']);
    expect(audited[0]).toMatchObject({ actor: 'alice', target: 'pg' });
    await aaron('POST', `/api/access-requests/${id}/revoke`, {});
  });
});

describe('held statements and the client going away', () => {
  it('when the client leaves while its statement is held, then the session ends at once and the statement never runs', async () => {
    const id = await grantFor(alice, aaron);
    const client = await pgh.client('alice');
    client.on('error', () => undefined);
    void client.query('drop table kept_t').catch(() => undefined);
    await expect.poll(async () => (await pending(aaron, 'statement')).length, { timeout: 10_000 }).toBe(1);
    const sessionId = (await pgh.store.listSessions({ user: 'alice', live: true }))[0].id;
    // It says goodbye (Terminate) and closes its side, mid-wait: read at once, not after the decision.
    (client as unknown as { connection: { stream: { end(b: Buffer): void } } }).connection.stream.end(Buffer.from([0x58, 0, 0, 0, 4]));
    const end = await pgh.sessionWhere((e) => e.type === 'session.end' && e.sessionId === sessionId, 10_000);
    expect(end.at(-1)?.type).toBe('session.end');
    // Approving it now runs nothing: the session is gone.
    const [held] = await pending(aaron, 'statement');
    await aaron('POST', `/api/access-requests/${held.id}/approve`, {});
    const direct = new pg.Client({ connectionString: pgh.directUrl });
    await direct.connect();
    const left = (await direct.query(`select count(*)::int as n from information_schema.tables where table_name = 'kept_t'`)).rows[0].n;
    await direct.end();
    expect(left).toBe(1);
    await aaron('POST', `/api/access-requests/${id}/revoke`, {});
  });
});

describe('just-in-time access over SSH', () => {
  it('when alice opens a shell without a grant, then she reads "waiting for approval (request #N)", goes on once approved, and is cut off when revoked', async () => {
    const { stream, closed, shown } = await openShellThroughAgent(sshh, 'alice', 'demo-shell');
    await expect.poll(shown, { timeout: 10_000 }).toMatch(/waiting for approval \(request #\d+\)/);
    const id = Number(/request #(\d+)/.exec(shown())![1]);
    expect((await sshAaron('POST', `/api/access-requests/${id}/approve`, {})).status).toBe(200);
    await expect.poll(shown, { timeout: 10_000 }).toContain(`request #${id} was granted by aaron`);
    stream.write('echo working-$((6*7))\r');
    await expect.poll(shown, { timeout: 10_000 }).toContain('working-42');

    expect((await sshAlice('POST', `/api/access-requests/${id}/approve`, {})).status).toBe(403);
    expect((await sshAaron('POST', `/api/access-requests/${id}/revoke`, { reason: 'done' })).status).toBe(200);
    await closed;
    expect(shown()).toContain(`vigil: access grant #${id} was revoked by aaron: done`);
  });

  it('when a command an approve rule holds is run, then the client waits with the request number and the command runs once approved', async () => {
    const asked = await sshAlice('POST', '/api/access-requests', { target: 'demo-shell', reason: 'cleanup' });
    expect((await sshAaron('POST', `/api/access-requests/${asked.body.request.id}/approve`, {})).status).toBe(200);
    const conn = new ssh2.Client();
    await new Promise<void>((resolve, reject) => {
      conn.once('ready', () => resolve()).once('error', reject);
      void sshh.token('alice', 'demo-shell').then((password) => conn.connect({ host: '127.0.0.1', port: sshh.port, username: 'demo-shell', password }));
    });
    try {
      const stream = await new Promise<ClientChannel>((resolve, reject) => conn.exec('rm -f no-such-file && echo removed', (err, s) => (err ? reject(err) : resolve(s))));
      let out = '';
      let err = '';
      stream.on('data', (d: Buffer) => (out += d));
      stream.stderr.on('data', (d: Buffer) => (err += d));
      const code = new Promise<number>((resolve) => stream.on('exit', (c: number) => resolve(c)));
      await expect.poll(() => err, { timeout: 10_000 }).toMatch(/guardrail rm-needs-approval holds this for approval: waiting for approval \(request #\d+\)/);
      const id = Number(/request #(\d+)/.exec(err)![1]);
      expect(out).toBe('');
      expect((await sshAaron('POST', `/api/access-requests/${id}/approve`, {})).status).toBe(200);
      expect(await code).toBe(0);
      expect(out).toBe('removed\n');
    } finally {
      conn.end();
    }
  });
});

describe('failing closed', () => {
  it('when no hub answers the agent, then a connection to a jit target is refused with a message saying so', async () => {
    // An agent whose control bus no hub serves (a prefix of its own).
    const lonely = await startHarness({ postgresUrl: inject('postgresUrl'), control: await control(`jit-lonely-${run}:`), target: { access: 'jit' } });
    try {
      const res = await lonely.psql(['-c', 'select 1']);
      expect(res.code).not.toBe(0);
      expect(res.stderr).toContain('no access request could be opened (no Vigil hub answered');
    } finally {
      await lonely.stop();
    }
  });
});
