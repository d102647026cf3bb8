// Live viewing under hostile or broken clients, over real Socket.IO connections logged in through
// the real OpenID provider: ids that name no session, too many watches, malformed ids, and a
// viewer that stops reading while its session runs. Each must cost the hub a bounded amount:
// Redis subscriptions are counted on the private Redis, held bytes read from the hub's metrics.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createClient } from 'redis';
import { io as connect, type Socket } from 'socket.io-client';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import type { EventBus } from '../../common/bus/event-bus.ts';
import { createRedisBus } from '../../common/bus/redis-bus.ts';
import { parseConfig } from '../../common/config/load-config.ts';
import type { VigilEvent } from '../../common/events/index.ts';
import type { Ack, ClientToServer, ServerToClient } from '../../common/live/contract.ts';
import { silentLogger } from '../../common/log.ts';
import { DEMO_ROLE_MAP } from '../../server/dev-idp/demo-users.ts';
import { startDevIdentityProvider, type DevIdentityProvider } from '../../server/dev-idp/dev-identity-provider.ts';
import { startHub, type Hub } from '../../server/hub.ts';
import { createMemoryStore, type HubStores } from '../../server/store/create-store.ts';
import type { RecordingStore, StoredEvent } from '../../server/recordings/store/recording-store.ts';
import { freePort } from '../support/free-port.ts';
import { apiAs, browserLike, loginThroughProvider, type ApiCall } from '../support/oidc-login-client.ts';
import { fakeSession, fakeTerminalSession } from './event-fixtures.ts';
import { signingBus } from '../support/signing-bus.ts';

vi.setConfig({ testTimeout: 120_000, hookTimeout: 180_000 });

type Client = Socket<ServerToClient, ClientToServer>;
const CLIENT = { clientId: 'vigil-live-limits', clientSecret: 'limits-secret' };
const MAX_WATCHES = 5;
const MAX_BUFFERED = 256 * 1024;
const keyPrefix = `live-limits-${process.pid}-${Date.now()}:`;

let dataDir: string;
let idp: DevIdentityProvider;
let stores: HubStores;
let store: RecordingStore;
let bus: EventBus;
let hub: Hub;
let redis: ReturnType<typeof createClient>;
let admin: ApiCall;
let sockets: Client[] = [];

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-live-limits-'));
  const port = await freePort();
  idp = await startDevIdentityProvider({ port: 0, client: { ...CLIENT, redirectUris: [`http://127.0.0.1:${port}/auth/callback`] } });
  stores = await createMemoryStore();
  store = stores.recordings;
  // Appends stand in for an agent: signed as one whose key the hub trusts.
  bus = signingBus(await createRedisBus(inject('redisUrl'), { keyPrefix }), dataDir);
  const config = parseConfig({
    dataDir,
    redis: { url: inject('redisUrl'), keyPrefix },
    hub: {
      listen: `127.0.0.1:${port}`,
      auth: { oidc: { issuer: idp.issuer, clientId: CLIENT.clientId, roles: { map: DEMO_ROLE_MAP } } },
      live: { maxWatchesPerSocket: MAX_WATCHES, maxBufferedBytesPerSocket: MAX_BUFFERED },
    },
  });
  hub = await startHub({ config, bus, stores, logger: silentLogger, oidcClientSecret: CLIENT.clientSecret });
  redis = createClient({ url: inject('redisUrl') });
  await redis.connect();
  admin = await apiAs(hub.url, 'ada');
});

afterEach(() => {
  for (const s of sockets) s.disconnect();
  sockets = [];
});

