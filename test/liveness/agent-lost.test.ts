// Every session ends, with a reason, when its agent cannot end it: the agent runs as its own
// process (`vigil agent`) and is killed with SIGKILL while a client is connected. The hub (its
// SessionReaper) finds the agent's lease gone and ends the session in the recording
// (`agent_lost`), or finds a new run of the agent that does not hold it (`agent_restarted`).
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startAgentProcessRig, type AgentProcessRig } from '../support/agent-process-rig.ts';

let rig: AgentProcessRig;

beforeAll(async () => {
  rig = await startAgentProcessRig({ redisUrl: inject('redisUrl'), postgresUrl: inject('postgresUrl') });
});

afterAll(async () => {
  await rig?.stop();
});

describe('sessions whose agent cannot end them', () => {
  it('when the agent is killed with SIGKILL, then the hub ends its session in the recording (agent_lost), with the audit', async () => {
    const agent = await rig.startAgent();
    const { client, sessionId, errors } = await rig.connect();
    await rig.killHard(agent);
    await expect.poll(() => rig.endOf(sessionId), { timeout: 20_000, interval: 250 }).toMatchObject({
      type: 'session.end', data: { reason: 'agent_lost', writtenBy: 'hub', missing: 0 },
    });
    const summary = await rig.store.getSession(sessionId);
    expect(summary).toMatchObject({ endReason: 'agent_lost' });
    expect(summary!.persistedSeq).toBe(summary!.lastSeq);
    const audit = await rig.stores.access.auditLog({ limit: 20 });
    expect(audit.find((a) => a.sessionId === sessionId)).toMatchObject({ actor: 'vigil-hub', action: 'session.agent_lost' });
    // The client saw its connection go with the agent.
    await expect(client.query('select 1')).rejects.toThrow();
    expect(errors).not.toEqual([]);
  });

  it('when the agent is killed and started again at once without its outbox, then the hub ends what the old run held (agent_restarted)', async () => {
    const agent = await rig.startAgent();
    const { sessionId } = await rig.connect();
    // "At once" means within the old run's lease. How long a new run takes to start depends on
    // the machine's load, so the hub's check waits until the new run holds the lease: the reason
    // is then read from what the hub sees, not from a race with the clock.
    await rig.hub.reaper.stop();
    const before = (await rig.control.readLeases([rig.agentId])).leases.get(rig.agentId);
    expect(before).toBeDefined();
    await rig.killHard(agent);
    // Its disk lost with it: the new run knows nothing of the old one's sessions (with the outbox,
    // it ends them itself: agent-outbox.test.ts). The hub sees a new run that does not hold them.
    fs.rmSync(rig.outboxDir, { recursive: true, force: true });
    await rig.startAgent();
    await expect.poll(async () => (await rig.control.readLeases([rig.agentId])).leases.get(rig.agentId)?.instance, { timeout: 15_000 })
      .not.toBeOneOf([undefined, before?.instance]);
    rig.hub.reaper.start();
    await expect.poll(() => rig.endOf(sessionId), { timeout: 20_000, interval: 250 }).toMatchObject({
      type: 'session.end', data: { reason: 'agent_restarted', writtenBy: 'hub' },
    });
    // The new run serves: a new session records, and ends as its client ends it.
    const next = await rig.connect();
    expect(await rig.endOf(next.sessionId)).toBeUndefined();
    await next.client.end();
    await expect.poll(() => rig.endOf(next.sessionId), { timeout: 15_000 }).toMatchObject({ data: { reason: 'client_terminate' } });
  });
});
