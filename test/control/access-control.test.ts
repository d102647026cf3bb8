// The access side of the control bus, as a contract both transports keep (in-process, and Redis
// with the hub and the agent on connections of their own): request states are kept and a person's
// grant for a target is read from them (a newer grant survives an older request's end, a grant
// ends on time), agents' requests reach a serving hub and come back with its receipt, and with no
// hub serving they fail in time. Over Redis, a reading side that cannot reach Redis fails quickly
// instead of hanging (the agent then refuses: fail closed).
import crypto from 'node:crypto';
import net from 'node:net';
import { describe, expect, inject, it } from 'vitest';
import type { AccessDraft, AccessReceipt, AccessState, ControlBus, ControlMessage } from '../../common/control/control-bus.ts';
import { createInProcessControlBus } from '../../common/control/in-process-control-bus.ts';
import { createRedisControlBus } from '../../common/control/redis-control-bus.ts';
import { freePort } from '../support/free-port.ts';
import { startRedis } from '../support/services.ts';

type Pair = { hub: ControlBus; agent: ControlBus; close: () => Promise<void> };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const inMs = (ms: number) => new Date(Date.now() + ms).toISOString();

function state(requestId: number, fields: Partial<AccessState> = {}): AccessState {
  return { kind: 'access', requestId, scope: 'connect', user: 'alice', target: 'pg', status: 'granted', expiresAt: inMs(3_600_000), by: 'aaron', at: new Date().toISOString(), ...fields };
}

/** How long a call takes to settle, and how. */
async function timed<T>(call: () => Promise<T>): Promise<{ ms: number; value?: T; error?: Error }> {
  const start = Date.now();
  try {
    const value = await call();
    return { ms: Date.now() - start, value };
  } catch (error) {
    return { ms: Date.now() - start, error: error as Error };
  }
}

const draft: AccessDraft = { scope: 'connect', user: 'alice', target: 'pg', sessionId: 'sess-1', client: '10.1.2.3:5555' };

