// Slow-loris: many TCP connections to the agent's PostgreSQL port, each sending its startup packet
// one byte every 2 s, while other clients log in anew for every statement and run sessions. Those
// must go on as usual; the agent's startup limit (30 s) closes the slow ones in the long profile.
import net from 'node:net';
import { pgLoop, psqlClient, selectFeed, pause, type Client } from '../clients.ts';
import { endpoint, finish, stopAll, type CaseContext } from '../case-kit.ts';
import type { CaseRow } from '../report.ts';

const BYTE_EVERY_MS = 2000;

function startupPacket(user: string): Buffer {
  const body = Buffer.from(`user\0${user}\0database\0pg\0\0`, 'utf8');
  const head = Buffer.alloc(8);
  head.writeInt32BE(8 + body.length, 0);
  head.writeInt32BE(196608, 4); // protocol 3.0
  return Buffer.concat([head, body]);
}

interface Loris {
  /** Connections the agent closed before the packet was whole, and when (ms after opening). */
  closedByAgent: number[];
  stop(): void;
}

function startLoris(port: number, count: number, user: string): Loris {
  const packet = startupPacket(user);
  const closedByAgent: number[] = [];
  const sockets: net.Socket[] = [];
  const timers: NodeJS.Timeout[] = [];
  let stopping = false;
  for (let i = 0; i < count; i++) {
    const opened = Date.now();
    const socket = net.connect(port, '127.0.0.1');
    sockets.push(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => { if (!stopping) closedByAgent.push(Date.now() - opened); });
    let sent = 0;
    // Staggered, so the bytes arrive all the time rather than in waves.
    const first = setTimeout(() => {
      const timer = setInterval(() => {
        if (sent < packet.length - 1 && !socket.destroyed) socket.write(packet.subarray(sent, ++sent));
      }, BYTE_EVERY_MS);
      timers.push(timer);
    }, (i * BYTE_EVERY_MS) / count);
    timers.push(first);
  }
  return {
    closedByAgent,
    stop() {
      stopping = true;
      for (const t of timers) clearTimeout(t), clearInterval(t);
      for (const s of sockets) s.destroy();
    },
  };
}

export async function slowLoris(ctx: CaseContext): Promise<CaseRow> {
  const { cluster, profile: p } = ctx;
  const ep = endpoint(ctx);
  const loris = startLoris(cluster.ports.pg, p.lorisConnections, ctx.user);
  const loginEach = Array.from({ length: p.pgClients }, (_, i) => pgLoop(ctx.caseId, `login${i}`, ep, { connectEach: true, pauseMs: 100, extended: i % 2 === 1 }));
  const clients: Client[] = [
    ...loginEach,
    pgLoop(ctx.caseId, 'session', ep, { pauseMs: 50, sleepEvery: 10, sleepS: 0.2 }),
    ...await Promise.all(Array.from({ length: p.psqlClients }, async (_, i) => psqlClient(ctx.caseId, `psql${i}`, await ep(), selectFeed(100)))),
  ];
  const faultAt = Date.now();
  try {
    await pause(p.lorisSeconds * 1000);
  } finally {
    loris.stop();
  }
  const clientsEnd = await stopAll(clients);
  const latencies = loginEach.flatMap((c) => c.latencies).sort((a, b) => a - b);
  const pct = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
  const problems: string[] = [];
  // Each client logs in about every 100-200 ms; a stalled accept loop would show as a handful.
  const perClient = loginEach.map((c) => c.log.seen.length);
  if (Math.min(...perClient) < p.lorisSeconds) problems.push(`clients logging in anew got through only ${perClient.join(', ')} statements in ${p.lorisSeconds} s`);
  const closed = loris.closedByAgent;
  return finish(ctx, {
    fault: `slow-loris (${p.lorisConnections} connections, 1 byte / ${BYTE_EVERY_MS / 1000} s)`,
    clients,
    dueAt: () => clientsEnd,
    since: faultAt,
    notes: [
      `${p.lorisConnections} slow connections held ${p.lorisSeconds} s; the agent closed ${closed.length} of them${closed.length ? ` after ${(Math.min(...closed) / 1000).toFixed(0)}-${(Math.max(...closed) / 1000).toFixed(0)} s` : ''}`,
      `meanwhile ${latencies.length} logins + statement: p50 ${pct(0.5)} ms, p99 ${pct(0.99)} ms, max ${latencies.at(-1)} ms`,
    ],
    problems,
  });
}
