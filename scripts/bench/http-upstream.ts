// The HTTP target for bench:http, alone in its own process: a node:http server that answers
// GET /small with about 300 bytes of JSON and GET /big with 1 MiB of JSON (a list of items, as a
// large API listing is), both prepared once and sent with a Content-Length. Like a real API it
// insists on its own credential (`Authorization: Bearer $BENCH_UPSTREAM_KEY`): through the agent
// that proves the agent injected it; anything else gets 401.
// Run: tsx scripts/bench/http-upstream.ts [LISTEN_PORT]   (bench:http runs it bundled)
// Prints one JSON line {"listening": PORT} once it accepts connections; stdin closing (the driver
// died), SIGTERM or SIGINT ends it.
import http from 'node:http';
import type net from 'node:net';

const key = process.env.BENCH_UPSTREAM_KEY;
if (!key) {
  process.stderr.write('http-upstream: BENCH_UPSTREAM_KEY is not set\n');
  process.exit(2);
}
const expected = `Bearer ${key}`;

/** About 300 bytes: one object of a typical JSON API. */
const SMALL_BODY = Buffer.from(JSON.stringify({
  kind: 'Pod',
  apiVersion: 'v1',
  metadata: { name: 'web-7d4b9c8f6-x2kqp', namespace: 'default', uid: '3f1c2a9e-6b0d-4c1e-9a57-2e8d4f6b1c03', resourceVersion: '184467', labels: { app: 'web', tier: 'frontend' } },
  status: { phase: 'Running', podIP: '10.42.0.17', startTime: '2026-12-07T09:14:22Z', restartCount: 0 },
}));

const BIG_BYTES = 1024 * 1024;

/** Exactly 1 MiB of JSON: items until it is nearly full, the last one padded to the byte. */
function bigBody(): Buffer {
  const items: string[] = [];
  let size = '{"kind":"PodList","items":[]}'.length;
  for (let i = 0; ; i++) {
    const item = JSON.stringify({ name: `web-${i}`, namespace: `team-${i % 17}`, phase: i % 13 ? 'Running' : 'Pending', node: `node-${i % 5}`, restarts: i % 7, started: '2026-12-07T09:14:22Z' });
    if (size + item.length + 1 > BIG_BYTES - 200) break;
    items.push(item);
    size += item.length + (items.length > 1 ? 1 : 0);
  }
  const head = `{"kind":"PodList","items":[${items.join(',')},{"name":"pad","note":"`;
  const tail = '"}]}';
  return Buffer.from(head + 'x'.repeat(BIG_BYTES - head.length - tail.length) + tail);
}

const BIG_BODY = bigBody();
if (BIG_BODY.length !== BIG_BYTES) throw new Error(`http-upstream: the big body is ${BIG_BODY.length} bytes, not ${BIG_BYTES}`);
const UNAUTHORIZED = Buffer.from('{"kind":"Status","status":"Failure","reason":"Unauthorized"}');
const NOT_FOUND = Buffer.from('{"kind":"Status","status":"Failure","reason":"NotFound"}');

function send(res: http.ServerResponse, status: number, body: Buffer): void {
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': body.length });
  res.end(body);
}

const server = http.createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
  // GETs carry no body; anything sent is read and dropped so the connection stays usable.
  req.resume();
  if (req.headers.authorization !== expected) return send(res, 401, UNAUTHORIZED);
  if (req.url === '/small') return send(res, 200, SMALL_BODY);
  if (req.url === '/big') return send(res, 200, BIG_BODY);
  send(res, 404, NOT_FOUND);
});

server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ listening: (server.address() as net.AddressInfo).port, smallBytes: SMALL_BODY.length, bigBytes: BIG_BODY.length })}\n`);
});

// Nothing to flush: exit at once, open connections included.
const stop = () => process.exit(0);
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.on('end', stop);
process.stdin.resume();
