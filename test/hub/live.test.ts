// Watching sessions live over Socket.IO, through two hubs that share Redis: log in through the real
// OpenID provider, watch with the login cookie, get the backlog and then the live tail with every
// seq once, see who else watches (across hubs), resume after a reconnect; and the refusals.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { io as connect, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import type { EventBus } from '../../common/bus/event-bus.ts';
import { createRedisBus } from '../../common/bus/redis-bus.ts';
import { parseConfig } from '../../common/config/load-config.ts';
import { encodeEvent, type VigilEvent } from '../../common/events/index.ts';
import type { Ack, ClientToServer, LiveSessionView, ScreenSnapshot, ServerToClient, Viewer } from '../../common/live/contract.ts';
import { silentLogger } from '../../common/log.ts';
import { ensureSigningKey, TokenSigner } from '../../common/tokens.ts';
import type { AnnotationView } from '../../common/api-contract.ts';
import { DEMO_ROLE_MAP } from '../../server/dev-idp/demo-users.ts';
import { startDevIdentityProvider, type DevIdentityProvider } from '../../server/dev-idp/dev-identity-provider.ts';
import { startHub, type Hub } from '../../server/hub.ts';
import { createMemoryStore, type HubStores } from '../../server/store/create-store.ts';
import type { RecordingStore, StoredEvent } from '../../server/recordings/store/recording-store.ts';
import { freePort } from '../support/free-port.ts';
import { browserLike, loginThroughProvider } from '../support/oidc-login-client.ts';
import { fakeSession, fakeTerminalSession } from './event-fixtures.ts';
import { VirtualTerminal } from '../../server/recordings/terminal/virtual-terminal.ts';
import { signingBus } from '../support/signing-bus.ts';

vi.setConfig({ testTimeout: 60_000, hookTimeout: 180_000 });

type Client = Socket<ServerToClient, ClientToServer>;
const CLIENT = { clientId: 'vigil-live', clientSecret: 'live-secret' };
let dataDir: string;
let idp: DevIdentityProvider;
let stores: HubStores;
let store: RecordingStore;
const buses: EventBus[] = [];
const hubs: Hub[] = [];
const sockets: Client[] = [];

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-live-'));
  const ports = [await freePort(), await freePort()];
  idp = await startDevIdentityProvider({ port: 0, client: { ...CLIENT, redirectUris: ports.map((p) => `http://127.0.0.1:${p}/auth/callback`) } });
  stores = await createMemoryStore();
  store = stores.recordings;
  const keyPrefix = `live-test-${process.pid}-${Date.now()}:`;
  for (const port of ports) {
    // Appends stand in for an agent: signed as one whose key the hubs trust.
    const bus = signingBus(await createRedisBus(inject('redisUrl'), { keyPrefix }), dataDir);
    buses.push(bus);
    const config = parseConfig({
      dataDir,
      redis: { url: inject('redisUrl'), keyPrefix },
      hub: { listen: `127.0.0.1:${port}`, auth: { oidc: { issuer: idp.issuer, clientId: CLIENT.clientId, roles: { map: DEMO_ROLE_MAP } } } },
    });
    hubs.push(await startHub({ config, bus, stores, logger: silentLogger, oidcClientSecret: CLIENT.clientSecret }));
  }
});

