import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseConfig } from '../../common/config/load-config.ts';
import { silentLogger } from '../../common/log.ts';
import { ensureSigningKey, TokenSigner, TokenVerifier } from '../../common/tokens.ts';
import { createApiApp } from '../../server/http/app.ts';
import { serveApp, type ServedApp } from '../support/serve-app.ts';
import { createStore, type HubStores } from '../../server/store/create-store.ts';
import type { RecordingStore } from '../../server/recordings/store/recording-store.ts';
import { fakeSession } from './event-fixtures.ts';
import { createFreshDatabase } from './fresh-database.ts';

let stores: HubStores;

let store: RecordingStore;
let served: ServedApp | undefined;
let base: string;
let signer: TokenSigner;
let adminToken: string;
let dropDatabase: () => Promise<void>;
const dirs: string[] = [];

const tempDir = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-api-'));
  dirs.push(dir);
  return dir;
};

async function get(pathAndQuery: string, token: string | null = adminToken) {
  const res = await fetch(`${base}${pathAndQuery}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

// Three ended sessions of alice/bob on two targets an hour apart, and one live session.
const alice1 = fakeSession({ user: 'alice', target: 'demo', start: new Date('2025-01-01T10:00:00.000Z'), queries: 2 });
const bob = fakeSession({ user: 'bob', target: 'billing', start: new Date('2025-01-01T11:00:00.000Z') });
const alice2 = fakeSession({ user: 'alice', target: 'billing', start: new Date('2025-01-01T12:00:00.000Z') });
const live = fakeSession({ user: 'carol', target: 'demo', start: new Date('2025-01-01T13:00:00.000Z'), ended: false, queries: 3 });

beforeAll(async () => {
  const db = await createFreshDatabase(inject('postgresUrl'), 'vigil_api');
  dropDatabase = db.drop;
  stores = await createStore({ databaseUrl: db.url, dataDir: tempDir(), logger: silentLogger });
  store = stores.recordings;
  await store.append([...alice1.events, ...bob.events, ...alice2.events, ...live.events]);

  const keys = ensureSigningKey(tempDir());
  signer = await TokenSigner.fromPem(keys.privateKeyPem);
  adminToken = await signer.apiToken('operator', 'admin');
  const app = createApiApp({
    stores, verifier: await TokenVerifier.fromPem(keys.publicKeyPem), logger: silentLogger, metrics: () => ({ answered: true }),
    targets: { config: parseConfig({ dataDir: tempDir(), targets: [{ name: 'demo', protocol: 'postgres', listen: '127.0.0.1:15432' }] }), signer, tokenTtlMs: 60_000 },
  });
  served = await serveApp(app);
  base = served.url;
});

afterAll(async () => {
  await served?.close();
  await stores?.close();
  await dropDatabase?.();
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

describe('hub API: who may call it', () => {
  it('when /healthz is called without a token, then it answers ok and nothing else', async () => {
    const res = await get('/healthz', null);
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ status: 'ok' });
  });

  it('when an /api route is called without a token, then 401 with a Bearer challenge', async () => {
    const res = await get('/api/sessions', null);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer');
    expect(res.json.error.code).toBe('unauthorized');
  });

  it('when the token was signed by another key, then 401 and the token is not echoed', async () => {
    const other = await TokenSigner.fromPem(ensureSigningKey(tempDir()).privateKeyPem);
    const forged = await other.apiToken('mallory', 'admin');
    const res = await get('/api/sessions', forged);
    expect(res.status).toBe(401);
    expect(res.text).not.toContain(forged);
    expect(res.text).not.toContain(forged.split('.')[2]);
  });

  it('when a connection token is used as an API token, then 401', async () => {
    const res = await get('/api/sessions', await signer.connectionToken('alice', 'demo', 60_000));
    expect(res.status).toBe(401);
  });

  it('when the token is not a JWT at all, then 401', async () => {
    expect((await get('/api/sessions', 'not-a-token')).status).toBe(401);
  });

  it('when the caller is an engineer, then only their own sessions exist for them', async () => {
    const erin = await signer.apiToken('erin', 'engineer');
    const res = await get('/api/sessions', erin);
    expect(res.status).toBe(200);
    expect(res.json.sessions).toEqual([]);
    // A filter narrows what one may see, it does not widen it: no error, nothing listed.
    expect((await get('/api/sessions?user=alice', erin)).json.sessions).toEqual([]);
    expect((await get(`/api/sessions/${alice1.sessionId}/export`, erin)).status).toBe(404);
    const alice = await signer.apiToken('alice', 'engineer');
    const own = await get('/api/sessions', alice);
    expect(own.json.sessions.map((s: any) => s.user)).toEqual(['alice', 'alice']);
    expect((await get(`/api/sessions/${alice1.sessionId}/export`, alice)).status).toBe(200);
  });

  it('when the caller is a reviewer, then sessions are listed but metrics stay admin-only', async () => {
    const token = await signer.apiToken('rita', 'reviewer');
    expect((await get('/api/sessions', token)).status).toBe(200);
    expect((await get('/api/metrics', token)).status).toBe(403);
    const metrics = await get('/api/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.json).toEqual({ answered: true });
  });
});

describe('hub API: sessions', () => {
  it('when sessions are listed, then the newest comes first with its summary', async () => {
    const res = await get('/api/sessions');
    expect(res.status).toBe(200);
    expect(res.json.sessions.map((s: any) => s.id)).toEqual([live.sessionId, alice2.sessionId, bob.sessionId, alice1.sessionId]);
    const first = res.json.sessions[3];
    expect(first).toMatchObject({ user: 'alice', target: 'demo', protocol: 'postgres', queryCount: 2, eventCount: 6, endReason: 'client_terminate' });
    expect(res.json.next).toBeNull();
  });

  it('when filtered by user, target, live or time, then only matching sessions are listed', async () => {
    const ids = async (query: string) => (await get(`/api/sessions?${query}`)).json.sessions.map((s: any) => s.id);
    expect(await ids('user=alice')).toEqual([alice2.sessionId, alice1.sessionId]);
    expect(await ids('target=billing')).toEqual([alice2.sessionId, bob.sessionId]);
    expect(await ids('user=alice&target=billing')).toEqual([alice2.sessionId]);
    expect(await ids('live=true')).toEqual([live.sessionId]);
    expect(await ids('live=false')).toHaveLength(3);
    expect(await ids('from=2025-01-01T11:00:00Z&to=2025-01-01T12:30:00Z')).toEqual([alice2.sessionId, bob.sessionId]);
    expect(await ids('protocol=ssh')).toEqual([]);
  });

  it('when listed with a limit, then next pages on until the last page', async () => {
    const page1 = await get('/api/sessions?limit=3');
    expect(page1.json.sessions).toHaveLength(3);
    expect(typeof page1.json.next).toBe('string');
    const page2 = await get(`/api/sessions?limit=3&before=${encodeURIComponent(page1.json.next)}`);
    expect(page2.json.sessions.map((s: any) => s.id)).toEqual([alice1.sessionId]);
    expect(page2.json.next).toBeNull();
  });

  it.each([
    ['limit=abc', 'limit'],
    ['limit=0', 'limit'],
    ['limit=100000', 'limit'],
    ['live=maybe', 'live'],
    ['from=yesterday', 'from'],
    ['protocol=ftp', 'protocol'],
    ['user=a&user=b', 'user'],
    ['colour=blue', 'colour'],
    ['before=not-a-cursor', 'before'],
  ])('when the query is %s, then 400 names %s', async (query, name) => {
    const res = await get(`/api/sessions?${query}`);
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe('bad_request');
    expect(res.json.error.message).toContain(name);
  });

  it('when a session is asked for by id, then its summary is returned; an unknown id is 404', async () => {
    const res = await get(`/api/sessions/${bob.sessionId}`);
    expect(res.status).toBe(200);
    expect(res.json.session).toMatchObject({ id: bob.sessionId, user: 'bob', target: 'billing', lastSeq: 4, persistedSeq: 4 });
    const missing = await get('/api/sessions/00000000-0000-4000-8000-000000000000');
    expect(missing.status).toBe(404);
    expect(missing.json.error.code).toBe('not_found');
    expect((await get('/api/sessions/00000000-0000-4000-8000-000000000000/events')).status).toBe(404);
    expect((await get('/api/sessions/00000000-0000-4000-8000-000000000000/export?format=jsonl')).status).toBe(404);
  });

  it('when an unknown /api route is called, then 404 in the same error shape', async () => {
    const res = await get('/api/nothing-here');
    expect(res.status).toBe(404);
    expect(res.json.error.code).toBe('not_found');
  });
});

describe('hub API: events and export', () => {
  it('when events are read in pages, then they come in order and next points at the following page', async () => {
    // live has 1 + 3 * 2 = 7 events.
    const seqs: number[] = [];
    let from: number | null = 1;
    let pages = 0;
    while (from !== null) {
      const res = await get(`/api/sessions/${live.sessionId}/events?from=${from}&limit=3`);
      expect(res.status).toBe(200);
      seqs.push(...res.json.events.map((e: any) => e.seq));
      from = res.json.next;
      pages += 1;
    }
    expect(seqs).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(pages).toBe(3);
    const tail = await get(`/api/sessions/${live.sessionId}/events?from=6`);
    expect(tail.json.events.map((e: any) => e.type)).toEqual(['db.query', 'db.result']);
    expect(tail.json.next).toBeNull();
    expect(tail.json.events[1]).toEqual(live.events[6].event);
  });

  it('when events are asked for with a bad from or limit, then 400', async () => {
    expect((await get(`/api/sessions/${live.sessionId}/events?from=0`)).status).toBe(400);
    expect((await get(`/api/sessions/${live.sessionId}/events?limit=-1`)).status).toBe(400);
    expect((await get(`/api/sessions/${live.sessionId}/events?limit=20000`)).status).toBe(400);
  });

  it('when a session is exported as jsonl, then each line is the stored canonical body', async () => {
    const res = await get(`/api/sessions/${alice1.sessionId}/export?format=jsonl`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    expect(res.text.endsWith('\n')).toBe(true);
    expect(res.text.slice(0, -1).split('\n')).toEqual(alice1.events.map((e) => e.body));
  });

  it('when the export format is not jsonl, then 400', async () => {
    const res = await get(`/api/sessions/${alice1.sessionId}/export?format=csv`);
    expect(res.status).toBe(400);
    expect(res.json.error.message).toContain('format');
  });
});

describe('hub API: bad input at the edge', () => {
  async function send(method: string, pathAndQuery: string, init: { body?: string; contentType?: string } = {}) {
    const headers: Record<string, string> = { authorization: `Bearer ${adminToken}` };
    if (init.contentType) headers['content-type'] = init.contentType;
    const res = await fetch(`${base}${pathAndQuery}`, { method, headers, body: init.body });
    return { status: res.status, json: await res.json() as { error: { code: string; message: string } } };
  }

  const malformedIds: Array<[string, string]> = [
    ['a NUL byte', 'abc%00def'],
    ['only a NUL byte', '%00'],
    ['an escape character', 'x%1B%5B2J'],
    ['a newline', 'a%0Ab'],
    ['a C1 control character', 'a%C2%85b'],
    ['65 characters', 'a'.repeat(65)],
  ];
  const sessionRoutes: Array<[string, (id: string) => string]> = [
    ['GET', (id) => `/api/sessions/${id}`],
    ['GET', (id) => `/api/sessions/${id}/events`],
    ['GET', (id) => `/api/sessions/${id}/export?format=jsonl`],
    ['POST', (id) => `/api/sessions/${id}/kill`],
  ];

  it.each(malformedIds)('when a session id holds %s, then every /api/sessions/:id route answers 400 bad_request naming the parameter', async (_what, id) => {
    for (const [method, route] of sessionRoutes) {
      const res = await send(method, route(id));
      expect(res.status, `${method} ${route(id)}`).toBe(400);
      expect(res.json.error.code).toBe('bad_request');
      expect(res.json.error.message).toContain('"id"');
    }
  });

  it.each(malformedIds)('when a target name holds %s, then the connection route answers 400 bad_request', async (_what, name) => {
    const res = await send('POST', `/api/targets/${name}/connection`);
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe('bad_request');
  });

  it('when a session filter holds a NUL byte or a control character, then 400 names the parameter', async () => {
    for (const query of ['user=al%00ice', 'target=de%1Bmo']) {
      const res = await send('GET', `/api/sessions?${query}`);
      expect(res.status, query).toBe(400);
      expect(res.json.error).toEqual({ code: 'bad_request', message: expect.stringContaining(query.split('=')[0]) });
    }
  });

  it('when a body is larger than the route takes, then 413 payload_too_large', async () => {
    const res = await send('POST', `/api/sessions/${live.sessionId}/kill`, { body: JSON.stringify({ reason: 'x'.repeat(20_000) }), contentType: 'application/json' });
    expect(res.status).toBe(413);
    expect(res.json.error).toEqual({ code: 'payload_too_large', message: 'the request body is too large' });
  });

  it('when a body comes in a charset the route does not read, then 415 unsupported_media_type', async () => {
    const res = await send('POST', `/api/sessions/${live.sessionId}/kill`, { body: '{}', contentType: 'application/json; charset=ibm-1047' });
    expect(res.status).toBe(415);
    expect(res.json.error.code).toBe('unsupported_media_type');
  });

  it('when a body is not JSON, then 400 bad_request still', async () => {
    const res = await send('POST', `/api/sessions/${live.sessionId}/kill`, { body: '{"reason":', contentType: 'application/json' });
    expect(res.status).toBe(400);
    expect(res.json.error.code).toBe('bad_request');
  });
});
