// GET /api/sessions/:id/export?format=har on a real (in-memory) store: an HTTP session comes out as
// a HAR 1.2 file, written page by page, and the download is on record as an export.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import validate from 'har-validator';
import type { Har } from 'har-format';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeEvent, type VigilEvent } from '../../common/events/index.ts';
import { silentLogger } from '../../common/log.ts';
import { ensureSigningKey, TokenSigner, TokenVerifier } from '../../common/tokens.ts';
import { createApiApp } from '../../server/http/app.ts';
import { EventScript } from '../../server/recordings/search/test-support.ts';
import { createMemoryStore, type HubStores } from '../../server/store/create-store.ts';
import { serveApp, type ServedApp } from '../support/serve-app.ts';
import { fakeSession } from './event-fixtures.ts';

let stores: HubStores;
let served: ServedApp;
let token: string;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-har-'));

// An HTTP session: a GET answered with JSON, then one that got no answer before the session ended.
const s = new EventScript({ protocol: 'http' });
const web: VigilEvent[] = [s.event('session.start', { upstream: 'https://api.internal:8443', auth: 'bearer', recording: 'required', clientMasking: false }, 0)];
const get = s.nextSeq;
web.push(
  s.event('http.request', { method: 'GET', path: '/v1/customers', query: 'email=[EMAIL]', version: '1.1', headers: [['Authorization', 'Bearer [VIGIL_TOKEN]']] }),
  s.event('http.response', { requestSeq: get, status: 200, headers: [['Content-Type', 'application/json']] }),
  s.event('http.body', { requestSeq: get, direction: 'response', contentType: 'application/json', text: '[{"email":"[EMAIL]"}]', bytes: 21 }),
  s.event('http.end', { requestSeq: get, outcome: 'complete', durationMs: 12, requestBytes: 0, responseBytes: 21 }),
  s.event('http.request', { method: 'GET', path: '/v1/slow', query: '', version: '1.1', headers: [] }),
  s.end(),
);
const postgres = fakeSession();

beforeAll(async () => {
  stores = await createMemoryStore({ logger: silentLogger });
  const keys = ensureSigningKey(dir);
  token = await (await TokenSigner.fromPem(keys.privateKeyPem)).apiToken('rita', 'reviewer');
  served = await serveApp(createApiApp({ stores, verifier: await TokenVerifier.fromPem(keys.publicKeyPem), logger: silentLogger }));
  await stores.recordings.append([...web.map((event) => ({ event, body: encodeEvent(event) })), ...postgres.events]);
});

afterAll(async () => {
  await served?.close();
  await stores?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const fetchHar = (id: string) => fetch(`${served.url}/api/sessions/${id}/export?format=har`, { headers: { authorization: `Bearer ${token}` } });

describe('HAR export through the hub', () => {
  it('when an HTTP session is exported as har, then a valid HAR file of its exchanges is downloaded and the export is on record', async () => {
    const res = await fetchHar(s.sessionId);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(res.headers.get('content-disposition')).toBe(`attachment; filename=vigil-session-${s.sessionId}.har`);
    const har = (await res.json()) as Har;
    await validate.har(har);
    expect(har.log.entries.map((e) => [e.request.url, e.response.status])).toEqual([
      ['https://api.internal:8443/v1/customers?email=[EMAIL]', 200],
      ['https://api.internal:8443/v1/slow', 0],
    ]);
    expect(har.log.entries[0].request.headers).toEqual([{ name: 'Authorization', value: 'Bearer [VIGIL_TOKEN]' }]);
    expect(har.log.entries[0].response.content.text).toBe('[{"email":"[EMAIL]"}]');

    const views = await (await fetch(`${served.url}/api/sessions/${s.sessionId}/views`, { headers: { authorization: `Bearer ${token}` } })).json() as { views: Array<{ who: string; how: string }> };
    expect(views.views).toEqual([expect.objectContaining({ who: 'rita', how: 'export' })]);
  });

  it('when a session without HTTP exchanges is exported as har, then the HAR is valid and empty', async () => {
    const res = await fetchHar(postgres.sessionId);
    expect(res.status).toBe(200);
    const har = (await res.json()) as Har;
    await validate.har(har);
    expect(har.log.entries).toEqual([]);
  });
});