afterAll(async () => {
  for (const s of sockets) s.disconnect();
  for (const hub of hubs) await hub.stop();
  for (const bus of buses) await bus.close();
  await idp?.stop();
  await stores?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

async function cookieOf(hub: Hub, user: string): Promise<string> {
  const browser = browserLike();
  const { response } = await loginThroughProvider(browser, hub.url, user);
  expect(response.status).toBe(303);
  return browser.jar.header();
}

interface Watcher {
  socket: Client;
  events: VigilEvent[];
  presence: Viewer[][];
  watch(sessionId: string, fromSeq?: number): Promise<Ack>;
}

async function viewer(hub: Hub, user: string): Promise<Watcher> {
  const socket: Client = connect(hub.url, { transports: ['websocket'], extraHeaders: { cookie: await cookieOf(hub, user) }, reconnection: false });
  sockets.push(socket);
  const w: Watcher = {
    socket,
    events: [],
    presence: [],
    watch: (sessionId, fromSeq) => socket.timeout(10_000).emitWithAck('watch', { sessionId, ...(fromSeq ? { fromSeq } : {}) }),
  };
  socket.on('events', ({ events }) => w.events.push(...events));
  socket.on('presence', ({ viewers }) => w.presence.push(viewers));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  return w;
}

const toBus = (events: StoredEvent[]) => events.map((e) => ({ sessionId: e.event.sessionId, seq: e.event.seq, body: e.body }));
const seqs = (events: VigilEvent[]) => events.map((e) => e.seq);

async function persisted(sessionId: string, seq: number): Promise<void> {
  await expect.poll(async () => (await store.getSession(sessionId))?.persistedSeq ?? 0, { timeout: 30_000 }).toBeGreaterThanOrEqual(seq);
}

describe('watching sessions live', () => {
  it('when a reviewer watches a running session, then they get the backlog and the live tail, each seq once, in order', async () => {
    const session = fakeSession({ user: 'bob', queries: 6, ended: false });
    const all = session.events;
    const half = Math.floor(all.length / 2);
    await buses[0].append(toBus(all.slice(0, half)));
    await persisted(session.sessionId, half);

    const rita = await viewer(hubs[0], 'rita');
    expect(await rita.watch(session.sessionId)).toEqual({ ok: true });
    await buses[0].append(toBus(all.slice(half, half + 2)));
    await buses[0].append(toBus(all.slice(half + 2)));
    await expect.poll(() => rita.events.length, { timeout: 20_000 }).toBeGreaterThanOrEqual(all.length);
    await new Promise((r) => setTimeout(r, 200));
    expect(seqs(rita.events)).toEqual(all.map((e) => e.event.seq));
    expect(rita.events[0]).toEqual(all[0].event);

    // A late joiner on the other hub gets the whole backlog; both see each other.
    const ada = await viewer(hubs[1], 'ada');
    expect(await ada.watch(session.sessionId)).toEqual({ ok: true });
    await expect.poll(() => seqs(ada.events), { timeout: 20_000 }).toEqual(all.map((e) => e.event.seq));
    await expect.poll(() => rita.presence.at(-1)?.map((v) => v.user), { timeout: 10_000 }).toEqual(['ada', 'rita']);
    await expect.poll(() => ada.presence.at(-1)?.map((v) => v.user), { timeout: 10_000 }).toEqual(['ada', 'rita']);

    ada.socket.disconnect();
    await expect.poll(() => rita.presence.at(-1)?.map((v) => v.user), { timeout: 10_000 }).toEqual(['rita']);
  });

  it('when someone follows the running sessions, then they get the ones they may see with who watches each, as it changes', async () => {
    const bobsRun = fakeSession({ user: 'bob', queries: 1, ended: false });
    const alicesRun = fakeSession({ user: 'alice', queries: 1, ended: false });
    await buses[0].append(toBus([...bobsRun.events, ...alicesRun.events]));
    await persisted(alicesRun.sessionId, alicesRun.events.length);
    await persisted(bobsRun.sessionId, bobsRun.events.length);

    const follow = async (hub: Hub, user: string) => {
      const w = await viewer(hub, user);
      const lists: LiveSessionView[][] = [];
      w.socket.on('live', ({ sessions }) => lists.push(sessions));
      expect(await w.socket.timeout(10_000).emitWithAck('live:subscribe')).toEqual({ ok: true });
      return { w, latest: () => lists.at(-1) ?? [] };
    };
    const rita = await follow(hubs[0], 'rita');
    const alice = await follow(hubs[1], 'alice');
    const ids = (list: LiveSessionView[]) => list.map((s) => s.id);
    await expect.poll(() => ids(rita.latest()), { timeout: 10_000 }).toEqual(expect.arrayContaining([bobsRun.sessionId, alicesRun.sessionId]));
    await expect.poll(() => ids(alice.latest()), { timeout: 10_000 }).toContain(alicesRun.sessionId);
    expect(alice.latest().every((s) => s.user === 'alice')).toBe(true);

    // ada watches bob's session on the other hub: rita's list shows her there.
    const ada = await viewer(hubs[1], 'ada');
    expect(await ada.watch(bobsRun.sessionId)).toEqual({ ok: true });
    await expect.poll(() => rita.latest().find((s) => s.id === bobsRun.sessionId)?.viewers.map((v) => v.user), { timeout: 10_000 }).toEqual(['ada']);

    // The session ends: it leaves the list.
    const end = { ...bobsRun.events[0].event, type: 'session.end', seq: bobsRun.events.length + 1, id: crypto.randomUUID(), data: { reason: 'client_terminate', durationMs: 1, bytesDown: 0, bytesUp: 0 } };
    await buses[0].append([{ sessionId: bobsRun.sessionId, seq: end.seq, body: encodeEvent(end as VigilEvent) }]);
    await expect.poll(() => ids(rita.latest()), { timeout: 15_000 }).not.toContain(bobsRun.sessionId);
  });

  it('when a viewer comes back after a disconnect, then it resumes from the first seq it lacks', async () => {
    const session = fakeSession({ user: 'bob', queries: 4 });
    await buses[0].append(toBus(session.events));
    const last = session.events.at(-1)!.event.seq;
    await persisted(session.sessionId, last);
    const rita = await viewer(hubs[1], 'rita');
    expect(await rita.watch(session.sessionId, 4)).toEqual({ ok: true });
    await expect.poll(() => seqs(rita.events), { timeout: 10_000 }).toEqual(session.events.map((e) => e.event.seq).filter((s) => s >= 4));
  });

  it('when a viewer disconnects and comes back while the session is busy, then it gets every seq once, in order', async () => {
    const session = fakeSession({ user: 'bob', queries: 600, ended: false });
    const all = toBus(session.events);
    // The agent keeps publishing small batches the whole time, on the other hub's bus.
    let sent = 0;
    const producing = (async () => {
      while (sent < all.length) {
        const batch = all.slice(sent, sent + 7);
        await buses[1].append(batch);
        sent += batch.length;
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    const received: number[] = [];
    const first = await viewer(hubs[0], 'rita');
    first.socket.on('events', ({ events }) => received.push(...seqs(events)));
    await expect.poll(() => sent, { timeout: 10_000 }).toBeGreaterThan(50);
    await persisted(session.sessionId, 1); // a session is watched once the store has it
    expect(await first.watch(session.sessionId)).toEqual({ ok: true });
    await expect.poll(() => received.length, { timeout: 10_000 }).toBeGreaterThan(100);
    first.socket.disconnect();
    const gone = received.length;
    await expect.poll(() => sent - gone, { timeout: 10_000 }).toBeGreaterThan(100); // it misses a good part live

    // Back (on the other hub), from the first seq it lacks, as the dashboard does.
    const again = await viewer(hubs[1], 'rita');
    again.socket.on('events', ({ events }) => received.push(...seqs(events)));
    expect(await again.watch(session.sessionId, received.at(-1)! + 1)).toEqual({ ok: true });
    await producing;
    await expect.poll(() => received.length, { timeout: 30_000 }).toBeGreaterThanOrEqual(all.length);
    await new Promise((r) => setTimeout(r, 300));
    expect(received).toEqual(all.map((e) => e.seq));
  });

  it('when a reviewer joins a terminal session late, then they get its current screen at once and only the output after it', async () => {
    const outputs = Array.from({ length: 300 }, (_, i) => `\x1b[1;3${i % 8}mline ${i}\x1b[0m\r\n`);
    const session = fakeTerminalSession({ cols: 40, rows: 10, outputs: [...outputs, '\x1b[2J\x1b[Htop of a clear screen\r\n$ '] });
    await buses[0].append(toBus(session.events));
    await persisted(session.sessionId, session.events.length);

    const rita = await viewer(hubs[1], 'rita');
    const screens: ScreenSnapshot[] = [];
    rita.socket.on('screen', (s) => screens.push(s));
    expect(await rita.socket.timeout(10_000).emitWithAck('watch', { sessionId: session.sessionId, screen: true })).toEqual({ ok: true });
    await expect.poll(() => screens.length, { timeout: 10_000 }).toBe(1);
    const [shot] = screens;
    expect(shot).toMatchObject({ sessionId: session.sessionId, seq: session.events.length, channel: 0, cols: 40, rows: 10 });
    // The screen redraws as the engineer's screen showed it.
    const redrawn = new VirtualTerminal(shot.cols, shot.rows);
    redrawn.write(shot.data);
    expect(redrawn.lines()[0]).toBe('top of a clear screen');
    expect(redrawn.lines()[1].trimEnd()).toBe('$');
    redrawn.dispose();

    // The rest of the backlog comes without the output the screen already shows; then the tail.
    const tail = session.more(['ls\r\n']);
    await buses[0].append(toBus(tail));
    await expect.poll(() => seqs(rita.events).at(-1), { timeout: 10_000 }).toBe(tail[0].event.seq);
    expect(rita.events.filter((e) => e.type === 'term.output').map((e) => e.seq)).toEqual([tail[0].event.seq]);
    expect(rita.events.map((e) => e.type)).toEqual(['session.start', 'ssh.shell', 'term.output']);
  });

  it('when an engineer watches, then only their own sessions can be watched', async () => {
    const theirs = fakeSession({ user: 'bob', queries: 1 });
    const own = fakeSession({ user: 'alice', queries: 1 });
    await buses[0].append(toBus([...theirs.events, ...own.events]));
    await persisted(own.sessionId, own.events.length);
    const alice = await viewer(hubs[0], 'alice');
    expect(await alice.watch(theirs.sessionId)).toMatchObject({ ok: false, error: { code: 'not_found' } });
    expect(await alice.watch(own.sessionId)).toEqual({ ok: true });
    await expect.poll(() => alice.events.length, { timeout: 10_000 }).toBe(own.events.length);
    expect(alice.events.every((e) => e.sessionId === own.sessionId)).toBe(true);
  });

  it('when someone follows a shared recording\'s notes, then new notes reach them on any hub until the share is revoked, and not after', async () => {
    const session = fakeSession({ user: 'bob', queries: 2 });
    await store.append(session.events);
    const id = session.sessionId;
    const signer = await TokenSigner.fromPem(ensureSigningKey(dataDir).privateKeyPem);
    const bob = await signer.apiToken('bob', 'engineer');
    const asBob = (method: string, p: string, body?: unknown) => fetch(`${hubs[0].url}${p}`, {
      method, headers: { authorization: `Bearer ${bob}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body),
    });
    const share = await (await asBob('POST', `/api/sessions/${id}/shares`, { users: ['alice'], expiresInHours: 1 })).json() as { share: { id: string } };
    const [alice, rita] = [await viewer(hubs[1], 'alice'), await viewer(hubs[1], 'rita')];
    const notes = { alice: [] as string[], rita: [] as string[] };
    alice.socket.on('annotation', (a: AnnotationView) => notes.alice.push(a.text));
    rita.socket.on('annotation', (a: AnnotationView) => notes.rita.push(a.text));
    for (const w of [alice, rita]) expect(await w.socket.timeout(10_000).emitWithAck('annotations:follow', { sessionId: id })).toEqual({ ok: true });

    expect((await asBob('POST', `/api/sessions/${id}/annotations`, { seq: 2, text: 'while shared' })).status).toBe(201);
    await expect.poll(() => notes.alice, { timeout: 10_000 }).toEqual(['while shared']);
    expect((await asBob('DELETE', `/api/shares/${share.share.id}`)).status).toBe(200);
    expect((await asBob('POST', `/api/sessions/${id}/annotations`, { seq: 3, text: 'after the revoke' })).status).toBe(201);

    await expect.poll(() => notes.rita, { timeout: 10_000 }).toEqual(['while shared', 'after the revoke']);
    expect(notes.alice).toEqual(['while shared']);
  });

  it('when a payload is malformed, then that request gets an error and the socket goes on', async () => {
    const rita = await viewer(hubs[0], 'rita');
    for (const bad of [{ sessionId: 5 }, null, 'x', { sessionId: 'a', fromSeq: -1 }, { sessionId: 'a', extra: true }]) {
      expect(await rita.socket.timeout(10_000).emitWithAck('watch', bad as never)).toMatchObject({ ok: false, error: { code: 'bad_request' } });
    }
    // What a hostile client may send regardless of the contract: no ack, unknown events.
    const raw = rita.socket as unknown as { emit(...args: unknown[]): void };
    raw.emit('watch', { sessionId: 'no-ack' });
    raw.emit('no-such-event', 1, 2);
    expect(await rita.socket.timeout(10_000).emitWithAck('unwatch', { sessionId: 'a' })).toEqual({ ok: true });
    expect(rita.socket.connected).toBe(true);
  });

  it('when the client can only long-poll, then watching works the same', async () => {
    const session = fakeSession({ user: 'bob', queries: 2 });
    await buses[0].append(toBus(session.events));
    await persisted(session.sessionId, session.events.length);
    const socket: Client = connect(hubs[0].url, { transports: ['polling'], extraHeaders: { cookie: await cookieOf(hubs[0], 'rita') }, reconnection: false });
    sockets.push(socket);
    const got: VigilEvent[] = [];
    socket.on('events', ({ events }) => got.push(...events));
    expect(await socket.timeout(10_000).emitWithAck('watch', { sessionId: session.sessionId })).toEqual({ ok: true });
    await expect.poll(() => seqs(got), { timeout: 10_000 }).toEqual(session.events.map((e) => e.event.seq));
    // The API next to it still answers normally.
    expect((await fetch(`${hubs[0].url}/healthz`)).status).toBe(200);
  });

  it('when there is no login, or the page is on another site, then the socket is refused', async () => {
    const anonymous: Client = connect(hubs[0].url, { transports: ['websocket'], reconnection: false });
    sockets.push(anonymous);
    const err = await new Promise<Error>((resolve) => anonymous.once('connect_error', resolve));
    expect(err.message).toContain('unauthorized');

    const cookie = await cookieOf(hubs[0], 'rita');
    const elsewhere: Client = connect(hubs[0].url, { transports: ['websocket'], reconnection: false, extraHeaders: { cookie, origin: 'https://evil.example' } });
    sockets.push(elsewhere);
    await new Promise<Error>((resolve) => elsewhere.once('connect_error', resolve));
    expect(elsewhere.connected).toBe(false);
  });
});
