// The player's API on a real hub app and store: the indexer derives markers, search documents
// and the statement index from what was persisted; the timeline, seek, find-next and statement
// routes answer from them; search across recordings stays inside what each person may see;
// shares let named people in until they expire or are revoked, every step audited; notes pinned
// to a moment are kept and listed.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeEvent, type VigilEvent } from '../../common/events/index.ts';
import { silentLogger } from '../../common/log.ts';
import { ensureSigningKey, TokenSigner, TokenVerifier } from '../../common/tokens.ts';
import { createApiApp } from '../../server/http/app.ts';
import { recordingDerivers } from '../../server/recordings/index/derivers.ts';
import { RecordingIndexer } from '../../server/recordings/index/indexer.ts';
import type { StoredEvent } from '../../server/recordings/store/recording-store.ts';
import { createMemoryStore, type HubStores } from '../../server/store/create-store.ts';
import { serveApp, type ServedApp } from '../support/serve-app.ts';
import { fakeSession } from './event-fixtures.ts';

let stores: HubStores;
let served: ServedApp;
let indexer: RecordingIndexer;
let signer: TokenSigner;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-player-'));
const tokens: Record<string, string> = {};

/** A shell session of `user` on box: a prompt, typed commands and their output, a resize, the end. */
function shellSession(user: string): { sessionId: string; events: StoredEvent[] } {
  const sessionId = crypto.randomUUID();
  let seq = 0;
  const make = (type: string, data: unknown): VigilEvent => {
    seq += 1;
    return {
      v: 1, id: crypto.randomUUID(), sessionId, seq, time: new Date(Date.UTC(2025, 0, 2, 9) + seq * 1000).toISOString(),
      user, target: 'box', protocol: 'ssh', connection: { client: '10.1.1.1:40000', agent: 'agent-1' }, type, data,
    } as VigilEvent;
  };
  const events: VigilEvent[] = [
    make('session.start', { upstream: 'box:22', recording: 'required', clientMasking: false }),
    make('ssh.shell', { channel: 0, pty: { term: 'xterm', cols: 80, rows: 24 } }),
    make('term.output', { channel: 0, text: '$ ' }),
  ];
  for (const command of ['ls /var/log', 'journalctl -u payments-worker', 'exit']) {
    events.push(make('term.input', { channel: 0, text: `${command}\r` }));
    events.push(make('term.output', { channel: 0, text: `${command}\r\noutput of ${command}\r\n$ ` }));
  }
  events.push(make('term.resize', { channel: 0, cols: 120, rows: 40 }));
  events.push(make('ssh.file', { channel: 1, protocol: 'sftp', direction: 'download', path: '/etc/hosts', bytes: 220 }));
  events.push(make('session.end', { reason: 'killed', message: 'ended by carol', durationMs: 12_000, bytesDown: 1, bytesUp: 1 }));
  return { sessionId, events: events.map((event) => ({ event, body: encodeEvent(event) })) };
}

const bobShell = shellSession('bob');
const alicePg = fakeSession({ user: 'alice', target: 'payments', queries: 3, start: new Date('2025-01-02T10:00:00.000Z') });

