// Finding things in the audit log: GET /api/audit's filters on both stores (who and what it was done
// to by any part of the name, actions exactly or by prefix, a session, a time range), checked at the
// edge; and the log as it grows, pushed over Socket.IO to reviewers and admins on every hub (two hubs
// on one Redis, the real OpenID provider), never to anyone else.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import type { AuditEntry, AuditListResponse } from '../../common/api-contract.ts';
import { createInProcessBus } from '../../common/bus/in-process-bus.ts';
import { parseConfig } from '../../common/config/load-config.ts';
import { silentLogger } from '../../common/log.ts';
import { ensureSigningKey, TokenSigner, TokenVerifier } from '../../common/tokens.ts';
import type { NewAuditEntry } from '../../server/access/access-store.ts';
import { DEMO_ROLE_MAP } from '../../server/dev-idp/demo-users.ts';
import { startDevIdentityProvider, type DevIdentityProvider } from '../../server/dev-idp/dev-identity-provider.ts';
import { createApiApp } from '../../server/http/app.ts';
import { startHub, type Hub } from '../../server/hub.ts';
import { createMemoryStore, createStore, type HubStores } from '../../server/store/create-store.ts';
import { freePort } from '../support/free-port.ts';
import { liveSocket, loginCookie, type LiveClient } from '../support/live-login.ts';
import { serveApp, type ServedApp } from '../support/serve-app.ts';
import { createFreshDatabase } from './fresh-database.ts';

vi.setConfig({ testTimeout: 60_000, hookTimeout: 180_000 });

const S1 = '11111111-1111-4111-8111-111111111111';
const S2 = '22222222-2222-4222-8222-222222222222';
const entry = (e: Partial<NewAuditEntry> & Pick<NewAuditEntry, 'actor' | 'action' | 'at'>): NewAuditEntry =>
  ({ target: null, requestId: null, sessionId: null, origin: '10.0.0.9', detail: {}, ...e });

// A day of their own (2036-01-01 to 02), so rows the hub writes itself (logins, views) stay out.
const ROWS: Record<string, NewAuditEntry> = {
  killed: entry({ actor: 'Rita.Reviewer', action: 'session.killed', target: 'payments', sessionId: S1, at: '2036-01-01T10:00:00.000Z', detail: { reason: 'INC-7' } }),
  approved: entry({ actor: 'aaron', action: 'access.approved', target: 'payments-eu', at: '2036-01-01T11:00:00.000Z' }),
  viewed: entry({ actor: 'ada', action: 'session.viewed', target: 'pay_roll', sessionId: S2, at: '2036-01-01T12:00:00.000Z' }),
  rotated: entry({ actor: 'ada', action: 'recording_key.rotated', at: '2036-01-01T13:00:00.000Z' }),
  // What `recording_key.` would also match if _ were LIKE's wildcard.
  lookalike: entry({ actor: '50%_off', action: 'recordingXkey.rotated', target: 'pay%roll', at: '2036-01-02T09:00:00.000Z' }),
};
const DAYS = { from: '2036-01-01T00:00:00.000Z', to: '2036-01-03T00:00:00.000Z' };

const ENGINES: Array<[string, () => Promise<{ stores: HubStores; drop(): Promise<void> }>]> = [
  ['PostgreSQL', async () => {
    const db = await createFreshDatabase(inject('postgresUrl'), 'vigil_audit_api');
    return { stores: await createStore({ databaseUrl: db.url, dataDir: os.tmpdir(), logger: silentLogger }), drop: db.drop };
  }],
  ['PGlite', async () => ({ stores: await createMemoryStore(), drop: async () => undefined })],
];

