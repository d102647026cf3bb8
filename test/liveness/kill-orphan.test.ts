// "Kill session" on a session whose agent is gone: no agent can carry out the order, so the hub
// ends the session in the recording and says so (200 with endedInRecording), rather than a 202
// after which nothing happens. The hub's own lease check is slowed down here so that the kill,
// not the check, is what ends it.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startAgentProcessRig, type AgentProcessRig } from '../support/agent-process-rig.ts';

let rig: AgentProcessRig;

beforeAll(async () => {
  rig = await startAgentProcessRig({ redisUrl: inject('redisUrl'), postgresUrl: inject('postgresUrl'), reaperEveryMs: 3_600_000 });
});

afterAll(async () => {
  await rig?.stop();
});

async function kill(sessionId: string) {
  const token = await rig.signer.apiToken('rita', 'reviewer');
  const res = await fetch(`${rig.hub.url}/api/sessions/${sessionId}/kill`, {
    method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ reason: 'incident 7' }),
  });
  return { status: res.status, body: await res.json() as Record<string, unknown> };
}

describe('killing a session whose agent is gone', () => {
  it('when a reviewer kills a session whose agent was killed, then the hub ends it in the recording and says so', async () => {
    const agent = await rig.startAgent();
    const { sessionId } = await rig.connect();
    await rig.killHard(agent);
    // The lease lapses a few seconds after the agent died.
    await expect.poll(async () => (await rig.control.readLeases([rig.agentId])).leases.size, { timeout: 20_000 }).toBe(0);
    const answer = await kill(sessionId);
    expect(answer).toMatchObject({ status: 200, body: { killed: sessionId, endedInRecording: true } });
    await expect.poll(() => rig.endOf(sessionId), { timeout: 15_000 }).toMatchObject({
      data: { reason: 'killed', writtenBy: 'hub', message: expect.stringContaining('ended by rita: incident 7') },
    });
    expect((await kill(sessionId)).status).toBe(409);
  });

  it('when the agent is alive, then a kill is an order to it (202) and the agent ends the session', async () => {
    await rig.startAgent();
    const { sessionId } = await rig.connect();
    expect((await kill(sessionId)).status).toBe(202);
    await expect.poll(() => rig.endOf(sessionId), { timeout: 15_000 }).toMatchObject({ data: { reason: 'killed' } });
    expect((await rig.endOf(sessionId))!.data).not.toHaveProperty('writtenBy');
  });
});
