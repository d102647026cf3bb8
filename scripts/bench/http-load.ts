// bench:http's load generator, alone in its own process (so it shares an event loop with neither
// the agent, the upstream nor the hub's persister): autocannon over keep-alive connections, one
// run per command. autocannon's own latency histogram holds whole milliseconds, too coarse for an
// added latency under a millisecond, so every 2xx response's time (a float, from autocannon's
// `response` event) is kept here and the percentiles are taken from those.
// Run: tsx scripts/bench/http-load.ts   (bench:http runs it bundled)
//
// Talks to the driver in JSON lines. Out: {"ready": true} once started. In (stdin), one line:
//   {"run": {"url": "...", "headers": {...}, "connections": 10, "seconds": 10, "pipelining": 1}}
//   -> {"result": LoadResult}   or   {"failed": "message"}
// Stdin closing (the driver died), SIGTERM or SIGINT ends it.
import readline from 'node:readline';
import autocannon from 'autocannon';

export interface LoadRun {
  url: string;
  headers: Record<string, string>;
  connections: number;
  seconds: number;
  pipelining: number;
}

export interface LoadResult {
  /** 2xx responses per second over the run. */
  rps: number;
  /** 2xx responses. */
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  seconds: number;
  /** Latency of 2xx responses in ms (float, from every response). */
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
  /** autocannon's own percentiles (whole ms), for comparison with its CLI. */
  autocannon: { p50: number; p99: number; rps: number };
  /** Response bytes per second (2xx), MB/s. */
  mbps: number;
}

/** Nearest-rank percentile of values sorted ascending. */
function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function run(opts: LoadRun): Promise<LoadResult> {
  let times = new Float64Array(1 << 16);
  let ok = 0;
  let bytes = 0;
  const instance = autocannon({
    url: opts.url,
    headers: opts.headers,
    connections: opts.connections,
    duration: opts.seconds,
    pipelining: opts.pipelining,
    timeout: 30,
  });
  instance.on('response', (_client: unknown, status: number, resBytes: number, ms: number) => {
    if (status < 200 || status > 299) return;
    if (ok === times.length) {
      const grown = new Float64Array(times.length * 2);
      grown.set(times);
      times = grown;
    }
    times[ok++] = ms;
    bytes += resBytes;
  });
  const result = await instance;
  const sorted = times.subarray(0, ok).sort();
  let sum = 0;
  for (const t of sorted) sum += t;
  return {
    rps: ok / result.duration,
    ok,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    seconds: result.duration,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: ok ? sorted[ok - 1] : NaN,
    mean: ok ? sum / ok : NaN,
    autocannon: { p50: result.latency.p50, p99: result.latency.p99, rps: result.requests.average },
    mbps: bytes / 1048576 / result.duration,
  };
}

const say = (obj: unknown) => process.stdout.write(`${JSON.stringify(obj)}\n`);
const lines = readline.createInterface({ input: process.stdin });
lines.on('line', (line) => {
  if (!line.trim()) return;
  let cmd: { run?: LoadRun };
  try {
    cmd = JSON.parse(line);
  } catch {
    return say({ failed: `not JSON: ${line.slice(0, 100)}` });
  }
  if (!cmd.run) return say({ failed: `unknown command ${line.slice(0, 100)}` });
  run(cmd.run).then((result) => say({ result }), (err: Error) => say({ failed: err.message }));
});
const stop = () => process.exit(0);
lines.on('close', stop);
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
say({ ready: true });
