// Who saw what, through the hub's API on a real store: every opening of a recording (the player,
// an export, a verify, a share) is an audit entry naming who, how and through what; a person
// without access gets 404 and a refusal on record; the session's "viewed by" list and a
// reviewer's "what did this person view" read those entries.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ViewEntry } from '../../common/api-contract.ts';
import { silentLogger } from '../../common/log.ts';
import { ensureSigningKey, TokenSigner, TokenVerifier } from '../../common/tokens.ts';
import { createApiApp } from '../../server/http/app.ts';
import { RecordingVerifier } from '../../server/recordings/trust/recording-verifier.ts';
import { createMemoryStore, type HubStores } from '../../server/store/create-store.ts';
import { AccessService } from '../../server/access/access-service.ts';
import { createInProcessControlBus } from '../../common/control/in-process-control-bus.ts';
import { parseConfig } from '../../common/config/load-config.ts';
import { serveApp, type ServedApp } from '../support/serve-app.ts';
import { fakeSession } from './event-fixtures.ts';

let stores: HubStores;
let served: ServedApp;
let access: AccessService;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-views-'));
const tokens: Record<string, string> = {};
const bobs = fakeSession({ user: 'bob', target: 'payments', queries: 2, chained: true });

async function call(method: string, who: string, p: string, body?: unknown) {
  const res = await fetch(`${served.url}${p}`, {
    method,
    headers: { authorization: `Bearer ${tokens[who]}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text && res.headers.get('content-type')?.startsWith('application/json') ? JSON.parse(text) : text };
}
const get = (who: string, p: string) => call('GET', who, p);
const shown = (views: ViewEntry[]) => views.map((v) => `${v.who} ${v.how} ${v.via}`);

beforeAll(async () => {
  stores = await createMemoryStore({ logger: silentLogger });
  const keys = ensureSigningKey(dir);
  const signer = await TokenSigner.fromPem(keys.privateKeyPem);
  for (const [who, role] of [['carol', 'reviewer'], ['bob', 'engineer'], ['dave', 'engineer'], ['ada', 'admin'], ['aaron', 'approver']]) tokens[who] = await signer.apiToken(who, role);
  const recordingKeys = await stores.openRecordingKeys(dir);
  const config = parseConfig({ dataDir: dir, targets: [{ name: 'payments', protocol: 'postgres', listen: '127.0.0.1:15432' }] });
  access = new AccessService({ config, store: stores.access, control: createInProcessControlBus(), logger: silentLogger });
  served = await serveApp(createApiApp({
    stores, verifier: await TokenVerifier.fromPem(keys.publicKeyPem), logger: silentLogger, access,
    trust: { verifier: new RecordingVerifier(stores.manifests, recordingKeys), keys: recordingKeys },
  }));
  await stores.recordings.append(bobs.events);
});

afterAll(async () => {
  await access?.stop();
  await served?.close();
  await stores?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('who saw what', () => {
  const id = bobs.sessionId;

  it('when people open a recording in the player, export it and verify it, then each opening is on record with how and through what', async () => {
    expect((await get('carol', `/api/sessions/${id}/timeline`)).status).toBe(200);
    expect((await get('carol', `/api/sessions/${id}/export?format=jsonl`)).status).toBe(200);
    expect((await get('ada', `/api/sessions/${id}/verify`)).status).toBe(200);
    expect((await get('bob', `/api/sessions/${id}/timeline`)).status).toBe(200);
    // Reading a page of events or the summary again is not another opening.
    expect((await get('carol', `/api/sessions/${id}/events`)).status).toBe(200);

    const viewed = await get('bob', `/api/sessions/${id}/views`);
    expect(viewed.status).toBe(200);
    expect(shown(viewed.json.views)).toEqual(['bob replay own', 'ada verify admin', 'carol export reviewer', 'carol replay reviewer']);
    expect(viewed.json.views[0]).toMatchObject({ sessionId: id, target: 'payments', origin: expect.any(String), at: expect.any(String) });
  });

  it('when someone without access asks for the recording, then it does not exist for them, and the attempt is on record', async () => {
    for (const route of ['', '/timeline', '/events', '/export?format=jsonl', '/verify', '/views']) {
      const res = await get('dave', `/api/sessions/${id}${route}`);
      expect(res.status, route).toBe(404);
      expect(JSON.stringify(res.json)).not.toContain('bob');
    }
    const refused = (await stores.access.auditLog({ sessionId: id, actor: 'dave', actions: ['session.refused'] })).map((e) => (e.detail as { how: string }).how);
    expect(refused.sort()).toEqual(['export', 'read', 'read', 'read', 'replay', 'verify']);
  });

  it('when a recording is shared, then a view through the share names the share', async () => {
    const share = await call('POST', 'bob', `/api/sessions/${id}/shares`, { users: ['dave'], expiresInHours: 1 });
    expect(share.status).toBe(201);
    expect((await get('dave', `/api/sessions/${id}/timeline`)).status).toBe(200);
    const [latest] = (await get('bob', `/api/sessions/${id}/views`)).json.views as ViewEntry[];
    expect(latest).toMatchObject({ who: 'dave', how: 'replay', via: 'share', shareId: share.json.share.id });
  });

  it('when a reviewer asks what a person viewed, then every session they opened is listed; an engineer may not ask', async () => {
    const carol = await get('ada', '/api/views?user=carol');
    expect(carol.status).toBe(200);
    expect(carol.json.views.map((v: ViewEntry) => `${v.sessionId} ${v.how}`)).toEqual([`${id} export`, `${id} replay`]);
    expect((await get('bob', '/api/views?user=carol')).status).toBe(403);
    expect((await get('carol', '/api/views')).status).toBe(400);
  });

  it('when someone asks to read a recording and an approver grants it for a while, then they may open it (audited through the grant) until it is revoked', async () => {
    expect((await get('erin', `/api/sessions/${id}/timeline`)).status).toBe(401);
    const asked = await call('POST', 'dave', '/api/access-requests', { scope: 'recording', target: 'payments', sessionId: id, reason: 'INC-3: review what bob ran', duration: '30m' });
    expect(asked.status).toBe(201);
    expect(asked.json.request).toMatchObject({ scope: 'recording', status: 'pending', sessionId: id });
    // Dave's share of this session was revoked by nobody: he saw it through the share; take that away first.
    for (const share of (await get('bob', `/api/sessions/${id}/shares`)).json.shares) await call('DELETE', 'bob', `/api/shares/${share.id}`);
    expect((await get('dave', `/api/sessions/${id}/timeline`)).status).toBe(403);
    expect((await call('POST', 'aaron', `/api/access-requests/${asked.json.request.id}/approve`, {})).json.request.status).toBe('granted');
    expect((await get('dave', `/api/sessions/${id}/timeline`)).status).toBe(200);
    const [latest] = (await get('bob', `/api/sessions/${id}/views`)).json.views as ViewEntry[];
    expect(latest).toMatchObject({ who: 'dave', how: 'replay', via: 'grant' });
    expect((await call('POST', 'aaron', `/api/access-requests/${asked.json.request.id}/revoke`, { reason: 'review done' })).status).toBe(200);
    expect((await get('dave', `/api/sessions/${id}/events`)).status).toBe(403);
    expect((await call('POST', 'dave', '/api/access-requests', { scope: 'recording', target: 'payments', reason: '' })).status).toBe(400);
  });
});