describe.each([
  ['in-process', async (): Promise<Pair> => { const bus = createInProcessControlBus(); return { hub: bus, agent: bus, close: () => bus.close() }; }],
  ['Redis', async (): Promise<Pair> => {
    // Hub and agent each with their own connection, as on separate machines; one fresh key prefix.
    const prefix = `access-contract-${crypto.randomUUID()}:`;
    const hub = await createRedisControlBus(inject('redisUrl'), prefix);
    const agent = await createRedisControlBus(inject('redisUrl'), prefix);
    return { hub, agent, close: async () => { await hub.close(); await agent.close(); } };
  }],
])('access over the control bus (%s)', (_name, make) => {
  it('when a granted state is published, then subscribers hear it, grantFor returns it and accessStates keeps it', async () => {
    const { hub, agent, close } = await make();
    try {
      const heard: ControlMessage[] = [];
      const unsubscribe = await agent.subscribe((m) => heard.push(m));
      const grant = state(11);
      await hub.publish(grant);
      expect(await agent.grantFor('alice', 'pg')).toEqual(grant);
      expect(await agent.accessStates([11, 12])).toEqual([grant]);
      expect(await agent.accessStates([])).toEqual([]);
      await expect.poll(() => heard, { timeout: 5_000 }).toEqual([grant]);
      // Nobody else's, no other target's.
      expect(await agent.grantFor('bob', 'pg')).toBeNull();
      expect(await agent.grantFor('alice', 'other')).toBeNull();
      // A held statement's approval is no grant to connect.
      await hub.publish(state(13, { scope: 'statement', user: 'bob', expiresAt: undefined }));
      expect(await agent.grantFor('bob', 'pg')).toBeNull();
      expect((await agent.accessStates([13]))[0]).toMatchObject({ scope: 'statement', status: 'granted' });
      await unsubscribe();
    } finally {
      await close();
    }
  });

  it('when a grant is revoked, then it is gone, while an older request\'s end leaves a newer grant for the same person and target in force', async () => {
    const { hub, agent, close } = await make();
    try {
      await hub.publish(state(21));
      const revoked = state(21, { status: 'revoked', expiresAt: new Date().toISOString(), by: 'aaron', reason: 'done' });
      await hub.publish(revoked);
      expect(await agent.grantFor('alice', 'pg')).toBeNull();
      expect(await agent.accessStates([21])).toEqual([revoked]);

      // Grant 22, then grant 23 for the same person and target; 22 ends: 23 stays.
      await hub.publish(state(22));
      const newer = state(23);
      await hub.publish(newer);
      expect(await agent.grantFor('alice', 'pg')).toEqual(newer);
      await hub.publish(state(22, { status: 'revoked', expiresAt: new Date().toISOString() }));
      expect(await agent.grantFor('alice', 'pg')).toEqual(newer);
      await hub.publish(state(22, { status: 'expired' }));
      // A new request of theirs (pending, then denied) does not touch it either.
      await hub.publish(state(24, { status: 'pending', expiresAt: undefined, by: undefined }));
      await hub.publish(state(24, { status: 'denied', expiresAt: undefined }));
      expect(await agent.grantFor('alice', 'pg')).toEqual(newer);
      // Its own end does.
      await hub.publish(state(23, { status: 'expired' }));
      expect(await agent.grantFor('alice', 'pg')).toBeNull();
    } finally {
      await close();
    }
  });

  it('when a grant\'s time is up, then grantFor no longer returns it, though its state is still kept', async () => {
    const { hub, agent, close } = await make();
    try {
      const short = state(31, { expiresAt: inMs(2000) });
      await hub.publish(short);
      expect(await agent.grantFor('alice', 'pg')).toEqual(short);
      await sleep(2300);
      expect(await agent.grantFor('alice', 'pg')).toBeNull();
      expect(await agent.accessStates([31])).toEqual([short]);
      // Published already ended (a restatement racing the end): never in force.
      const ended = state(32, { user: 'bob', expiresAt: inMs(-1000) });
      await hub.publish(ended);
      expect(await agent.grantFor('bob', 'pg')).toBeNull();
    } finally {
      await close();
    }
  });

  it('when a hub serves access requests, then an agent\'s request reaches it and the agent gets its receipt', async () => {
    const { hub, agent, close } = await make();
    try {
      const got: AccessDraft[] = [];
      const stop = await hub.serveAccessRequests(async (d) => {
        got.push(d);
        return { requestId: 41, status: 'pending' };
      });
      try {
        expect(await agent.requestAccess(draft, 3000)).toEqual({ requestId: 41, status: 'pending' });
        expect(got).toEqual([draft]);
        const held: AccessDraft = { scope: 'statement', user: 'alice', target: 'pg', sessionId: 'sess-2', statement: 'drop table t', rule: 'drops' };
        expect(await agent.requestAccess(held, 3000)).toEqual({ requestId: 41, status: 'pending' });
        expect(got).toEqual([draft, held]);
      } finally {
        await stop();
      }
    } finally {
      await close();
    }
  });

  it('when the serving hub fails to open a request, then the agent gets an error receipt saying why', async () => {
    const { hub, agent, close } = await make();
    try {
      const stop = await hub.serveAccessRequests(async () => { throw new Error('the store is down'); });
      try {
        const receipt: AccessReceipt | Error = await agent.requestAccess(draft, 3000).catch((err: Error) => err);
        expect(receipt).toEqual({ error: 'the store is down' });
      } finally {
        await stop();
      }
    } finally {
      await close();
    }
  });

  it('when no hub serves access requests, then requestAccess rejects within its timeout', async () => {
    const { agent, close } = await make();
    try {
      // Not a whole number of seconds on purpose; 500 ms is room for a loaded machine.
      const timeoutMs = 1500;
      const { ms, error } = await timed(() => agent.requestAccess(draft, timeoutMs));
      expect(error).toBeInstanceOf(Error);
      expect(ms).toBeLessThan(timeoutMs + 500);
    } finally {
      await close();
    }
  });

  it('when the serving hub does not answer in time, then requestAccess rejects within its timeout rather than wait for it', async () => {
    const { hub, agent, close } = await make();
    let answer: () => void = () => undefined;
    const answered = new Promise<void>((resolve) => (answer = resolve));
    try {
      const stop = await hub.serveAccessRequests(async () => {
        await answered;
        return { requestId: 71, status: 'pending' };
      });
      try {
        const timeoutMs = 2000;
        const settled = timed(() => agent.requestAccess(draft, timeoutMs));
        // Answers (too late) once the agent should have given up, so that nothing waits forever.
        setTimeout(answer, timeoutMs + 3000).unref();
        const { ms, error, value } = await settled;
        expect(error, `answered ${JSON.stringify(value)} after ${ms} ms`).toBeInstanceOf(Error);
        expect(ms).toBeLessThan(timeoutMs + 500);
      } finally {
        answer();
        await stop();
      }
    } finally {
      await close();
    }
  });

  it('when the hub stops serving, then it no longer answers and the agent\'s request rejects', async () => {
    const { hub, agent, close } = await make();
    try {
      let calls = 0;
      const stop = await hub.serveAccessRequests(async () => ({ requestId: ++calls, status: 'pending' }));
      expect(await agent.requestAccess(draft, 3000)).toEqual({ requestId: 1, status: 'pending' });
      await stop();
      const { error } = await timed(() => agent.requestAccess(draft, 1500));
      expect(error).toBeInstanceOf(Error);
      await sleep(300);
      expect(calls).toBe(1);
    } finally {
      await close();
    }
  });
});

