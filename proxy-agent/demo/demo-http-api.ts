// The demo HTTP target of `vigil dev` when the config names no real API: a small internal admin API
// in Kubernetes-style JSON on 127.0.0.1, which the agent reaches like any upstream. Like a real one
// it wants its own credential: every request must carry `Authorization: Bearer KEY`, a key made at
// each start and given to the agent only (the target's injected credential), so whoever calls it
// through Vigil never holds it; without it the answer is 401. Its data is fake.
//
//   GET    /                                                   the routes (discovery)
//   GET    /api/v1/whoami                                      whether the request carried the key (never the key)
//   GET    /api/v1/namespaces/default/pods                     a PodList
//   GET    /api/v1/namespaces/default/secrets/db-credentials   a Secret with a password and a token
//   GET    /api/v1/users[?email=...]                           the users (by e-mail)
//   POST   /api/v1/users                                       creates a user; echoes it, with the password sent
//   DELETE /admin/users/:id                                    204 (the demo target's guardrail refuses it first)
//   GET    /events                                             server-sent events a second apart, then the end
//   GET    /ws                                                 a WebSocket that echoes every message
import crypto from 'node:crypto';
import http from 'node:http';
import type net from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { Logger } from '../../common/log.ts';

const HOST = '127.0.0.1';
const MAX_BODY_BYTES = 64 * 1024;
const MAX_USERS = 200;

export interface DemoHttpApiOptions {
  /** TCP port on 127.0.0.1; 0 (the default) picks a free one. */
  port?: number;
  /** Between two server-sent events of /events (default 1 s). */
  eventIntervalMs?: number;
  logger: Logger;
}

export interface DemoHttpApi {
  port: number;
  /** http://127.0.0.1:PORT */
  url: string;
  /** The API's own key, made at this start: the agent sends it as `Authorization: Bearer KEY`. */
  key: string;
  stop(): Promise<void>;
}

/** The Secret's values (fake): a client reads them, recordings show them masked. */
export const DEMO_API_SECRET = {
  host: 'payments-db.internal.example',
  username: 'payments_app',
  password: 'Vigil-Demo-Passw0rd-4f9K2q',
  token: 'demo_svc_7Hq2Lm9XwR4tZ8pV1cN6',
} as const;

const ROUTES = [
  'GET /api/v1/whoami',
  'GET /api/v1/namespaces/default/pods',
  'GET /api/v1/namespaces/default/secrets/db-credentials',
  'GET /api/v1/users?email=...',
  'POST /api/v1/users',
  'DELETE /admin/users/:id',
  'GET /events',
  'GET /ws (WebSocket echo)',
];

const PODS = [
  { name: 'payments-api-7f9c6d-x2k4q', app: 'payments-api', image: 'registry.internal.example/payments-api:2.14.1', node: 'node-a', ip: '10.42.0.17' },
  { name: 'checkout-web-5d8b9c-lm2p7', app: 'checkout-web', image: 'registry.internal.example/checkout-web:8.3.0', node: 'node-b', ip: '10.42.1.23' },
  { name: 'ledger-worker-6c4f8d-qq9zt', app: 'ledger-worker', image: 'registry.internal.example/ledger-worker:1.9.7', node: 'node-a', ip: '10.42.0.31' },
];

interface User { id: number; name: string; email: string; role: string; createdAt: string }

const SEED_USERS: readonly Omit<User, 'createdAt'>[] = [
  { id: 1, name: 'Ada Lovelace', email: 'ada.lovelace@example.com', role: 'admin' },
  { id: 2, name: 'Grace Hopper', email: 'grace.hopper@example.com', role: 'editor' },
  { id: 3, name: 'Alan Turing', email: 'alan.turing@example.com', role: 'viewer' },
  { id: 4, name: 'Katherine Johnson', email: 'katherine.johnson@example.com', role: 'viewer' },
];

