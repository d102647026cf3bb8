import fs from 'node:fs';
import net from 'node:net';

/**
 * A TCP port that was free a moment ago on 127.0.0.1, below the kernel's ephemeral range. A port
 * from that range (what listen(0) gives) can be taken by any outgoing connection between the
 * moment a test picks it and the moment its server binds it, or binds it again after a restart;
 * ports below it are only ever given out when asked for by number.
 */
export async function freePort(): Promise<number> {
  const below = ephemeralLow();
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = FIXED_LOW + Math.floor(Math.random() * (below - FIXED_LOW));
    if (await canListen(port)) return port;
  }
  throw new Error(`no free port between ${FIXED_LOW} and ${below} after 100 tries`);
}

const FIXED_LOW = 20_000;

function ephemeralLow(): number {
  try {
    const low = Number(fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > FIXED_LOW + 1000 ? low : 32_768;
  } catch {
    return 32_768;
  }
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** Resolves once something accepts TCP connections on host:port, or rejects after timeoutMs. */
export async function waitForPort(port: number, timeoutMs = 20_000, host = '127.0.0.1'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ port, host });
      socket.once('connect', () => { socket.destroy(); resolve(true); });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${host}:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
