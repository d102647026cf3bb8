// Refused logins at the agent reach the audit log with their source address (the agent is a real
// `vigil agent` process; its reports travel through Redis to the hub), and an address that keeps
// failing is refused at once, its flood audited with a count.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startAgentProcessRig, type AgentProcessRig } from '../support/agent-process-rig.ts';

let rig: AgentProcessRig;

beforeAll(async () => {
  rig = await startAgentProcessRig({ redisUrl: inject('redisUrl'), postgresUrl: inject('postgresUrl') });
  await rig.startAgent();
});

afterAll(async () => {
  await rig?.stop();
});

async function login(password: string): Promise<string> {
  const client = new pg.Client({ host: '127.0.0.1', port: rig.agentPort, user: 'mallory', password, database: 'pg' });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.end();
    return 'connected';
  } catch (err) {
    return (err as Error).message;
  }
}

describe('refused logins at the agent', () => {
  it('when a login is refused, then the audit log says who claimed what, from where and why; past the budget the address is refused at once', async () => {
    const expired = await rig.signer.connectionToken('mallory', 'pg', -1000);
    expect(await login(expired)).toMatch(/expired/);
    await expect.poll(async () => (await rig.stores.access.auditLog({ limit: 50 })).find((a) => a.action === 'login.refused'), { timeout: 15_000 }).toMatchObject({
      actor: 'mallory', target: 'pg', origin: expect.stringMatching(new RegExp(`^${rig.agentId} 127\\.0\\.0\\.1:\\d+$`)),
      detail: { protocol: 'postgres', reason: expect.stringMatching(/expired/) },
    });
    const audited = JSON.stringify(await rig.stores.access.auditLog({ limit: 50 }));
    expect(audited).not.toContain(expired);

    // 20 failures a minute by default: the 21st attempt is not even read.
    for (let i = 0; i < 19; i++) expect(await login('not-a-token')).toMatch(/not a valid Vigil token/);
    expect(await login('not-a-token')).toMatch(/too many failed logins from this address/);
    const good = await rig.signer.connectionToken('mallory', 'pg', 60_000);
    expect(await login(good)).toMatch(/too many failed logins from this address/);
    await expect.poll(async () => (await rig.stores.access.auditLog({ limit: 100 })).filter((a) => a.action === 'login.rate_limited').length, { timeout: 15_000 }).toBe(1);
    expect((await rig.stores.access.auditLog({ limit: 100 })).filter((a) => a.action === 'login.refused')).toHaveLength(20);
  });
});