const EVENTS = [
  { event: 'pod-status', data: { pod: 'payments-api-7f9c6d-h8w3n', phase: 'Pending' } },
  { event: 'pod-status', data: { pod: 'payments-api-7f9c6d-h8w3n', phase: 'ContainerCreating' } },
  { event: 'secret-rotated', data: { kind: 'Secret', name: 'db-credentials', token: 'demo_svc_9Kd3Pq7VnT2xW5mB8rZ4' } },
  { event: 'pod-status', data: { pod: 'payments-api-7f9c6d-h8w3n', phase: 'Running', podIP: '10.42.1.40' } },
];

type Answer = (status: number, body?: unknown, headers?: http.OutgoingHttpHeaders) => void;

export async function startDemoHttpApi(opts: DemoHttpApiOptions): Promise<DemoHttpApi> {
  const key = crypto.randomBytes(24).toString('base64url');
  const expected = Buffer.from(`Bearer ${key}`);
  const authorized = (req: http.IncomingMessage) => {
    const given = Buffer.from(req.headers.authorization ?? '');
    return given.length === expected.length && crypto.timingSafeEqual(given, expected);
  };
  const started = new Date().toISOString();
  const users: User[] = SEED_USERS.map((u) => ({ ...u, createdAt: started }));
  const state: ApiState = { users, nextId: users.length + 1, streams: new Set(), eventIntervalMs: opts.eventIntervalMs ?? 1000 };
  const log = opts.logger.child({ component: 'demo-api' });

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://demo-api');
    const answer: Answer = (status, body, headers = {}) => {
      log.debug({ method: req.method, path: url.pathname, status }, 'demo api request');
      if (body === undefined) {
        res.writeHead(status, headers).end();
        return;
      }
      res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(`${JSON.stringify(body, null, 2)}\n`);
    };
    if (!authorized(req)) return answer(401, failure(401, 'Unauthorized', 'this API wants its own key: Authorization: Bearer KEY'), { 'www-authenticate': 'Bearer realm="demo-api"' });
    route(req, res, url, answer, state);
  });
  const sockets = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });
  sockets.on('connection', (ws) => {
    ws.on('error', () => ws.terminate());
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  });
  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const refuse = (status: number, reason: string) => {
      const body = `${JSON.stringify(failure(status, reason, `cannot open a WebSocket here: ${reason}`))}\n`;
      socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    };
    if (!authorized(req)) return refuse(401, 'Unauthorized');
    if (new URL(req.url ?? '/', 'http://demo-api').pathname !== '/ws') return refuse(404, 'NotFound');
    sockets.handleUpgrade(req, socket, head, (ws) => sockets.emit('connection', ws, req));
  });
  server.on('clientError', (_err, socket: Duplex) => socket.destroy());

  const address = await new Promise<net.AddressInfo>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, HOST, () => {
      server.off('error', reject);
      resolve(server.address() as net.AddressInfo);
    });
  });
  return {
    port: address.port,
    url: `http://${HOST}:${address.port}`,
    key,
    async stop() {
      for (const s of state.streams) {
        clearTimeout(s.timer);
        s.res.destroy();
      }
      for (const ws of sockets.clients) ws.terminate();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}

interface ApiState {
  users: User[];
  nextId: number;
  /** The /events streams under way. */
  streams: Set<{ res: http.ServerResponse; timer?: NodeJS.Timeout }>;
  eventIntervalMs: number;
}

function route(req: http.IncomingMessage, res: http.ServerResponse, url: URL, answer: Answer, state: ApiState): void {
  const { pathname } = url;
  const method = req.method ?? 'GET';
  const deleting = /^\/admin\/users\/([^/]+)$/.exec(pathname);
  if (deleting) {
    if (method !== 'DELETE') return answer(405, failure(405, 'MethodNotAllowed', `${method} is not allowed here`), { allow: 'DELETE' });
    const i = state.users.findIndex((u) => String(u.id) === deleting[1]);
    if (i >= 0) state.users.splice(i, 1);
    return answer(204);
  }
  if (pathname === '/api/v1/users' && method === 'POST') return void createUser(req, state, answer);
  if (method !== 'GET' && method !== 'HEAD') {
    return answer(405, failure(405, 'MethodNotAllowed', `${method} is not allowed here`), { allow: pathname === '/api/v1/users' ? 'GET, POST' : 'GET' });
  }
  switch (pathname) {
    case '/':
      return answer(200, { kind: 'APIRoutes', paths: ROUTES });
    case '/api/v1/whoami':
      // The request got here, so it carried the key: only the agent has it.
      return answer(200, { kind: 'Whoami', authenticatedAs: 'the Vigil agent', keyMatched: true, note: "the API's key was added by the agent; the client never held it" });
    case '/api/v1/namespaces/default/pods':
      return answer(200, podList());
    case '/api/v1/namespaces/default/secrets/db-credentials':
      return answer(200, {
        kind: 'Secret', apiVersion: 'v1', type: 'Opaque',
        metadata: { name: 'db-credentials', namespace: 'default', labels: { app: 'payments-api' } },
        data: DEMO_API_SECRET,
      });
    case '/api/v1/users': {
      const email = url.searchParams.get('email');
      const items = email === null ? state.users : state.users.filter((u) => u.email.toLowerCase() === email.toLowerCase());
      return answer(200, { kind: 'UserList', apiVersion: 'v1', items });
    }
    case '/events':
      return streamEvents(res, state);
    default:
      return answer(404, failure(404, 'NotFound', `no route ${method} ${pathname}; GET / lists them`));
  }
}

function podList() {
  return {
    kind: 'PodList',
    apiVersion: 'v1',
    items: PODS.map((p) => ({
      metadata: { name: p.name, namespace: 'default', labels: { app: p.app } },
      spec: { nodeName: p.node, containers: [{ name: p.app, image: p.image }] },
      status: { phase: 'Running', podIP: p.ip },
    })),
  };
}

function createUser(req: http.IncomingMessage, state: ApiState, answer: Answer): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let tooLarge = false;
  req.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) tooLarge = true;
    else chunks.push(chunk);
  });
  req.on('error', () => undefined);
  req.on('end', () => {
    if (tooLarge) return answer(413, failure(413, 'RequestEntityTooLarge', `a user is at most ${MAX_BODY_BYTES} bytes of JSON`));
    let body: unknown;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      return answer(400, failure(400, 'BadRequest', 'expected a JSON object such as {"name": "...", "email": "...", "password": "..."}'));
    }
    const given = (typeof body === 'object' && body !== null && !Array.isArray(body) ? body : {}) as Record<string, unknown>;
    if (typeof given.email !== 'string' || !given.email.includes('@')) return answer(422, failure(422, 'Invalid', 'email: expected an e-mail address'));
    if (state.users.length >= MAX_USERS) return answer(507, failure(507, 'InsufficientStorage', 'the demo API holds no more users'));
    const user: User = {
      id: state.nextId++,
      name: typeof given.name === 'string' ? given.name : given.email.split('@')[0],
      email: given.email,
      role: typeof given.role === 'string' ? given.role : 'viewer',
      createdAt: new Date().toISOString(),
    };
    state.users.push(user);
    // Echoed as a careless API would: what the client wrote comes back, password included.
    const echoed = typeof given.password === 'string' ? { ...user, password: given.password } : user;
    answer(201, { kind: 'User', apiVersion: 'v1', ...echoed }, { location: `/api/v1/users?email=${encodeURIComponent(user.email)}` });
  });
}

function streamEvents(res: http.ServerResponse, { streams, eventIntervalMs }: ApiState): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  const stream: { res: http.ServerResponse; timer?: NodeJS.Timeout } = { res };
  streams.add(stream);
  res.on('close', () => {
    clearTimeout(stream.timer);
    streams.delete(stream);
  });
  let next = 0;
  const send = () => {
    const { event, data } = EVENTS[next];
    res.write(`id: ${next + 1}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    next += 1;
    if (next < EVENTS.length) stream.timer = setTimeout(send, eventIntervalMs);
    else res.end();
  };
  send();
}

/** A Kubernetes-style Status for an error. */
function failure(code: number, reason: string, message: string) {
  return { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason, message, code };
}