for (const [engine, open] of ENGINES) {
  describe(`GET /api/audit on ${engine}`, () => {
    let stores: HubStores;
    let drop: () => Promise<void>;
    let served: ServedApp;
    const tokens: Record<'rita' | 'alice', string> = { rita: '', alice: '' };
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-audit-api-'));
    const names = new Map<number, string>();

    beforeAll(async () => {
      ({ stores, drop } = await open());
      for (const [name, row] of Object.entries(ROWS)) {
        await stores.access.audit(row);
        names.set(await stores.access.lastAuditId(), name);
      }
      const keys = ensureSigningKey(dir);
      const signer = await TokenSigner.fromPem(keys.privateKeyPem);
      tokens.rita = await signer.apiToken('rita', 'reviewer');
      tokens.alice = await signer.apiToken('alice', 'engineer');
      served = await serveApp(createApiApp({ stores, verifier: await TokenVerifier.fromPem(keys.publicKeyPem), logger: silentLogger }));
    });

    afterAll(async () => {
      await served?.close();
      await stores?.close();
      await drop?.();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    async function audit(query: Record<string, string>, who: keyof typeof tokens = 'rita') {
      const res = await fetch(`${served.url}/api/audit?${new URLSearchParams(query)}`, { headers: { authorization: `Bearer ${tokens[who]}` } });
      return { status: res.status, body: (await res.json()) as AuditListResponse & { error?: { code: string; message: string } } };
    }
    /** The named rows found, newest first. */
    const found = async (query: Record<string, string>) => {
      const { status, body } = await audit({ ...DAYS, ...query });
      expect(status, JSON.stringify(body)).toBe(200);
      return body.entries.map((e) => names.get(e.id) ?? `other ${e.action}`);
    };

    it('when who and what it was done to are given in part, in any case, then they match; % and _ are only themselves', async () => {
      expect(await found({ actor: 'RITA' })).toEqual(['killed']);
      expect(await found({ actor: '%_' })).toEqual(['lookalike']);
      expect(await found({ target: 'PAY' })).toEqual(['lookalike', 'viewed', 'approved', 'killed']);
      expect(await found({ target: 'pay_' })).toEqual(['viewed']);
      expect(await found({ target: 'pay%', actor: 'a' })).toEqual([]);
    });

    it('when an action is given, then it matches exactly, or as a prefix when it ends with a dot', async () => {
      expect(await found({ action: 'session.killed' })).toEqual(['killed']);
      expect(await found({ action: 'session.' })).toEqual(['viewed', 'killed']);
      expect(await found({ action: 'recording_key.' })).toEqual(['rotated']);
      expect(await found({ action: 'Session.Viewed' })).toEqual(['viewed']);
      expect(await found({ action: 'session' })).toEqual([]);
    });

    it('when a session or a time range is given, then only its entries are listed; from is inclusive, to exclusive', async () => {
      expect(await found({ sessionId: S2 })).toEqual(['viewed']);
      expect(await found({ from: '2036-01-01T11:00:00Z', to: '2036-01-01T13:00:00+00:00' })).toEqual(['viewed', 'approved']);
      expect(await found({ from: '2036-01-01T11:00:00.000+01:00', to: '2036-01-01T10:00:00.001Z' })).toEqual(['killed']);
    });

    it('when paged with before and limit, then every entry comes once, newest first', async () => {
      const first = await audit({ ...DAYS, limit: '2' });
      const second = await audit({ ...DAYS, limit: '2', before: String(first.body.entries.at(-1)!.id) });
      const third = await audit({ ...DAYS, limit: '2', before: String(second.body.entries.at(-1)!.id) });
      expect([...first.body.entries, ...second.body.entries, ...third.body.entries].map((e) => names.get(e.id)))
        .toEqual(['lookalike', 'rotated', 'viewed', 'approved', 'killed']);
    });

    it.each([
      ['action=DROP TABLE', 'action'],
      ['action=session..killed', 'action'],
      ['from=yesterday', 'from'],
      ['to=2036-01-01', 'to'],
      ['sessionId=a b', 'sessionId'],
      ['actor=%1b', 'actor'],
      ['from=2036-01-02T00:00:00Z&to=2036-01-01T00:00:00Z', 'from must be before to'],
      ['colour=blue', 'colour'],
      ['limit=0', 'limit'],
    ])('when the query is %s, then 400 names %s', async (query, named) => {
      const res = await fetch(`${served.url}/api/audit?${query.replace('%1b', '%1B')}`, { headers: { authorization: `Bearer ${tokens.rita}` } });
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(res.status).toBe(400);
      expect(body.error.code).toBe('bad_request');
      expect(body.error.message).toContain(named);
    });

    it('when an engineer asks, then 403', async () => {
      expect((await audit({}, 'alice')).status).toBe(403);
    });
  });
}

describe('the audit log, live, on every hub', () => {
  const CLIENT = { clientId: 'vigil-audit-live', clientSecret: 'audit-live-secret' };
  let dataDir: string;
  let idp: DevIdentityProvider;
  let stores: HubStores;
  const hubs: Hub[] = [];
  const sockets: LiveClient[] = [];
  const bus = createInProcessBus();

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-audit-live-'));
    const ports = [await freePort(), await freePort()];
    idp = await startDevIdentityProvider({ port: 0, client: { ...CLIENT, redirectUris: ports.map((p) => `http://127.0.0.1:${p}/auth/callback`) } });
    stores = await createMemoryStore();
    const keyPrefix = `audit-live-${process.pid}-${Date.now()}:`;
    for (const port of ports) {
      const config = parseConfig({
        dataDir,
        redis: { url: inject('redisUrl'), keyPrefix },
        targets: [{ name: 'demo', protocol: 'postgres', listen: '127.0.0.1:15432' }],
        hub: { listen: `127.0.0.1:${port}`, auth: { oidc: { issuer: idp.issuer, clientId: CLIENT.clientId, roles: { map: DEMO_ROLE_MAP } } } },
      });
      hubs.push(await startHub({ config, bus, stores, logger: silentLogger, oidcClientSecret: CLIENT.clientSecret }));
    }
  });

  afterAll(async () => {
    sockets.forEach((s) => s.disconnect());
    for (const hub of hubs) await hub.stop();
    await idp?.stop();
    await stores?.close();
    await bus.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const login = (user: string, hub: Hub) => loginCookie(hub.url, user);

  async function socketOn(hub: Hub, cookie: string): Promise<LiveClient> {
    const socket = await liveSocket(hub.url, cookie);
    sockets.push(socket);
    return socket;
  }

  /** Everything the socket is pushed from now on. */
  function collect(socket: LiveClient): AuditEntry[] {
    const got: AuditEntry[] = [];
    socket.on('audit:entries', (p) => got.push(...p.entries));
    return got;
  }

  it('when a reviewer and an admin follow the log on two hubs, then a row written anywhere reaches both once; an engineer is refused', async () => {
    const [rita, ada, alice] = [await login('rita', hubs[0]), await login('ada', hubs[1]), await login('alice', hubs[0])];
    const ritas = await socketOn(hubs[0], rita.cookie);
    const adas = await socketOn(hubs[1], ada.cookie);
    const alices = await socketOn(hubs[0], alice.cookie);
    const [toRita, toAda, toAlice] = [collect(ritas), collect(adas), collect(alices)];
    const following = new Promise<{ after: number }>((resolve) => ritas.once('audit:following', resolve));

    expect(await ritas.timeout(10_000).emitWithAck('audit:subscribe')).toEqual({ ok: true });
    expect(await adas.timeout(10_000).emitWithAck('audit:subscribe')).toEqual({ ok: true });
    expect(await alices.timeout(10_000).emitWithAck('audit:subscribe')).toMatchObject({ ok: false, error: { code: 'forbidden', message: expect.stringContaining('reviewers and admins') } });
    expect((await following).after).toBeGreaterThanOrEqual(0);
    expect((await following).after).toBeLessThanOrEqual(await stores.access.lastAuditId());

    // One row straight in the shared store (as any hub's writer would), one through the other hub's API.
    await stores.access.audit(entry({ actor: 'vigil-test', action: 'session.killed', target: 'demo', at: new Date().toISOString(), detail: { reason: 'live push' } }));
    const locked = await fetch(`${hubs[1].url}/api/locks`, {
      method: 'POST', headers: { cookie: ada.cookie, 'x-csrf-token': ada.csrf, 'content-type': 'application/json' },
      body: JSON.stringify({ user: 'mallory', reason: 'INC-11' }),
    });
    expect(locked.status).toBe(201);

    const pushed = (got: AuditEntry[]) => got.filter((e) => e.action === 'lock.created' || e.actor === 'vigil-test').map((e) => `${e.actor} ${e.action}`);
    await vi.waitFor(() => expect(pushed(toRita)).toEqual(['vigil-test session.killed', 'ada lock.created']), { timeout: 15_000, interval: 100 });
    await vi.waitFor(() => expect(pushed(toAda)).toEqual(['vigil-test session.killed', 'ada lock.created']), { timeout: 15_000, interval: 100 });
    expect(toRita.find((e) => e.actor === 'vigil-test')?.detail).toEqual({ reason: 'live push' });
    // Each row once, in id order.
    const seen = toRita.map((e) => e.id);
    expect(new Set(seen).size).toBe(seen.length);
    expect([...seen].sort((a, b) => a - b)).toEqual(seen);
    expect(toAlice).toEqual([]);

    // Unsubscribed, nothing more comes.
    expect(await ritas.timeout(10_000).emitWithAck('audit:unsubscribe')).toEqual({ ok: true });
    const before = toRita.length;
    await stores.access.audit(entry({ actor: 'vigil-test', action: 'session.killed', at: new Date().toISOString() }));
    await vi.waitFor(() => expect(toAda.filter((e) => e.actor === 'vigil-test')).toHaveLength(2), { timeout: 15_000, interval: 100 });
    expect(toRita).toHaveLength(before);
  });
});
