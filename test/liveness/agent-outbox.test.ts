// Nothing the client saw is lost when the agent dies: with Redis away, statements the client saw
// complete exist only in the agent's outbox on disk; the agent is killed with SIGKILL, Redis comes
// back (empty), the agent starts again and sends them, and ends the session the old process held
// (`agent_restarted`, its own end, not the hub's).
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startAgentProcessRig, type AgentProcessRig } from '../support/agent-process-rig.ts';
import { startRedis, type RedisInstance } from '../support/services.ts';

let redis: RedisInstance;
let rig: AgentProcessRig;

beforeAll(async () => {
  redis = await startRedis();
  rig = await startAgentProcessRig({ redisUrl: redis.url, postgresUrl: inject('postgresUrl') });
});

afterAll(async () => {
  await rig?.stop();
  await redis?.stop();
});

describe('the agent outbox', () => {
  it('when the agent is killed while Redis is away, then every statement its client saw arrives once it starts again, and the session ends agent_restarted', async () => {
    const agent = await rig.startAgent();
    const { client, sessionId } = await rig.connect();
    await redis.halt();
    const seen: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await client.query(`select 'while-redis-away-${i}' as v`);
      seen.push(r.rows[0].v);
    }
    expect(seen).toHaveLength(5);
    await rig.killHard(agent);
    await redis.start();
    await rig.startAgent();
    await expect.poll(() => rig.endOf(sessionId), { timeout: 30_000, interval: 250 }).toMatchObject({
      type: 'session.end', data: { reason: 'agent_restarted' },
    });
    const events = (await rig.store.readEvents(sessionId)).map((e) => e.event);
    const sql = events.flatMap((e) => (e.type === 'db.query' ? [e.data.sql] : []));
    for (let i = 0; i < 5; i++) expect(sql).toContain(`select 'while-redis-away-${i}' as v`);
    expect(events.filter((e) => e.type === 'db.result')).toHaveLength(6);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    const end = events.at(-1)!;
    expect(end.type === 'session.end' && end.data.writtenBy).toBeUndefined();
    expect(await rig.store.getSession(sessionId)).toMatchObject({ endReason: 'agent_restarted' });
  });
});
