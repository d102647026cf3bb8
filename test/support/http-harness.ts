// The HTTP data path for integration tests, from real parts: an upstream HTTP server (node:http,
// a Kubernetes-style JSON API, server-sent events, large and compressed bodies, a WebSocket echo)
// that insists on the target's own credential, the agent's HTTP listeners on free ports, the
// in-process bus, the persister and a store. Tests drive it with curl, fetch and ws.
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import type net from 'node:net';
import { WebSocketServer } from 'ws';
import { parseConfig } from '../../common/config/load-config.ts';
import type { Config } from '../../common/config/schema.ts';
import type { EventBus } from '../../common/bus/event-bus.ts';
import type { VigilEvent } from '../../common/events/index.ts';
import type { ControlBus } from '../../common/control/control-bus.ts';
import { createInProcessBus } from '../../common/bus/in-process-bus.ts';
import { createLogger, silentLogger } from '../../common/log.ts';
import { ensureSigningKey, TokenSigner } from '../../common/tokens.ts';
import { startAgent, type Agent } from '../../proxy-agent/agent.ts';
import { Persister } from '../../server/recordings/ingest/persister.ts';
import { createMemoryStore, type HubStores } from '../../server/store/create-store.ts';
import type { RecordingStore } from '../../server/recordings/store/recording-store.ts';
import { recordings, type Recordings } from './recordings.ts';

const logger = process.env.VIGIL_TEST_LOG ? createLogger(process.env.VIGIL_TEST_LOG) : silentLogger;

/** What the upstream saw of one request (never the credential itself: whether it was the target's). */
export interface SeenRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  credentialOk: boolean;
  body: string;
}

export interface Upstream {
  url: string;
  /** The target's own API key (the agent injects it; clients never hold it). */
  apiKey: string;
  seen: SeenRequest[];
  server: http.Server;
  close(): Promise<void>;
}

const CONSOLE_PAGE = `<!doctype html><html><head><title>Pods console</title></head><body><h1>Pods</h1><ul id="pods"></ul>
<script>fetch('/api/v1/namespaces/default/pods').then((r) => r.json()).then((d) => {
  for (const p of d.items) { const li = document.createElement('li'); li.textContent = p.metadata.name; document.getElementById('pods').append(li); }
});</script></body></html>`;

export const PODS = { kind: 'PodList', apiVersion: 'v1', items: [{ metadata: { name: 'web-1', namespace: 'default' }, status: { phase: 'Running' } }] };