/** A TCP relay to Redis that can go silent (the connection stays up, nothing gets through) or drop everything. */
async function relayTo(redisPort: number) {
  const port = await freePort();
  const sockets = new Set<net.Socket>();
  let silent = false;
  const server = net.createServer((client) => {
    const upstream = net.connect({ port: redisPort, host: '127.0.0.1' });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => { sockets.delete(s); client.destroy(); upstream.destroy(); });
    }
    client.on('data', (d) => { if (!silent) upstream.write(d); });
    upstream.on('data', (d) => { if (!silent) client.write(d); });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
  return {
    url: `redis://127.0.0.1:${port}`,
    goSilent: () => { silent = true; },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('access over the control bus (Redis) when Redis cannot be reached', () => {
  it('when Redis is gone, then grantFor, accessStates and requestAccess reject at once instead of waiting for it', async () => {
    const redis = await startRedis();
    const prefix = `access-down-${crypto.randomUUID()}:`;
    const hub = await createRedisControlBus(redis.url, prefix);
    const agent = await createRedisControlBus(redis.url, prefix);
    try {
      await hub.publish(state(51));
      expect(await agent.grantFor('alice', 'pg')).toMatchObject({ requestId: 51 });
      await redis.stop();
      await sleep(300);
      const calls: Array<() => Promise<unknown>> = [() => agent.grantFor('alice', 'pg'), () => agent.accessStates([51]), () => agent.requestAccess(draft, 3000)];
      for (const call of calls) {
        const { ms, error, value } = await timed(call);
        expect(error, `answered ${JSON.stringify(value)}`).toBeInstanceOf(Error);
        expect(ms).toBeLessThan(500);
      }
    } finally {
      await hub.close();
      await agent.close();
    }
  });

  it('when Redis stops answering on a live connection, then grantFor and accessStates reject within a few seconds instead of hanging', async () => {
    const relay = await relayTo(Number(new URL(inject('redisUrl')).port));
    const prefix = `access-silent-${crypto.randomUUID()}:`;
    const hub = await createRedisControlBus(inject('redisUrl'), prefix);
    const agent = await createRedisControlBus(relay.url, prefix);
    try {
      await hub.publish(state(61));
      expect(await agent.grantFor('alice', 'pg')).toMatchObject({ requestId: 61 });
      relay.goSilent();
      const calls: Array<() => Promise<unknown>> = [() => agent.grantFor('alice', 'pg'), () => agent.accessStates([61])];
      for (const call of calls) {
        const { ms, error, value } = await timed(call);
        expect(error, `answered ${JSON.stringify(value)}`).toBeInstanceOf(Error);
        expect(ms).toBeLessThan(3500);
      }
    } finally {
      // Dropped first: a graceful close would wait for replies that never come.
      await relay.close();
      await sleep(100);
      await hub.close();
      await agent.close();
    }
  });
});
