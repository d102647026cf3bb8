// Agent identity over a real Redis: the hub persists only what an enrolled agent signed, and only
// events of sessions that agent served. A forged event written straight into the stream, a batch
// of one agent replayed as another's, an unknown agent's, a revoked agent's: each is refused,
// counted and reported, and none reaches a recording. Enrollment through the hub's API: with a
// one-time token at once, else pending until an admin approves.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { publicKeyPem, signBatch, ensureAgentKey } from '../../common/agent-identity.ts';
import { createRedisBus } from '../../common/bus/redis-bus.ts';
import type { EventBus } from '../../common/bus/event-bus.ts';
import { silentLogger } from '../../common/log.ts';
import { ensureSigningKey, TokenSigner, TokenVerifier } from '../../common/tokens.ts';
import type { AgentRegistry } from '../../server/agents/agent-registry.ts';
import { createApiApp } from '../../server/http/app.ts';
import { Persister } from '../../server/recordings/ingest/persister.ts';
import { createMemoryStore, type HubStores } from '../../server/store/create-store.ts';
import { serveApp, type ServedApp } from '../support/serve-app.ts';
import { fakeSession } from '../hub/event-fixtures.ts';

vi.setConfig({ testTimeout: 30_000 });

const keyPrefix = `agent-id:${crypto.randomBytes(4).toString('hex')}:`;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-agent-id-'));
let bus: EventBus;
let stores: HubStores;
let agents: AgentRegistry;
let persister: Persister;
let served: ServedApp;
let adminToken: string;
const refusals: Array<{ agent: string | null; reason: string; events: number }> = [];
const keyA = ensureAgentKey(dir, 'agent-a');
const keyB = ensureAgentKey(dir, 'agent-b');

/** A session served by `agent`, as its events travel on the bus. */
function sessionOf(agent: string) {
  const s = fakeSession({ user: 'alice', queries: 1, chained: true, agent });
  return { sessionId: s.sessionId, events: s.events.map((e) => ({ sessionId: e.event.sessionId, seq: e.event.seq, body: e.body })) };
}

const stored = async (sessionId: string) => (await stores.recordings.readEvents(sessionId)).length;

beforeAll(async () => {
  bus = await createRedisBus(inject('redisUrl'), { keyPrefix, logger: silentLogger });
  stores = await createMemoryStore();
  agents = stores.createAgentRegistry(silentLogger);
  persister = new Persister({ bus, store: stores.recordings, logger: silentLogger, blockMs: 100, agents, onRefused: (r) => refusals.push(r) });
  persister.start();
  const keys = ensureSigningKey(dir);
  adminToken = await (await TokenSigner.fromPem(keys.privateKeyPem)).apiToken('ada', 'admin');
  served = await serveApp(createApiApp({ stores, verifier: await TokenVerifier.fromPem(keys.publicKeyPem), logger: silentLogger, agents: { registry: agents, onRevoked: () => undefined } }));
});

