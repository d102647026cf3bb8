// The agent alone in its own process, for the benchmark: its CPU time and memory are then its own,
// comparable with pgbouncer's and the bare relay's.
// Run: tsx scripts/bench/agent-process.ts CONFIG   (CONFIG: a YAML/JSON file, or inline JSON);
// bench:pg runs it bundled (dist/bench/agent-process.mjs), as `npm run build` ships the agent.
// The config needs redis.url and targets with upstreams; the hub's public key is read from
// agent.hubPublicKeyFile or dataDir (as `vigil agent` does).
//
// Talks to the driver in JSON lines. Out: {"listening": {target: port}} once ready. In (stdin):
//   stats  -> {"stats": PublisherStats, "sessions": n}
//   mem    -> {"mem": process.memoryUsage(), "afterGc": the same after gc() or null}
//   drain  -> {"drained": true, "ms": n} once every event published so far is persisted (or
//             {"drained": false, "error": "..."} after 120 s)
// Stdin closing (the driver died) or SIGTERM/SIGINT stops it; a clean exit lets --cpu-prof write.
import fs from 'node:fs';
import readline from 'node:readline';
import { createBus } from '../../common/bus/create-bus.ts';
import { loadConfig, parseConfig } from '../../common/config/load-config.ts';
import { createLogger } from '../../common/log.ts';
import { keyPaths } from '../../common/tokens.ts';
import { startAgent } from '../../proxy-agent/agent.ts';
import { createNullBus } from './null-bus.ts';

const arg = process.argv[2];
if (!arg) {
  process.stderr.write('usage: agent-process.ts CONFIG_FILE|JSON\n');
  process.exit(2);
}
const config = arg.trimStart().startsWith('{') ? parseConfig(JSON.parse(arg), '(argv)') : loadConfig(arg);
if (!config.redis.url) throw new Error('agent-process: the config needs redis.url (the hub persists from Redis)');
const logger = createLogger(config.log.level);
const hubPublicKeyPem = fs.readFileSync(config.agent.hubPublicKeyFile ?? keyPaths(config.dataDir).publicKey, 'utf8');

// BENCH_AGENT_BUS=null: the diagnostic bus that records nothing (see null-bus.ts).
const bus = process.env.BENCH_AGENT_BUS === 'null' ? createNullBus() : await createBus(config.redis.url, logger, config.redis.keyPrefix);
const agent = await startAgent({ config, bus, logger, hubPublicKeyPem });
const say = (obj: unknown) => process.stdout.write(`${JSON.stringify(obj)}\n`);
say({ listening: Object.fromEntries([...agent.listeners].map(([name, a]) => [name, a.port])) });

let stopping = false;
async function stop(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  // Bounded: a stuck bus must not keep the process (and the benchmark's clean-up) waiting.
  const timer = setTimeout(() => process.exit(code), 5000);
  timer.unref();
  try {
    await agent.stop();
    await bus.close();
  } catch (err) {
    logger.warn({ err: (err as Error).message }, 'agent-process: stop failed');
  }
  process.exit(code);
}
process.on('SIGTERM', () => void stop(0));
process.on('SIGINT', () => void stop(0));

const lines = readline.createInterface({ input: process.stdin });
lines.on('line', (line) => {
  const cmd = line.trim();
  if (cmd === 'stats') say({ stats: agent.publisher.stats(), sessions: agent.sessionCount() });
  else if (cmd === 'mem') {
    // With --expose-gc, also after a full collection: live memory apart from garbage not yet freed.
    const before = process.memoryUsage();
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    say({ mem: before, afterGc: gc ? process.memoryUsage() : null });
  } else if (cmd === 'drain') {
    const started = Date.now();
    agent.publisher.drain(120_000).then(
      () => say({ drained: true, ms: Date.now() - started }),
      (err: Error) => say({ drained: false, error: err.message }),
    );
  } else if (cmd) say({ error: `unknown command ${cmd}` });
});
lines.on('close', () => void stop(0));