/** The upstream API. Every route but /public answers 401 without the target's key. */
export async function startUpstream(): Promise<Upstream> {
  const apiKey = `upstream-key-${crypto.randomBytes(12).toString('hex')}`;
  const seen: SeenRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const credentialOk = req.headers.authorization === `Bearer ${apiKey}`;
      const { authorization: _auth, ...headers } = req.headers;
      seen.push({ method: req.method!, url: req.url!, headers, credentialOk, body: body.slice(0, 10_000) });
      const url = new URL(req.url!, 'http://upstream');
      const json = (status: number, value: unknown, extra: http.OutgoingHttpHeaders = {}) => {
        res.writeHead(status, { 'content-type': 'application/json', ...extra });
        res.end(JSON.stringify(value));
      };
      if (!credentialOk && url.pathname !== '/public') return json(401, { kind: 'Status', status: 'Failure', reason: 'Unauthorized' });
      switch (true) {
        case url.pathname === '/api/v1/namespaces/default/pods':
          return json(200, PODS);
        case url.pathname === '/api/v1/namespaces/default/secrets/db':
          return json(200, { kind: 'Secret', metadata: { name: 'db' }, data: { password: 'hunter2-upstream-secret', username: 'app' } }, { 'set-cookie': 'upstream_session=sess-abc123; Path=/; HttpOnly' });
        case url.pathname === '/echo':
          return json(200, { method: req.method, body, query: url.search });
        case url.pathname === '/headers':
          return json(200, { headers });
        case url.pathname === '/gzip': {
          res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
          return res.end(zlib.gzipSync(JSON.stringify({ compressed: true, email: 'ada@example.com' })));
        }
        case url.pathname === '/big': {
          const size = Number(url.searchParams.get('size') ?? 1024 * 1024);
          res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': size });
          const block = crypto.createHash('sha256').update('vigil').digest();
          let left = size;
          const write = () => {
            while (left > 0) {
              const n = Math.min(left, 64 * 1024);
              left -= n;
              const piece = Buffer.alloc(n);
              for (let i = 0; i < n; i += block.length) block.copy(piece, i);
              if (!res.write(piece)) return void res.once('drain', write);
            }
            res.end();
          };
          return write();
        }
        case url.pathname === '/events': {
          // Server-sent events, one every `gap` ms; the stream stays open until `count` were sent.
          const count = Number(url.searchParams.get('count') ?? 3);
          const gap = Number(url.searchParams.get('gap') ?? 100);
          res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
          let n = 0;
          const tick = () => {
            n += 1;
            res.write(`id: ${n}\nevent: update\ndata: {"n":${n},"token":"sse-secret-${n}"}\n\n`);
            if (n >= count) return void res.end();
            setTimeout(tick, gap);
          };
          return tick();
        }
        case url.pathname.startsWith('/admin/'):
          res.writeHead(204);
          return res.end();
        case url.pathname === '/console':
          // A small web console: its script reads the API from the same origin (the login cookie rides along).
          res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
          return res.end(CONSOLE_PAGE);
        case url.pathname === '/public':
          return json(200, { public: true });
        default:
          return json(404, { kind: 'Status', status: 'Failure', reason: 'NotFound' });
      }
    });
  });
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    const credentialOk = req.headers.authorization === `Bearer ${apiKey}`;
    seen.push({ method: 'GET', url: req.url!, headers: req.headers, credentialOk, body: '' });
    if (!credentialOk) return socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n');
    wss.handleUpgrade(req, socket, head, (ws) => ws.on('message', (data, isBinary) => ws.send(isBinary ? data : `echo: ${data.toString()}`, { binary: isBinary })));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    apiKey,
    seen,
    server,
    async close() {
      for (const c of wss.clients) c.terminate();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface HttpHarness extends Recordings {
  upstream: Upstream;
  agent: Agent;
  bus: EventBus;
  stores: HubStores;
  store: RecordingStore;
  config: Config;
  dir: string;
  /** The agent's base URL for a target. */
  url(target?: string): string;
  token(user?: string, target?: string, ttlMs?: number): Promise<string>;
  /**
   * The events of all of `user`'s sessions, once they have all ended and hold `requests` requests
   * between them (a slow run may let a session go idle between two requests of one test).
   */
  userEvents(user: string, requests: number): Promise<VigilEvent[]>;
  stop(): Promise<void>;
}

export interface HttpHarnessOptions {
  /** More targets, or settings for the default `api` target. */
  targets?: Record<string, unknown>[];
  api?: Record<string, unknown>;
  control?: ControlBus;
  /** Hub settings (publicUrl: where browsers are sent to log in). */
  hub?: Record<string, unknown>;
}

export async function startHttpHarness(opts: HttpHarnessOptions = {}): Promise<HttpHarness> {
  const upstream = await startUpstream();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-http-harness-'));
  const keys = ensureSigningKey(dir);
  process.env.VIGIL_TEST_UPSTREAM_KEY = upstream.apiKey;
  const credential = { type: 'bearer', tokenEnv: 'VIGIL_TEST_UPSTREAM_KEY' };
  const config = parseConfig({
    dataDir: dir,
    ...(opts.hub ? { hub: opts.hub } : {}),
    targets: [
      { name: 'api', protocol: 'http', listen: '127.0.0.1:0', upstream: { url: upstream.url, credential }, idleTimeout: '500ms', ...opts.api },
      ...(opts.targets ?? []).map((t) => ({ protocol: 'http', listen: '127.0.0.1:0', upstream: { url: upstream.url, credential }, idleTimeout: '500ms', ...t })),
    ],
  });
  const bus = createInProcessBus();
  const stores = await createMemoryStore();
  const store = stores.recordings;
  const persister = new Persister({ bus, store, logger, blockMs: 200 });
  persister.start();
  const agent = await startAgent({ config, bus, logger, hubPublicKeyPem: keys.publicKeyPem, control: opts.control });
  const signer = await TokenSigner.fromPem(keys.privateKeyPem);
  const recorded = recordings(store);
  const scheme = (target: string) => (config.targets.find((t) => t.name === target) as { tls?: unknown } | undefined)?.tls ? 'https' : 'http';
  return {
    upstream, agent, bus, stores, store, config, dir,
    ...recorded,
    url: (target = 'api') => `${scheme(target)}://127.0.0.1:${agent.listeners.get(target)!.port}`,
    token: (user = 'alice', target = 'api', ttlMs = 60_000) => signer.connectionToken(user, target, ttlMs),
    async userEvents(user, requests) {
      const deadline = Date.now() + 20_000;
      for (;;) {
        const mine = (await recorded.sessions()).filter((x) => x.events[0]?.user === user);
        const events = mine.flatMap((x) => x.events);
        const done = mine.every((x) => x.events.some((e) => e.type === 'session.end'));
        if (done && events.filter((e) => e.type === 'http.request').length >= requests) return events;
        if (Date.now() > deadline) throw new Error(`${user}'s sessions do not hold ${requests} requests, ended`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async stop() {
      await agent.stop();
      await persister.stop();
      await bus.close();
      await stores.close();
      await upstream.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
