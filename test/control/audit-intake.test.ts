// The agents' audit reports on the control bus, as a contract both transports keep: what an agent
// reports reaches one serving hub, in order; a batch the hub fails to write comes back and is
// written later; reports made while no hub serves wait for one; with two hubs serving each entry
// is written once.
import crypto from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import type { AgentAuditEntry, ControlBus } from '../../common/control/control-bus.ts';
import { createInProcessControlBus } from '../../common/control/in-process-control-bus.ts';
import { createRedisControlBus } from '../../common/control/redis-control-bus.ts';

type Trio = { hubs: [ControlBus, ControlBus]; agent: ControlBus; close: () => Promise<void> };

const entry = (i: number): AgentAuditEntry => ({
  at: new Date().toISOString(), agent: 'a1', action: 'login.refused', protocol: 'ssh', client: `10.0.0.${i}:22`, reason: `bad token ${i}`,
});

describe.each([
  ['in-process', async (): Promise<Trio> => { const bus = createInProcessControlBus(); return { hubs: [bus, bus], agent: bus, close: () => bus.close() }; }],
  ['Redis', async (): Promise<Trio> => {
    const prefix = `audit-contract-${crypto.randomUUID()}:`;
    const [a, b, agent] = await Promise.all([0, 1, 2].map(() => createRedisControlBus(inject('redisUrl'), prefix)));
    return { hubs: [a, b], agent, close: async () => { await Promise.all([a, b, agent].map((c) => c.close())); } };
  }],
])('audit reports over the control bus (%s)', (_name, make) => {
  it('when an agent reports before any hub serves, then the first hub to serve writes them in order', async () => {
    const { hubs, agent, close } = await make();
    try {
      await agent.reportAudit([entry(1), entry(2)]);
      await agent.reportAudit([entry(3)]);
      const written: AgentAuditEntry[] = [];
      const stop = await hubs[0].serveAudit(async (batch) => void written.push(...batch));
      await expect.poll(() => written.map((e) => e.reason), { timeout: 5000 }).toEqual(['bad token 1', 'bad token 2', 'bad token 3']);
      await stop();
    } finally {
      await close();
    }
  });

  it('when the hub fails to write a batch, then it comes back and is written later', async () => {
    const { hubs, agent, close } = await make();
    try {
      let failures = 1;
      const written: AgentAuditEntry[] = [];
      const stop = await hubs[0].serveAudit(async (batch) => {
        if (failures-- > 0) throw new Error('store down');
        written.push(...batch);
      });
      await agent.reportAudit([entry(1), entry(2)]);
      await expect.poll(() => written.map((e) => e.reason), { timeout: 10_000 }).toEqual(['bad token 1', 'bad token 2']);
      await stop();
    } finally {
      await close();
    }
  });

  it('when two hubs serve, then each entry is written once', async () => {
    const { hubs, agent, close } = await make();
    try {
      const written: string[] = [];
      const stops = await Promise.all(hubs.map((h) => h.serveAudit(async (batch) => void written.push(...batch.map((e) => e.reason)))));
      for (let i = 0; i < 300; i++) await agent.reportAudit([entry(i)]);
      await expect.poll(() => written.length, { timeout: 10_000 }).toBe(300);
      expect(new Set(written).size).toBe(300);
      for (const stop of stops) await stop();
    } finally {
      await close();
    }
  });
});
