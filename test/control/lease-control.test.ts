// Agent leases on the control bus, as a contract both transports keep (in-process, and Redis with
// hub and agent on connections of their own): a renewed lease is read back until it lapses, agents
// that held one are known afterwards, the sessions a hub ended for an agent reach it once with its
// next renewal, and the lease store says since when it has been continuous (a Redis that lost its
// data lost every lease with it).
import crypto from 'node:crypto';
import { createClient } from 'redis';
import { describe, expect, inject, it } from 'vitest';
import type { AgentLease, ControlBus } from '../../common/control/control-bus.ts';
import { createInProcessControlBus } from '../../common/control/in-process-control-bus.ts';
import { createRedisControlBus } from '../../common/control/redis-control-bus.ts';

type Pair = { hub: ControlBus; agent: ControlBus; prefix: string; close: () => Promise<void> };

const lease = (agent: string, sessions: Record<string, number> = {}): AgentLease => ({
  agent, instance: crypto.randomUUID(), startedAt: new Date().toISOString(), at: new Date().toISOString(), sessions,
});

describe.each([
  ['in-process', async (): Promise<Pair> => { const bus = createInProcessControlBus(); return { hub: bus, agent: bus, prefix: '', close: () => bus.close() }; }],
  ['Redis', async (): Promise<Pair> => {
    const prefix = `lease-contract-${crypto.randomUUID()}:`;
    const hub = await createRedisControlBus(inject('redisUrl'), prefix);
    const agent = await createRedisControlBus(inject('redisUrl'), prefix);
    return { hub, agent, prefix, close: async () => { await hub.close(); await agent.close(); } };
  }],
])('agent leases over the control bus (%s)', (name, make) => {
  it('when an agent renews its lease, then hubs read it until it lapses, and the agent stays known', async () => {
    const { hub, agent, close } = await make();
    try {
      const mine = lease('a1', { s1: 4 });
      await agent.renewLease(mine, 300);
      const view = await hub.readLeases(['a1', 'a2']);
      expect(view.leases.get('a1')).toEqual(mine);
      expect(view.leases.has('a2')).toBe(false);
      expect([...view.known]).toEqual(['a1']);
      expect(view.since).toBeLessThanOrEqual(Date.now());
      await expect.poll(async () => (await hub.readLeases(['a1'])).leases.size, { timeout: 5_000 }).toBe(0);
      expect([...(await hub.readLeases(['a1'])).known]).toEqual(['a1']);
      expect((await hub.readLeases([])).leases.size).toBe(0);
    } finally {
      await close();
    }
  });

  it('when a hub ends sessions of an agent, then its next renewal answers them once', async () => {
    const { hub, agent, close } = await make();
    try {
      await hub.markEndedByHub('a1', ['s1', 's2']);
      await hub.markEndedByHub('a1', ['s2', 's3']);
      await hub.markEndedByHub('a1', []);
      expect((await agent.renewLease(lease('a1'), 5000)).endedByHub.sort()).toEqual(['s1', 's2', 's3']);
      expect((await agent.renewLease(lease('a1'), 5000)).endedByHub).toEqual([]);
      expect((await agent.renewLease(lease('a2'), 5000)).endedByHub).toEqual([]);
    } finally {
      await close();
    }
  });

  it.runIf(name === 'Redis')('when Redis loses its data, then the lease store is continuous only since then', async () => {
    const { hub, agent, prefix, close } = await make();
    const raw = createClient({ url: inject('redisUrl') });
    await raw.connect();
    try {
      await agent.renewLease(lease('a1'), 5000);
      const first = (await hub.readLeases(['a1'])).since;
      await new Promise((r) => setTimeout(r, 20));
      expect((await hub.readLeases(['a1'])).since).toBe(first);
      // As after a restart without persistence: this deployment's keys are gone.
      const keys = await raw.keys(`${prefix}*`);
      if (keys.length) await raw.del(keys);
      const after = await hub.readLeases(['a1']);
      expect(after.leases.size).toBe(0);
      expect(after.since).toBeGreaterThan(first);
    } finally {
      await raw.quit();
      await close();
    }
  });
});
