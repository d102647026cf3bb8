// A kill that sticks: a reviewer locks a user, a token or a target through the hub's API; the
// agents get the list over the control bus (Redis) and end what it matches at once, with the
// lock's message (real psql, real OpenSSH through ssh2); a new login is refused with the same
// message, as psql's reset after a kill would be, until the lock is lifted.
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import type { ControlBus } from '../../common/control/control-bus.ts';
import { createRedisControlBus } from '../../common/control/redis-control-bus.ts';
import { startHarness, type Harness } from '../support/agent-harness.ts';
import { liveSessionOf } from '../support/recordings.ts';
import { startHubWithLogin, type HubWithLogin } from '../support/dashboard-browser.ts';
import { apiAs } from '../support/oidc-login-client.ts';
import { openShellThroughAgent, startSshHarness, type SshHarness } from '../support/ssh-harness.ts';

vi.setConfig({ testTimeout: 60_000, hookTimeout: 120_000 });

const keyPrefix = `locks-test-${process.pid}-${Date.now()}:`;
let agentControl: ControlBus;
let hubControl: ControlBus;
let pgh: Harness;
let sshh: SshHarness;
let web: HubWithLogin;

beforeAll(async () => {
  agentControl = await createRedisControlBus(inject('redisUrl'), keyPrefix);
  hubControl = await createRedisControlBus(inject('redisUrl'), keyPrefix);
  pgh = await startHarness({ postgresUrl: inject('postgresUrl'), control: agentControl });
  // One hub (one store of locks) for both agents: hubs of one deployment share their store.
  web = await startHubWithLogin({ dataDir: pgh.config.dataDir, targets: pgh.config.targets, bus: pgh.bus, stores: pgh.stores, control: hubControl });
  sshh = await startSshHarness({ demoShell: true, control: agentControl });
});

afterAll(async () => {
  await web?.stop();
  await pgh?.stop();
  await sshh?.stop();
  await agentControl?.close();
  await hubControl?.close();
});

/** psql with the command, to its end: exit code and stderr. */
function psql(uri: string, sql: string): { exited: Promise<{ code: number; stderr: string }> } {
  const child = spawn('psql', ['-X', '-At', '-c', sql, uri]);
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  return { exited: new Promise((resolve) => child.on('close', (code) => resolve({ code: code ?? -1, stderr }))) };
}


/** The jti inside a connection URI's token (its password). */
const jtiOf = (uri: string) => JSON.parse(Buffer.from(decodeURIComponent(new URL(uri).password).split('.')[1], 'base64url').toString()).jti as string;

describe('locks: a kill that sticks', () => {
  it('when a reviewer locks a user, then their running psql ends with the lock\'s message, the same login is refused until the lock is lifted', async () => {
    const uri = await pgh.uri('alice');
    const running = psql(uri, 'select pg_sleep(60)');
    const sessionId = await liveSessionOf(pgh.store, 'alice');

    const rita = await apiAs(web.hub.url, 'rita');
    const made = await rita('POST', '/api/locks', { user: 'alice', reason: 'INC-7: stolen laptop' });
    expect(made.status).toBe(201);
    const lock = (made.body as { lock: { id: string } }).lock;
    const message = `alice is locked by rita: INC-7: stolen laptop (lock ${lock.id}, until it is lifted)`;
    const ended = await running.exited;
    expect(ended.code).not.toBe(0);
    expect(ended.stderr).toContain(message);
    const events = await pgh.sessionWhere((e) => e.type === 'session.end' && e.sessionId === sessionId);
    expect(events.at(-1)).toMatchObject({ data: { reason: 'locked', message } });

    // What psql's reset does: the same URI again.
    const again = await psql(uri, 'select 1').exited;
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain(message);
    expect((await pgh.store.listSessions({ user: 'alice', live: true })).length).toBe(0);
    // Another user on the same target is not locked.
    expect((await psql(await pgh.uri('bob'), 'select 1').exited).code).toBe(0);

    expect((await rita('DELETE', `/api/locks/${lock.id}`)).status).toBe(200);
    await expect.poll(async () => (await psql(uri, 'select 1').exited).code, { timeout: 10_000 }).toBe(0);
  });

  it('when a token is locked, then that token is refused and a new one of the same user gets in', async () => {
    const uri = await pgh.uri('alice');
    const ada = await apiAs(web.hub.url, 'ada');
    const made = await ada('POST', '/api/locks', { token: jtiOf(uri), reason: 'pasted in a ticket' });
    expect(made.status).toBe(201);
    await expect.poll(async () => (await psql(uri, 'select 1').exited).stderr, { timeout: 10_000 }).toContain('this connection token is locked by ada: pasted in a ticket');
    expect((await psql(await pgh.uri('alice'), 'select 1').exited).code).toBe(0);
    expect((await ada('DELETE', `/api/locks/${(made.body as { lock: { id: string } }).lock.id}`)).status).toBe(200);
  });

  it('when a whole SSH target is locked, then an open shell there ends with the lock\'s message, and a new login reads it', async () => {
    const { stream, closed, shown } = await openShellThroughAgent(sshh, 'alice', 'demo-shell');
    stream.write('echo working\r');
    await expect.poll(shown, { timeout: 10_000 }).toContain('working');

    const rita = await apiAs(web.hub.url, 'rita');
    const made = await rita('POST', '/api/locks', { target: 'demo-shell', ttl: '1h', reason: 'host under investigation' });
    expect(made.status).toBe(201);
    await closed;
    expect(shown()).toContain('target demo-shell is locked by rita: host under investigation');

    const next = await openShellThroughAgent(sshh, 'alice', 'demo-shell');
    await next.closed;
    expect(next.shown()).toContain('target demo-shell is locked by rita: host under investigation');
    expect((await rita('DELETE', `/api/locks/${(made.body as { lock: { id: string } }).lock.id}`)).status).toBe(200);
  });
});

