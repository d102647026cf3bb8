// The baseline for any Node proxy: a TCP relay that only moves bytes, no parsing, no recording.
// Whatever the agent loses against it is the cost of Vigil's own work, not of Node's sockets.
// Run: tsx scripts/bench/bare-relay.ts UPSTREAM_HOST:PORT [LISTEN_PORT]
// Prints one JSON line {"listening": PORT} once it accepts connections.
import net from 'node:net';

const [upstream, listenArg] = process.argv.slice(2);
const m = /^(.+):(\d+)$/.exec(upstream ?? '');
if (!m) {
  process.stderr.write('usage: bare-relay.ts UPSTREAM_HOST:PORT [LISTEN_PORT]\n');
  process.exit(2);
}
const [, upHost, upPort] = m;

const server = net.createServer((client) => {
  client.setNoDelay(true);
  const server = net.connect({ host: upHost, port: Number(upPort) });
  server.setNoDelay(true);
  // pipe() handles back-pressure both ways; an error or close on one side ends the other.
  client.pipe(server);
  server.pipe(client);
  const end = () => {
    client.destroy();
    server.destroy();
  };
  client.on('error', end);
  server.on('error', end);
  client.on('close', end);
  server.on('close', end);
});

server.listen(Number(listenArg ?? 0), '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ listening: (server.address() as net.AddressInfo).port })}\n`);
});

// Nothing to flush: exit at once, open connections included.
const stop = () => process.exit(0);
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
// The driver going away must not leave this process behind.
process.stdin.on('end', stop);
process.stdin.resume();
