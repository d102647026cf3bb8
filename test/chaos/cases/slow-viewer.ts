// A dashboard viewer (Socket.IO, logged in through the OpenID provider as a reviewer) watches a
// busy session and stops reading its WebSocket, as a frozen browser tab does. The hub must drop it
// (`slow_consumer`) instead of buffering for it, and its memory must stay flat meanwhile.
import { io as connect, type Socket } from 'socket.io-client';
import type { ClientToServer, ServerToClient } from '../../../common/live/contract.ts';
import { rssMb } from '../../../scripts/bench/processes.ts';
import { browserLike, loginThroughProvider } from '../../support/oidc-login-client.ts';
import type { HubSlot } from '../cluster.ts';
import { pgLoop, pause, type Client } from '../clients.ts';
import { endpoint, finish, stopAll, type CaseContext } from '../case-kit.ts';
import { readSessions } from '../ledger.ts';
import type { CaseRow } from '../report.ts';

/** The hub's growth while the viewer does not read, beyond which its memory is not "flat". */
const GROWTH_LIMIT_MB = 100;

type Viewer = Socket<ServerToClient, ClientToServer>;

async function viewerOn(hub: HubSlot, user: string): Promise<Viewer> {
  const browser = browserLike();
  const { response } = await loginThroughProvider(browser, hub.url, user);
  if (response.status !== 303) throw new Error(`login as ${user} failed: ${response.status}`);
  const socket: Viewer = connect(hub.url, { transports: ['websocket'], extraHeaders: { cookie: browser.jar.header() }, reconnection: false });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  return socket;
}

async function droppedCount(hub: HubSlot, bearer: string): Promise<number> {
  const res = await fetch(`${hub.url}/api/metrics`, { headers: { authorization: `Bearer ${bearer}` } });
  if (res.status !== 200) throw new Error(`/api/metrics: ${res.status}`);
  return ((await res.json()) as { live: { dropped: number } }).live.dropped;
}

export async function slowViewer(ctx: CaseContext): Promise<CaseRow> {
  const { cluster, profile: p } = ctx;
  const hub = cluster.liveHub();
  const pid = hub.proc!.child.pid!;
  const bearer = await cluster.signer.apiToken('chaos', 'admin', 3600_000);
  const ep = endpoint(ctx);
  // One heavy session (40 rows of 4 KB per statement) for the viewer, lighter ones beside it.
  const clients: Client[] = [pgLoop(ctx.caseId, 'heavy', ep, { payloadRows: 40, pauseMs: 20 })];
  let viewer: Viewer | null = null;
  try {
    let sessionId = '';
    for (const deadline = Date.now() + 15_000; !sessionId && Date.now() < deadline; await pause(200)) {
      sessionId = (await readSessions(cluster, ctx.user))[0]?.id ?? '';
    }
    if (!sessionId) throw new Error('the heavy session never reached the store');
    clients.push(...Array.from({ length: p.pgClients - 1 }, (_, i) => pgLoop(ctx.caseId, `pg${i}`, ep, { pauseMs: 50 })));
    viewer = await viewerOn(hub, 'rita');
    let received = 0;
    viewer.on('events', ({ events }) => (received += events.length));
    const dropped: string[] = [];
    viewer.on('dropped', (d) => dropped.push(d.reason));
    const disconnected = new Promise<string>((resolve) => viewer!.once('disconnect', resolve));
    const ack = await viewer.timeout(20_000).emitWithAck('watch', { sessionId });
    if (!ack.ok) throw new Error(`watch refused: ${ack.error.code}`);
    for (const deadline = Date.now() + 10_000; received === 0 && Date.now() < deadline;) await pause(100);

    const droppedBefore = await droppedCount(hub, bearer);
    const rssBefore = rssMb(pid);
    let rssPeak = rssBefore;
    const sampler = setInterval(() => { try { rssPeak = Math.max(rssPeak, rssMb(pid)); } catch { /* gone */ } }, 100);
    const ws = (viewer.io.engine.transport as unknown as { ws: { pause(): void; resume(): void } }).ws;
    ws.pause();
    const pausedAt = Date.now();
    let droppedAfter: number | null = null;
    for (const deadline = pausedAt + 60_000; droppedAfter === null && Date.now() < deadline; await pause(200)) {
      if ((await droppedCount(hub, bearer)) > droppedBefore) droppedAfter = Date.now() - pausedAt;
    }
    // The session goes on after the drop: the hub's memory must not follow it.
    await pause(p.loadAfterS * 1000);
    clearInterval(sampler);
    const rssAfter = rssMb(pid);
    ws.resume();
    const why = await Promise.race([disconnected, pause(15_000).then(() => 'still connected')]);
    const clientsEnd = await stopAll(clients);

    const problems: string[] = [];
    if (droppedAfter === null) problems.push('the viewer that stopped reading was not dropped within 60 s');
    if (!dropped.includes('slow_consumer')) problems.push(`the viewer was not told slow_consumer (dropped: ${JSON.stringify(dropped)}, disconnect: ${why})`);
    if (rssPeak - rssBefore > GROWTH_LIMIT_MB) problems.push(`the hub grew ${(rssPeak - rssBefore).toFixed(0)} MB while the viewer did not read`);
    return await finish(ctx, {
      fault: 'a viewer stops reading (Socket.IO)',
      clients,
      dueAt: () => clientsEnd,
      since: pausedAt,
      notes: [`dropped ${droppedAfter === null ? 'never' : `${(droppedAfter / 1000).toFixed(1)} s`} after it stopped reading (${dropped.join(', ') || 'no reason'}, then ${why}); ${received} events before; hub RSS ${rssBefore.toFixed(0)} MB before, ${rssPeak.toFixed(0)} MB peak, ${rssAfter.toFixed(0)} MB after`],
      problems,
    });
  } finally {
    viewer?.disconnect();
    if (!clients.every((c) => c.log.endedAt)) await stopAll(clients);
  }
}
