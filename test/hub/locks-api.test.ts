// Locks through the hub's API on a real app and store: security creates, lists and lifts them,
// every step audited; the agents' list on the control bus follows at once; nobody else may touch
// them, and a malformed lock is a 400 naming the field.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInProcessControlBus } from '../../common/control/in-process-control-bus.ts';
import type { ControlBus } from '../../common/control/control-bus.ts';
import type { LockList } from '../../common/locks.ts';
import { silentLogger } from '../../common/log.ts';
import { ensureSigningKey, TokenSigner, TokenVerifier } from '../../common/tokens.ts';
import { createApiApp } from '../../server/http/app.ts';
import { LockService } from '../../server/locks/lock-service.ts';
import { createMemoryStore, type HubStores } from '../../server/store/create-store.ts';
import { serveApp, type ServedApp } from '../support/serve-app.ts';

let stores: HubStores;
let control: ControlBus;
let locks: LockService;
let served: ServedApp;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-locks-'));
const tokens: Record<string, string> = {};
const published: LockList[] = [];

async function call(method: string, who: string, p: string, body?: unknown) {
  const res = await fetch(`${served.url}${p}`, {
    method,
    headers: { authorization: `Bearer ${tokens[who]}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}

beforeAll(async () => {
  stores = await createMemoryStore({ logger: silentLogger });
  control = createInProcessControlBus();
  await control.subscribe((m) => { if (m.kind === 'locks') published.push(m); });
  locks = new LockService({ store: stores.locks, audit: stores.access, control, logger: silentLogger });
  const keys = ensureSigningKey(dir);
  const signer = await TokenSigner.fromPem(keys.privateKeyPem);
  for (const [who, role] of [['rita', 'reviewer'], ['ada', 'admin'], ['bob', 'engineer'], ['aaron', 'approver']]) tokens[who] = await signer.apiToken(who, role);
  served = await serveApp(createApiApp({ stores, verifier: await TokenVerifier.fromPem(keys.publicKeyPem), logger: silentLogger, control, locks }));
});

afterAll(async () => {
  await served?.close();
  await control?.close();
  await stores?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('locks through the API', () => {
  it('when security locks a user for an hour, then the agents\' list has it at once, it is listed and audited, and lifting it clears the list', async () => {
    const created = await call('POST', 'rita', '/api/locks', { user: 'bob', target: 'payments', ttl: '1h', reason: 'INC-7: stolen laptop' });
    expect(created.status).toBe(201);
    const lock = created.json.lock;
    expect(lock).toMatchObject({ user: 'bob', target: 'payments', token: null, by: 'rita', reason: 'INC-7: stolen laptop', state: 'in force', liftedAt: null });
    expect(Date.parse(lock.expiresAt) - Date.parse(lock.createdAt)).toBeGreaterThan(3_590_000);
    await expect.poll(() => published.at(-1)?.locks.map((l) => l.id)).toEqual([lock.id]);
    expect(await control.locks()).toMatchObject({ kind: 'locks', locks: [{ id: lock.id, user: 'bob', target: 'payments', by: 'rita', expiresAt: lock.expiresAt }] });
    expect((await call('GET', 'ada', '/api/locks')).json.locks.map((l: { id: string }) => l.id)).toContain(lock.id);

    const lifted = await call('DELETE', 'ada', `/api/locks/${lock.id}`);
    expect(lifted.status).toBe(200);
    expect(lifted.json.lock).toMatchObject({ id: lock.id, state: 'lifted', liftedBy: 'ada' });
    await expect.poll(() => published.at(-1)?.locks.map((l) => l.id)).toEqual([]);
    expect((await call('DELETE', 'ada', `/api/locks/${lock.id}`)).status).toBe(409);
    expect((await call('GET', 'rita', '/api/locks')).json.locks.map((l: { id: string }) => l.id)).not.toContain(lock.id);
    expect((await call('GET', 'rita', '/api/locks?all=true')).json.locks.find((l: { id: string }) => l.id === lock.id)).toMatchObject({ state: 'lifted' });

    const audit = (await stores.access.auditLog({ limit: 50 })).filter((a) => a.detail.lock === lock.id).map((a) => `${a.actor} ${a.action}`);
    expect(audit).toEqual(expect.arrayContaining(['rita lock.created', 'ada lock.lifted']));
  });

  it('when a lock names a token, or a whole target until lifted, then it is kept as such', async () => {
    const token = await call('POST', 'ada', '/api/locks', { token: 'jti-123', reason: 'leaked in a ticket' });
    const target = await call('POST', 'rita', '/api/locks', { target: 'payments', reason: 'incident bridge: nobody in' });
    expect(token.json.lock).toMatchObject({ token: 'jti-123', user: null, target: null, expiresAt: null });
    expect(target.json.lock).toMatchObject({ target: 'payments', user: null, expiresAt: null });
    await expect.poll(() => published.at(-1)?.locks.map((l) => l.id)).toEqual([token.json.lock.id, target.json.lock.id]);
    for (const id of [token.json.lock.id, target.json.lock.id]) expect((await call('DELETE', 'rita', `/api/locks/${id}`)).status).toBe(200);
  });

  it('when an engineer or an approver tries, then locks are neither listed, made nor lifted', async () => {
    const made = await call('POST', 'rita', '/api/locks', { user: 'carol', reason: 'why not' });
    for (const who of ['bob', 'aaron']) {
      expect((await call('GET', who, '/api/locks')).status).toBe(403);
      expect((await call('POST', who, '/api/locks', { user: 'rita', reason: 'payback' })).status).toBe(403);
      expect((await call('DELETE', who, `/api/locks/${made.json.lock.id}`)).status).toBe(403);
    }
    expect((await call('DELETE', 'rita', `/api/locks/${made.json.lock.id}`)).status).toBe(200);
  });

  it('when a lock is malformed, then the answer is a 400 naming what is wrong, and nothing is locked', async () => {
    const before = (await control.locks())?.locks.length ?? 0;
    const cases: Array<[unknown, string]> = [
      [{ reason: 'no one named' }, 'invalid body fields: a lock names a user, a target or a token'],
      [{ user: 'bob' }, '"reason"'],
      [{ user: 'bob', reason: '   ' }, 'needs a reason'],
      [{ user: 'bob', reason: 'x', ttl: '1y' }, '"ttl"'],
      [{ user: 'bob', reason: 'x', ttl: '999d' }, 'between 1s and 366d'],
      [{ user: 'bo\u0000b', reason: 'x' }, '"user"'],
      [{ user: 'bob', reason: 'x', extra: 1 }, 'unknown body field'],
    ];
    for (const [body, message] of cases) {
      const res = await call('POST', 'rita', '/api/locks', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.json.error.message).toContain(message);
    }
    expect((await call('DELETE', 'rita', '/api/locks/not-a-lock')).status).toBe(400);
    expect((await call('DELETE', 'rita', '/api/locks/L-nosuchlock')).status).toBe(404);
    expect((await control.locks())?.locks.length ?? 0).toBe(before);
  });

  it('when the control bus is away, then the lock is still kept and audited, and the next refresh tells the agents', async () => {
    const away = { ...control, publish: () => Promise.reject(new Error('Redis is away')) } as ControlBus;
    const cut = new LockService({ store: stores.locks, audit: stores.access, control: away, logger: silentLogger });
    const lock = await cut.create({ user: 'mallory', by: 'rita', reason: 'while Redis was away' }, null);
    expect(lock.state).toBe('in force');
    expect((await control.locks())?.locks.map((l) => l.id) ?? []).not.toContain(lock.id);
    await locks.publish();
    expect((await control.locks())?.locks.map((l) => l.id)).toContain(lock.id);
    expect((await stores.access.auditLog({ limit: 50 })).some((a) => a.action === 'lock.created' && a.detail.lock === lock.id)).toBe(true);
    await locks.lift(lock.id, 'rita', null);
  });
});