describe('locks: strict targets', () => {
  it('when a strict target\'s agent has no fresh list of locks, then it takes no new session; a fresh list lets them in', async () => {
    const prefix = `locks-strict-${process.pid}-${Date.now()}:`;
    const agentSide = await createRedisControlBus(inject('redisUrl'), prefix);
    const hubSide = await createRedisControlBus(inject('redisUrl'), prefix);
    const strict = await startHarness({ postgresUrl: inject('postgresUrl'), control: agentSide, target: { locks: 'strict', locksMaxAge: '3s' } });
    try {
      const uri = await strict.uri('alice');
      // No hub has published a list yet: a lock made meanwhile could not have reached the agent.
      const before = await psql(uri, 'select 1').exited;
      expect(before.code).not.toBe(0);
      expect(before.stderr).toContain('pg takes no new sessions now: its locks are strict and this agent has not received the list of locks');

      await hubSide.publish({ kind: 'locks', at: new Date().toISOString(), locks: [] });
      await vi.waitFor(async () => expect((await psql(uri, 'select 1').exited).code).toBe(0), { timeout: 10_000, interval: 200 });

      // The hub goes quiet: past locksMaxAge the list is too old to trust.
      await vi.waitFor(async () => {
        const after = await psql(uri, 'select 1').exited;
        expect(after.stderr).toMatch(/has not heard the list of locks for \d+ s/);
      }, { timeout: 15_000, interval: 500 });
    } finally {
      await strict.stop();
      await agentSide.close();
      await hubSide.close();
    }
  });
});

describe('locks: on a just-in-time target', () => {
  it('when a locked user connects to a jit target, then she reads the lock and no access request reaches the approvers; lifted, connecting asks again', async () => {
    const prefix = `locks-jit-${process.pid}-${Date.now()}:`;
    const agentSide = await createRedisControlBus(inject('redisUrl'), prefix);
    const hubSide = await createRedisControlBus(inject('redisUrl'), prefix);
    const jit = await startHarness({ postgresUrl: inject('postgresUrl'), control: agentSide, target: { access: 'jit' } });
    const hub = await startHubWithLogin({ dataDir: jit.config.dataDir, targets: jit.config.targets, bus: jit.bus, stores: jit.stores, control: hubSide });
    try {
      const rita = await apiAs(hub.hub.url, 'rita');
      const aaron = await apiAs(hub.hub.url, 'aaron');
      const made = await rita('POST', '/api/locks', { user: 'alice', reason: 'INC-11: under review' });
      expect(made.status).toBe(201);
      const uri = await jit.uri('alice');
      await vi.waitFor(async () => {
        expect((await psql(uri, 'select 1').exited).stderr).toContain('alice is locked by rita: INC-11: under review');
      }, { timeout: 10_000, interval: 200 });
      const inbox = await aaron('GET', '/api/access-requests?status=pending');
      expect(inbox.body.requests).toEqual([]);

      expect((await rita('DELETE', `/api/locks/${made.body.lock.id}`)).status).toBe(200);
      await vi.waitFor(async () => {
        expect((await psql(uri, 'select 1').exited).stderr).toMatch(/request #\d+ is waiting for an approver/);
      }, { timeout: 10_000, interval: 200 });
    } finally {
      await hub.stop();
      await jit.stop();
      await agentSide.close();
      await hubSide.close();
    }
  });
});

describe('a revoked agent', () => {
  it('when an admin revokes an agent, then its running sessions end saying so and it takes no new one', async () => {
    const uri = await pgh.uri('alice');
    const running = psql(uri, 'select pg_sleep(60)');
    await liveSessionOf(pgh.store, 'alice');
    const ada = await apiAs(web.hub.url, 'ada');
    // The harness's agent (agent-1) keeps its key in the hub's data directory: the hub enrolled it.
    expect(((await ada('GET', '/api/agents')).body as { agents: Array<{ id: string; status: string }> }).agents).toEqual(expect.arrayContaining([expect.objectContaining({ id: 'agent-1', status: 'enrolled' })]));
    expect((await ada('POST', '/api/agents/agent-1/revoke', { reason: 'host decommissioned' })).status).toBe(200);
    const message = 'the Vigil agent agent-1 is no longer trusted (host decommissioned; revoked by ada): it takes no sessions';
    const ended = await running.exited;
    expect(ended.stderr).toContain(message);
    expect((await psql(uri, 'select 1').exited).stderr).toContain(message);
  });
});
