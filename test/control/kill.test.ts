// Killing a live session from the hub: a reviewer's kill order travels over the control bus
// (Redis) to the agent, which ends the session at once with who and why: psql gets a FATAL in the
// middle of `SELECT pg_sleep(60)`, an SSH shell gets the message on its terminal. An order the
// agent missed (sent while it was away) is found by its periodic check. Only reviewers and admins
// may kill. The control bus behaves the same in memory and over Redis.
import crypto from 'node:crypto';
import { spawn } from 'node:child_process';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import type { ControlBus, ControlMessage } from '../../common/control/control-bus.ts';
import { createInProcessControlBus } from '../../common/control/in-process-control-bus.ts';
import { createRedisControlBus } from '../../common/control/redis-control-bus.ts';
import { startHarness, type Harness } from '../support/agent-harness.ts';
import { liveSessionOf } from '../support/recordings.ts';
import { startHubWithLogin, type HubWithLogin } from '../support/dashboard-browser.ts';
import { apiAs } from '../support/oidc-login-client.ts';
import { openShellThroughAgent, startSshHarness, type SshHarness } from '../support/ssh-harness.ts';

vi.setConfig({ testTimeout: 60_000, hookTimeout: 120_000 });

const keyPrefix = `kill-test-${process.pid}-${Date.now()}:`;
let agentControl: ControlBus;
let hubControl: ControlBus;
let pgh: Harness;
let sshh: SshHarness;
let web: HubWithLogin;
let sshWeb: HubWithLogin;

beforeAll(async () => {
  // The agents and the hubs each have their own connection, as on separate machines.
  agentControl = await createRedisControlBus(inject('redisUrl'), keyPrefix);
  hubControl = await createRedisControlBus(inject('redisUrl'), keyPrefix);
  pgh = await startHarness({ postgresUrl: inject('postgresUrl'), control: agentControl });
  web = await startHubWithLogin({ dataDir: pgh.config.dataDir, targets: pgh.config.targets, bus: pgh.bus, stores: pgh.stores, control: hubControl });
  sshh = await startSshHarness({ demoShell: true, control: agentControl });
  sshWeb = await startHubWithLogin({ dataDir: sshh.dir, targets: sshh.config.targets, bus: sshh.bus, stores: sshh.stores, control: hubControl });
});

afterAll(async () => {
  await web?.stop();
  await sshWeb?.stop();
  await pgh?.stop();
  await sshh?.stop();
  await agentControl?.close();
  await hubControl?.close();
});