afterAll(async () => {
  await redis?.close();
  await hub?.stop();
  await bus?.close();
  await idp?.stop();
  await stores?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

async function viewer(user: string): Promise<Client> {
  const browser = browserLike();
  expect((await loginThroughProvider(browser, hub.url, user)).response.status).toBe(303);
  const socket: Client = connect(hub.url, { transports: ['websocket'], extraHeaders: { cookie: browser.jar.header() }, reconnection: false });
  sockets.push(socket);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  return socket;
}

const watch = (socket: Client, sessionId: string, extra: { fromSeq?: number; screen?: boolean } = {}): Promise<Ack> =>
  socket.timeout(20_000).emitWithAck('watch', { sessionId, ...extra });
const codeOf = (ack: Ack) => (ack.ok ? 'ok' : ack.error.code);
const toBus = (events: StoredEvent[]) => events.map((e) => ({ sessionId: e.event.sessionId, seq: e.event.seq, body: e.body }));

/** Subscribers of each session's live channel on the private Redis (the Redis bus names them so). */
async function subscribers(sessionIds: string[]): Promise<number[]> {
  const reply = await redis.sendCommand<Array<string | number>>(['PUBSUB', 'NUMSUB', ...sessionIds.map((id) => `${keyPrefix}live:${id}`)]);
  return reply.filter((_, i) => i % 2 === 1).map(Number);
}

async function stored(events: StoredEvent[]): Promise<void> {
  await bus.append(toBus(events));
  const last = events.at(-1)!.event;
  await expect.poll(async () => (await store.getSession(last.sessionId))?.persistedSeq ?? 0, { timeout: 30_000 }).toBeGreaterThanOrEqual(last.seq);
}

async function outbound(): Promise<{ bufferedBytes: number; dropped: number }> {
  const { status, body } = await admin('GET', '/api/metrics');
  expect(status).toBe(200);
  return body.live;
}

describe('live viewing under hostile clients', () => {
  it('when a socket watches session ids that do not exist, then each is refused and no subscription is made', async () => {
    const rita = await viewer('rita');
    const ids = Array.from({ length: 300 }, () => crypto.randomUUID());
    // All at once: at most MAX_WATCHES are looked up at a time, the others are refused at once.
    const acks = await Promise.all(ids.map((id) => watch(rita, id, { screen: true })));
    expect(new Set(acks.map(codeOf))).toEqual(new Set(['not_found', 'too_many_watches']));
    expect(acks.filter((a) => codeOf(a) === 'not_found').length).toBeGreaterThanOrEqual(MAX_WATCHES);
    // One by one: each is looked up and refused, and frees its place.
    for (const id of ids.slice(0, 20)) expect(codeOf(await watch(rita, id))).toBe('not_found');
    expect(await subscribers(ids)).toEqual(ids.map(() => 0));

    // A session not stored yet is not found; once it is stored, the same watch works.
    const early = fakeSession({ user: 'bob', queries: 2, ended: false });
    expect(codeOf(await watch(rita, early.sessionId))).toBe('not_found');
    expect(await subscribers([early.sessionId])).toEqual([0]);
    await stored(early.events);
    const got: VigilEvent[] = [];
    rita.on('events', ({ events }) => got.push(...events));
    expect(await watch(rita, early.sessionId)).toEqual({ ok: true });
    await expect.poll(() => got.length, { timeout: 10_000 }).toBe(early.events.length);
    expect(await subscribers([early.sessionId])).toEqual([1]);
    expect(rita.connected).toBe(true);
  });

  it('when a socket watches more sessions than the limit, then the others are refused until it unwatches one', async () => {
    const sessions = Array.from({ length: MAX_WATCHES + 1 }, () => fakeSession({ user: 'bob', queries: 1, ended: false }));
    for (const s of sessions) await stored(s.events);
    const ids = sessions.map((s) => s.sessionId);
    const [extra] = ids.splice(MAX_WATCHES, 1);

    const rita = await viewer('rita');
    for (const id of ids) expect(await watch(rita, id)).toEqual({ ok: true });
    expect(await watch(rita, extra)).toMatchObject({ ok: false, error: { code: 'too_many_watches' } });
    // Watching one of its sessions again (resuming from another seq) takes no new place.
    expect(await watch(rita, ids[0], { fromSeq: 2 })).toEqual({ ok: true });
    expect(await subscribers([...ids, extra])).toEqual([...ids.map(() => 1), 0]);

    // The limit is per connection: another one has its own.
    const remy = await viewer('remy');
    expect(await watch(remy, extra)).toEqual({ ok: true });

    expect(await rita.timeout(10_000).emitWithAck('unwatch', { sessionId: ids[0] })).toEqual({ ok: true });
    expect(await watch(rita, extra)).toEqual({ ok: true });
    remy.disconnect();
    rita.disconnect();
    await expect.poll(() => subscribers([...ids, extra]), { timeout: 10_000 }).toEqual([...ids, extra].map(() => 0));
  });

  it('when a session id is malformed, then the request is a bad_request and the socket goes on', async () => {
    const rita = await viewer('rita');
    const bad = ['a\u0000b', '\u0000', 'line\nbreak', 'tab\there', '\u001b[31m', ' leading', 'x'.repeat(65), '', '../../etc/passwd', 'ü', 'a*'];
    for (const sessionId of bad) {
      expect(await watch(rita, sessionId), JSON.stringify(sessionId)).toMatchObject({ ok: false, error: { code: 'bad_request' } });
      expect(await rita.timeout(10_000).emitWithAck('unwatch', { sessionId })).toMatchObject({ ok: false, error: { code: 'bad_request' } });
    }
    expect(await subscribers(bad.filter((id) => id.length > 0))).toEqual(bad.filter((id) => id.length > 0).map(() => 0));
    const good = fakeSession({ user: 'bob', queries: 1 });
    await stored(good.events);
    expect(await watch(rita, good.sessionId)).toEqual({ ok: true });
    expect(rita.connected).toBe(true);
  });

  it('when a viewer stops reading while its session runs, then it is dropped with the reason, the hub holds a bounded amount, and it resumes from the store', async () => {
    const session = fakeTerminalSession({ cols: 80, rows: 24, outputs: ['$ '] });
    await stored(session.events);
    const rita = await viewer('rita');
    const received: number[] = [];
    rita.on('events', ({ events }) => received.push(...events.map((e) => e.seq)));
    const dropped: Array<{ reason: string }> = [];
    rita.on('dropped', (p) => dropped.push(p));
    const disconnected = new Promise<string>((resolve) => rita.once('disconnect', resolve));
    expect(await watch(rita, session.sessionId)).toEqual({ ok: true });
    await expect.poll(() => received.length, { timeout: 10_000 }).toBe(session.events.length);

    // The viewer's process stops reading its WebSocket: TCP fills up, then the hub's buffers would.
    const ws = (rita.io.engine.transport as unknown as { ws: { pause(): void; resume(): void } }).ws;
    ws.pause();
    const chunk = 'x'.repeat(32 * 1024);
    const batchBytes = 8 * chunk.length; // one bus message, one packet to the viewer
    let lastSeq = session.events.at(-1)!.event.seq;
    const produce = async () => {
      const batch = session.more(Array.from({ length: 8 }, () => chunk));
      await bus.append(toBus(batch));
      lastSeq = batch.at(-1)!.event.seq;
    };
    let produced = 0;
    while ((await outbound()).dropped === 0) {
      expect(produced, 'the hub never dropped the viewer').toBeLessThan(300 * 1024 * 1024);
      await produce();
      produced += batchBytes;
    }

    // The session goes on; what the hub holds for the viewer no longer grows, and is bounded (the
    // bound, and the packet that passed it, with room for the packets' envelopes).
    const held = (await outbound()).bufferedBytes;
    expect(held).toBeLessThanOrEqual(MAX_BUFFERED + 2 * batchBytes);
    for (let i = 0; i < 20; i++) {
      await produce();
      expect((await outbound()).bufferedBytes).toBeLessThanOrEqual(held);
    }

    // It reads again: what the hub still held, then the reason, then the disconnect.
    ws.resume();
    expect(await disconnected).toBe('io server disconnect');
    expect(dropped).toEqual([expect.objectContaining({ reason: 'slow_consumer' })]);
    await expect.poll(async () => (await outbound()).bufferedBytes, { timeout: 20_000 }).toBe(0);
    const upTo = received.at(-1)!;
    expect(received).toEqual(Array.from({ length: upTo }, (_, i) => i + 1));

    // Back, as the dashboard comes back: from the first seq it lacks, to the end.
    const again = await viewer('rita');
    again.on('events', ({ events }) => received.push(...events.map((e) => e.seq)));
    expect(await watch(again, session.sessionId, { fromSeq: upTo + 1 })).toEqual({ ok: true });
    await expect.poll(() => received.at(-1), { timeout: 60_000 }).toBe(lastSeq);
    expect(received).toEqual(Array.from({ length: lastSeq }, (_, i) => i + 1));
  });
});