afterAll(async () => {
  await persister?.stop();
  await served?.close();
  await bus?.close();
  await stores?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function api(method: string, p: string, body?: unknown, auth = true) {
  const res = await fetch(`${served.url}${p}`, {
    method, headers: { ...(auth ? { authorization: `Bearer ${adminToken}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

describe('agent identity', () => {
  it('when an agent enrolls with a one-time token, then it is trusted at once and the token is used up', async () => {
    const { json: made } = await api('POST', '/api/agents/enrollment-tokens', { ttl: '10m' });
    expect(made.token).toMatch(/^vgl-enroll-/);
    const enrolled = await api('POST', '/api/agents/enroll', { id: 'agent-a', publicKey: publicKeyPem(keyA), token: made.token }, false);
    expect(enrolled.status).toBe(200);
    expect(enrolled.json.agent).toMatchObject({ id: 'agent-a', status: 'enrolled', enrolledBy: 'token from ada' });
    const again = await api('POST', '/api/agents/enroll', { id: 'other', publicKey: publicKeyPem(keyB), token: made.token }, false);
    expect(again.status).toBe(403);
    expect(again.json.error.message).toBe('the enrollment token is unknown, used or expired');
  });

  it('when an agent enrolls without a token, then it waits for an admin, and a second key for an enrolled id is refused', async () => {
    const asked = await api('POST', '/api/agents/enroll', { id: 'agent-b', publicKey: publicKeyPem(keyB) }, false);
    expect(asked.status).toBe(202);
    expect(asked.json.agent.status).toBe('pending');
    const stolen = await api('POST', '/api/agents/enroll', { id: 'agent-a', publicKey: publicKeyPem(keyB) }, false);
    expect(stolen.status).toBe(409);
    expect((await api('POST', '/api/agents/agent-b/approve')).json.agent.status).toBe('enrolled');
    expect((await api('GET', '/api/agents')).json.agents.map((a: { id: string; status: string }) => `${a.id} ${a.status}`).sort()).toEqual(['agent-a enrolled', 'agent-b enrolled']);
  });

  it('when an enrolled agent signs its batch, then its events are persisted', async () => {
    const s = sessionOf('agent-a');
    await bus.append(s.events, signBatch('agent-a', keyA, s.events));
    await vi.waitFor(async () => expect(await stored(s.sessionId)).toBe(s.events.length), { timeout: 10_000 });
  });

  it('when an event is written straight into Redis, unsigned or with a made-up signature, then it never reaches a recording', async () => {
    const s = sessionOf('agent-a');
    const redis = createClient({ url: inject('redisUrl') });
    await redis.connect();
    try {
      const packed = s.events.map((e) => `${e.body.length}:${e.body}`).join('');
      await redis.xAdd(`${keyPrefix}events`, '*', { b: packed });
      await redis.xAdd(`${keyPrefix}events`, '*', { b: packed, a: 'agent-a', s: crypto.randomBytes(64).toString('base64') });
    } finally {
      await redis.quit();
    }
    await vi.waitFor(() => expect(refusals.filter((r) => r.agent === null || r.reason.includes('signature'))).toHaveLength(2), { timeout: 10_000 });
    expect(refusals.map((r) => r.reason)).toEqual(expect.arrayContaining(['unsigned: no agent signed this entry', "the signature does not hold for agent agent-a's key"]));
    expect(await stored(s.sessionId)).toBe(0);
    expect(persister.metrics().refused).toBe(s.events.length * 2);
  });

  it('when a batch of one agent is replayed as another\'s, or an agent signs events of another agent\'s session, then it is refused', async () => {
    refusals.length = 0;
    const s = sessionOf('agent-a');
    const proof = signBatch('agent-a', keyA, s.events);
    await bus.append(s.events, { agent: 'agent-b', signature: proof.signature });
    await bus.append(s.events, signBatch('agent-b', keyB, s.events));
    await vi.waitFor(() => expect(refusals).toHaveLength(2), { timeout: 10_000 });
    expect(refusals.map((r) => r.reason)).toEqual(["the signature does not hold for agent agent-b's key", 'agent agent-b signed events of sessions another agent served']);
    expect(await stored(s.sessionId)).toBe(0);
  });

  it('when an agent is unknown or revoked, then its signed batches are refused', async () => {
    refusals.length = 0;
    const stranger = crypto.generateKeyPairSync('ed25519').privateKey;
    const s1 = sessionOf('agent-x');
    await bus.append(s1.events, signBatch('agent-x', stranger, s1.events));
    expect((await api('POST', '/api/agents/agent-b/revoke', { reason: 'host decommissioned' })).json.agent.status).toBe('revoked');
    const s2 = sessionOf('agent-b');
    await bus.append(s2.events, signBatch('agent-b', keyB, s2.events));
    await vi.waitFor(() => expect(refusals).toHaveLength(2), { timeout: 10_000 });
    expect(refusals.map((r) => r.reason)).toEqual(['agent agent-x is not enrolled', 'agent agent-b is revoked']);
    expect(await stored(s1.sessionId) + await stored(s2.sessionId)).toBe(0);
  });

  it('when the trust check fails (the store is away), then the entry is not acknowledged and is persisted once it works again', async () => {
    const flakyBus = await createRedisBus(inject('redisUrl'), { keyPrefix: `${keyPrefix}flaky:`, logger: silentLogger });
    let failures = 2;
    const flaky = { trustOf: async (...args: Parameters<AgentRegistry['trustOf']>) => {
      if (failures-- > 0) throw new Error('store unavailable (test)');
      return agents.trustOf(...args);
    } };
    const p = new Persister({ bus: flakyBus, store: stores.recordings, logger: silentLogger, blockMs: 100, agents: flaky });
    p.start();
    try {
      const s = sessionOf('agent-a');
      await flakyBus.append(s.events, signBatch('agent-a', keyA, s.events));
      await vi.waitFor(async () => expect(await stored(s.sessionId)).toBe(s.events.length), { timeout: 15_000 });
      expect(p.metrics().errors).toBeGreaterThanOrEqual(2);
    } finally {
      await p.stop();
      await flakyBus.close();
    }
  });
});
