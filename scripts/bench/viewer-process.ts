// Dashboard viewers for bench:live, in a process of their own (so the hub's CPU and memory are the
// hub's): Socket.IO clients logged in with the given cookies, as the dashboard connects.
// Run: viewer-process.ts '{"url": HUB_URL, "cookies": [COOKIE, ...]}'  (bundled by bench:live).
//
// JSON lines. Out: {"ready": true}. In (stdin), each answered with one line:
//   {"connect": N, "follow": bool}  -> {"connected": N}   N more sockets; with follow, each follows
//                                      the Live list (live:subscribe), as an open Live page does
//   {"watch": [sessionId...], "all": bool} -> {"watching": n}  viewer i watches session i mod n
//                                      (all: every viewer watches every session)
//   {"reset": true}                  -> {"reset": true}   forget the latencies measured so far
//   {"report": true}                 -> {"report": {...}} events received, latency percentiles,
//                                      and any seq received twice or out of order
// Latency of an event: receipt here minus its `time` (stamped by the agent when it emitted the
// event, in whole milliseconds: the figures carry up to 1 ms of that rounding).
import readline from 'node:readline';
import { io as connect, type Socket } from 'socket.io-client';
import type { ClientToServer, ServerToClient } from '../../common/live/contract.ts';
import { percentile } from './report.ts';

type Client = Socket<ServerToClient, ClientToServer>;

const { url, cookies } = JSON.parse(process.argv[2] ?? '{}') as { url: string; cookies: string[] };
const say = (obj: unknown) => process.stdout.write(`${JSON.stringify(obj)}\n`);

const sockets: Client[] = [];
/** Per socket and session: the next seq expected (the feed promises each seq once, in order). */
const nextSeq = new Map<Client, Map<string, number>>();
let received = 0;
let disorder = 0;
let latencies: number[] = [];
const wallNow = () => performance.timeOrigin + performance.now();

function open(i: number): Promise<Client> {
  const socket: Client = connect(url, {
    transports: ['websocket'],
    extraHeaders: { cookie: cookies[i % cookies.length] },
    reconnection: false,
  });
  const expected = new Map<string, number>();
  nextSeq.set(socket, expected);
  socket.on('events', ({ sessionId, events }) => {
    const now = wallNow();
    let next = expected.get(sessionId);
    for (const e of events) {
      received++;
      if (next !== undefined && e.seq !== next) disorder++;
      next = e.seq + 1;
      latencies.push(now - Date.parse(e.time));
    }
    if (next !== undefined) expected.set(sessionId, next);
  });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (err) => reject(new Error(`viewer ${i}: ${err.message}`)));
  });
}

async function watch(socket: Client, sessionId: string): Promise<void> {
  const ack = await socket.timeout(30_000).emitWithAck('watch', { sessionId });
  if (!ack.ok) throw new Error(`watch ${sessionId}: ${ack.error.message}`);
  nextSeq.get(socket)!.set(sessionId, 1);
}

async function handle(cmd: Record<string, unknown>): Promise<unknown> {
  if (typeof cmd.connect === 'number') {
    const fresh: Client[] = [];
    // A few at a time: a real crowd does not arrive in one instant either.
    for (let i = 0; i < cmd.connect; i += 25) {
      const batch = await Promise.all(Array.from({ length: Math.min(25, cmd.connect - i) }, (_, k) => open(sockets.length + i + k)));
      fresh.push(...batch);
    }
    sockets.push(...fresh);
    if (cmd.follow) {
      await Promise.all(fresh.map(async (s) => {
        const ack = await s.timeout(30_000).emitWithAck('live:subscribe');
        if (!ack.ok) throw new Error(`live:subscribe: ${ack.error.message}`);
      }));
    }
    return { connected: sockets.length };
  }
  if (Array.isArray(cmd.watch)) {
    const ids = cmd.watch as string[];
    let n = 0;
    await Promise.all(sockets.map(async (s, i) => {
      for (const id of cmd.all ? ids : [ids[i % ids.length]]) {
        await watch(s, id);
        n++;
      }
    }));
    return { watching: n };
  }
  if (cmd.reset) {
    latencies = [];
    received = 0;
    disorder = 0;
    return { reset: true };
  }
  if (cmd.report) {
    const sorted = Float64Array.from(latencies).sort();
    const arr = Array.from(sorted);
    return {
      report: {
        received, disorder, samples: arr.length,
        p50: percentile(arr, 50), p90: percentile(arr, 90), p99: percentile(arr, 99), max: arr.at(-1) ?? NaN,
      },
    };
  }
  throw new Error(`unknown command ${JSON.stringify(cmd)}`);
}

readline.createInterface({ input: process.stdin })
  .on('line', (line) => {
    if (!line.trim()) return;
    let cmd: Record<string, unknown>;
    try {
      cmd = JSON.parse(line);
    } catch {
      say({ error: `not JSON: ${line}` });
      return;
    }
    handle(cmd).then(say, (err: Error) => say({ error: err.message }));
  })
  .on('close', () => {
    for (const s of sockets) s.disconnect();
    process.exit(0);
  });
process.on('SIGTERM', () => process.exit(0));
say({ ready: true });