describe('killing a live session', () => {
  it('when a reviewer kills a psql session in the middle of a statement, then psql gets a FATAL naming them and the recording says killed', async () => {
    const uri = await pgh.uri('alice');
    const psql = spawn('psql', ['-X', '-c', 'select pg_sleep(60)', uri]);
    let stderr = '';
    psql.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number>((resolve) => psql.on('close', (code) => resolve(code ?? -1)));
    const sessionId = await liveSessionOf(pgh.store, 'alice');

    // Not for engineers or approvers.
    const alice = await apiAs(web.hub.url, 'alice');
    expect((await alice('POST', `/api/sessions/${sessionId}/kill`, {})).status).toBe(403);

    const rita = await apiAs(web.hub.url, 'rita');
    const killed = await rita('POST', `/api/sessions/${sessionId}/kill`, { reason: 'suspicious activity' });
    expect(killed.status).toBe(202);
    expect(await exited).not.toBe(0);
    expect(stderr).toContain('this session was ended by rita: suspicious activity');

    const events = await pgh.sessionWhere((e) => e.type === 'session.end' && e.sessionId === sessionId);
    expect(events.at(-1)).toMatchObject({ type: 'session.end', data: { reason: 'killed', message: 'this session was ended by rita: suspicious activity' } });
    // Ended already: a second kill is refused.
    await expect.poll(async () => (await rita('POST', `/api/sessions/${sessionId}/kill`, {})).status, { timeout: 10_000 }).toBe(409);
  });

  it('when a reviewer kills an SSH shell, then the terminal shows who ended it and the connection closes', async () => {
    const { stream, closed, shown } = await openShellThroughAgent(sshh, 'alice', 'demo-shell');
    stream.write('echo working\r');
    await expect.poll(shown, { timeout: 10_000 }).toContain('working');

    const sessionId = await liveSessionOf(sshh.store, 'alice');
    const ada = await apiAs(sshWeb.hub.url, 'ada');
    expect((await ada('POST', `/api/sessions/${sessionId}/kill`)).status).toBe(202);
    await closed;
    expect(shown()).toContain('vigil: this session was ended by ada');
  });

  it('when the agent missed the order (sent while it was away), then its periodic check still ends the session', async () => {
    const client = await pgh.client('alice');
    client.on('error', () => undefined);
    const ended = new Promise<void>((resolve) => client.once('end', () => resolve()));
    const sessionId = await liveSessionOf(pgh.store, 'alice');
    // The order is kept, but never published: as if the agent had been disconnected.
    const redis = createClient({ url: inject('redisUrl') });
    await redis.connect();
    const order: ControlMessage = { kind: 'kill', sessionId, by: 'rita', at: new Date().toISOString() };
    await redis.set(`${keyPrefix}kill:${sessionId}`, JSON.stringify(order), { EX: 60 });
    await redis.close();
    await ended;
    const events = await pgh.sessionWhere((e) => e.type === 'session.end' && e.sessionId === sessionId);
    expect(events.at(-1)).toMatchObject({ data: { reason: 'killed' } });
  });
});

describe.each([
  ['in-process', async () => { const bus = createInProcessControlBus(); return { sender: bus, receiver: bus, close: () => bus.close() }; }],
  ['Redis', async () => {
    const prefix = `control-contract-${crypto.randomUUID()}:`;
    const sender = await createRedisControlBus(inject('redisUrl'), prefix);
    const receiver = await createRedisControlBus(inject('redisUrl'), prefix);
    return { sender, receiver, close: async () => { await sender.close(); await receiver.close(); } };
  }],
])('the control bus (%s)', (_name, make) => {
  it('when a kill order is published, then subscribers get it and it is kept for those who look later', async () => {
    const { sender, receiver, close } = await make();
    try {
      const got: ControlMessage[] = [];
      const unsubscribe = await receiver.subscribe((m) => got.push(m));
      const order: ControlMessage = { kind: 'kill', sessionId: crypto.randomUUID(), by: 'rita', reason: 'why', at: new Date().toISOString() };
      await sender.publish(order);
      await expect.poll(() => got, { timeout: 5_000 }).toEqual([order]);
      expect(await receiver.killsFor([order.sessionId, 'other'])).toEqual([order]);
      await unsubscribe();
      await sender.publish({ ...order, sessionId: crypto.randomUUID() });
      await new Promise((r) => setTimeout(r, 200));
      expect(got).toHaveLength(1);
    } finally {
      await close();
    }
  });

  it('when a list of locks is published, then subscribers get it, and the last one is kept for agents that start later', async () => {
    const { sender, receiver, close } = await make();
    try {
      expect(await receiver.locks()).toBeNull();
      const got: ControlMessage[] = [];
      const unsubscribe = await receiver.subscribe((m) => got.push(m));
      const first: ControlMessage = {
        kind: 'locks', at: new Date().toISOString(),
        locks: [{ id: 'L1', user: 'bob', by: 'rita', reason: 'INC-7', createdAt: new Date().toISOString() }],
      };
      const second: ControlMessage = { kind: 'locks', at: new Date().toISOString(), locks: [] };
      await sender.publish(first);
      await sender.publish(second);
      await expect.poll(() => got, { timeout: 5_000 }).toEqual([first, second]);
      expect(await receiver.locks()).toEqual(second);
      await unsubscribe();
    } finally {
      await close();
    }
  });
});