async function call(method: string, who: string, pathAndQuery: string, body?: unknown) {
  const res = await fetch(`${served.url}${pathAndQuery}`, {
    method,
    headers: { authorization: `Bearer ${tokens[who]}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}
const get = (who: string, p: string) => call('GET', who, p);

beforeAll(async () => {
  stores = await createMemoryStore({ logger: silentLogger });
  const keys = ensureSigningKey(dir);
  signer = await TokenSigner.fromPem(keys.privateKeyPem);
  for (const [who, role] of [['carol', 'reviewer'], ['bob', 'engineer'], ['alice', 'engineer'], ['dave', 'engineer'], ['erin', 'engineer']]) {
    tokens[who] = await signer.apiToken(who, role);
  }
  served = await serveApp(createApiApp({ stores, verifier: await TokenVerifier.fromPem(keys.publicKeyPem), logger: silentLogger }));
  await stores.recordings.append([...bobShell.events, ...alicePg.events]);
  indexer = new RecordingIndexer({ store: stores.recordings, index: stores.index, derivers: recordingDerivers, logger: silentLogger, scanIntervalMs: 50 });
  indexer.start();
  for (const s of [bobShell, alicePg]) {
    const deadline = Date.now() + 20_000;
    while ((await stores.index.indexedSeq(s.sessionId)) < s.events.length) {
      if (Date.now() > deadline) throw new Error(`session ${s.sessionId} not indexed`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
});

afterAll(async () => {
  await indexer?.stop();
  await served?.close();
  await stores?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('the player\'s API', () => {
  it('when a terminal session is indexed, then its timeline has its segments and marks its commands, file transfer and kill', async () => {
    const { status, json } = await get('bob', `/api/sessions/${bobShell.sessionId}/timeline`);
    expect(status).toBe(200);
    expect(json.session.id).toBe(bobShell.sessionId);
    expect(json.segments.map((g: { firstSeq: number; lastSeq: number }) => [g.firstSeq, g.lastSeq])).toEqual([[1, bobShell.events.length]]);
    const marks = json.markers.map((m: { kind: string; label: string }) => `${m.kind} ${m.label}`);
    expect(marks).toEqual(expect.arrayContaining(['command ls /var/log', 'command journalctl -u payments-worker', 'file sftp download /etc/hosts (220 bytes)', 'kill killed: ended by carol']));
  });

  it('when a moment is sought by seq or by seconds from the start, then the events up to it come back (from the start when there is no keyframe)', async () => {
    const bySeq = await get('bob', `/api/sessions/${bobShell.sessionId}/seek?seq=5`);
    expect(bySeq.json.seq).toBe(5);
    expect(bySeq.json.events.map((e: VigilEvent) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    // Seq n is at n seconds past 09:00:00; the session started at 09:00:01.
    const byTime = await get('bob', `/api/sessions/${bobShell.sessionId}/seek?t=3.5`);
    expect(byTime.json.seq).toBe(5);
    expect((await get('bob', `/api/sessions/${bobShell.sessionId}/seek?t=99999`)).json.seq).toBe(bobShell.events.length);
    expect((await get('bob', `/api/sessions/${bobShell.sessionId}/seek?seq=1&t=2`)).status).toBe(400);
    expect((await get('bob', `/api/sessions/${bobShell.sessionId}/seek?t=-1`)).status).toBe(400);
  });

  it('when a PostgreSQL session is indexed, then its statements list with row counts and durations, and find-next jumps from hit to hit', async () => {
    const { json } = await get('alice', `/api/sessions/${alicePg.sessionId}/statements`);
    expect(json.statements.map((s: { seq: number; sql: string; rowCount: number }) => [s.seq, s.sql, s.rowCount])).toEqual([
      [2, 'select email from customers limit 1', 1], [4, 'select email from customers limit 2', 1], [6, 'select email from customers limit 3', 1],
    ]);
    const hits = await get('alice', `/api/sessions/${alicePg.sessionId}/search?q=${encodeURIComponent('limit 2')}`);
    expect(hits.json.hits.map((h: { seq: number }) => h.seq)).toEqual([4]);
  });

  it('when people search across recordings, then each finds only what they may see, with a snippet and the moment', async () => {
    const reviewer = await get('carol', '/api/search?q=payments');
    expect(reviewer.status).toBe(200);
    const found = reviewer.json.sessions.find((s: { sessionId: string }) => s.sessionId === bobShell.sessionId);
    expect(found.hits[0]).toMatchObject({ seq: expect.any(Number), snippet: { text: expect.stringContaining('payments') } });
    expect((await get('bob', '/api/search?q=payments')).json.sessions.map((s: { sessionId: string }) => s.sessionId)).toEqual([bobShell.sessionId]);
    expect((await get('dave', '/api/search?q=payments')).json.sessions).toEqual([]);
    expect((await get('dave', '/api/search')).status).toBe(400);
  });

  it('when bob shares his session with dave until later, then dave opens it (audited) and lists it, and after bob revokes it dave is told so', async () => {
    const id = bobShell.sessionId;
    expect((await get('dave', `/api/sessions/${id}/timeline`)).status).toBe(404);
    const created = await call('POST', 'bob', `/api/sessions/${id}/shares`, { users: ['dave'], expiresInHours: 24, note: 'review before Friday' });
    expect(created.status).toBe(201);
    expect(created.json.share).toMatchObject({ users: ['dave'], note: 'review before Friday', createdBy: 'bob' });

    expect((await get('dave', `/api/sessions/${id}/timeline`)).status).toBe(200);
    expect((await get('dave', `/api/sessions/${id}/seek?seq=3`)).status).toBe(200);
    expect((await get('dave', '/api/shares')).json.shares.map((s: { session: { id: string } }) => s.session.id)).toEqual([id]);
    // Someone else may not share bob's session, nor revoke his share.
    expect((await call('POST', 'dave', `/api/sessions/${id}/shares`, { users: ['erin'], expiresInHours: 1 })).status).toBe(403);
    expect((await call('DELETE', 'erin', `/api/shares/${created.json.share.id}`)).status).toBe(404);

    expect((await call('DELETE', 'bob', `/api/shares/${created.json.share.id}`)).status).toBe(200);
    const refused = await get('dave', `/api/sessions/${id}/timeline`);
    expect(refused.status).toBe(403);
    expect(refused.json.error.message).toContain('revoked by bob');

    const audit = (await stores.access.auditLog({ limit: 50 })).filter((a) => a.sessionId === id).map((a) => `${a.actor} ${a.action}`);
    expect(audit).toEqual(expect.arrayContaining(['bob share.created', 'dave share.viewed', 'bob share.revoked', 'dave share.refused', 'dave session.refused']));
  });

  it('when a share has expired, then its recipient is refused', async () => {
    const share = await stores.shares.create({ sessionId: alicePg.sessionId, createdBy: 'alice', users: ['erin'], group: null, note: '', expiresAt: new Date(Date.now() - 1000).toISOString() });
    const refused = await get('erin', `/api/sessions/${alicePg.sessionId}/timeline`);
    expect(refused.status).toBe(403);
    expect(refused.json.error.message).toContain(`expired at ${share.expiresAt}`);
    expect((await call('POST', 'alice', `/api/sessions/${alicePg.sessionId}/shares`, { users: ['erin'], expiresAt: new Date(Date.now() - 1000).toISOString() })).status).toBe(400);
    expect((await call('POST', 'alice', `/api/sessions/${alicePg.sessionId}/shares`, { users: ['erin'], expiresInHours: 24 * 91 })).status).toBe(400);
  });

  it('when viewers pin notes to moments, then they are kept as text in seq order, and a note past the end or without text is refused', async () => {
    const id = alicePg.sessionId;
    expect((await call('POST', 'alice', `/api/sessions/${id}/annotations`, { seq: 4, text: 'why limit 2? <b>check</b>' })).status).toBe(201);
    expect((await call('POST', 'carol', `/api/sessions/${id}/annotations`, { seq: 2, text: 'first look' })).status).toBe(201);
    expect((await call('POST', 'alice', `/api/sessions/${id}/annotations`, { seq: 999, text: 'nope' })).status).toBe(400);
    expect((await call('POST', 'alice', `/api/sessions/${id}/annotations`, { seq: 3, text: '   ' })).status).toBe(400);
    expect((await call('POST', 'dave', `/api/sessions/${id}/annotations`, { seq: 3, text: 'not mine' })).status).toBe(404);
    const { json } = await get('alice', `/api/sessions/${id}/annotations`);
    expect(json.annotations.map((a: { seq: number; author: string; text: string }) => [a.seq, a.author, a.text])).toEqual([
      [2, 'carol', 'first look'], [4, 'alice', 'why limit 2? <b>check</b>'],
    ]);
  });
});
