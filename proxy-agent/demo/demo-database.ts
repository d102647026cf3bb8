// The demo PostgreSQL target of `vigil dev`: an embedded PGlite database with sample personal data,
// served over the wire protocol on 127.0.0.1 so the agent reaches it like any real upstream.
// It runs in a worker thread (demo-database-worker.ts) and serves several sessions by taking
// turns one unit of work at a time (demo-wire-server.ts explains how they share the backend).
import fs from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { Logger } from '../../common/log.ts';
import type { UpstreamSettings } from '../postgres/upstream-login.ts';
import type { DemoWorkerData, DemoWorkerMessage, DemoWorkerReply } from './demo-worker-protocol.ts';

export interface DemoDatabaseOptions {
  /** Where PGlite keeps the database (created and seeded on first use); in memory without it. */
  dataDir?: string;
  /** TCP port on 127.0.0.1; 0 picks a free one. */
  port: number;
  /** Log level inside the worker (its logs go to stderr like every other). */
  logLevel?: string;
  logger?: Logger;
}

export interface DemoDatabase {
  port: number;
  /** How the agent logs in: PGlite accepts any user and password. */
  settings: UpstreamSettings;
  /** True when this start created the sample tables (first run on this dataDir). */
  seeded: boolean;
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';
const START_TIMEOUT_MS = 120_000;
const STOP_TIMEOUT_MS = 10_000;

export async function startDemoDatabase(opts: DemoDatabaseOptions): Promise<DemoDatabase> {
  if (opts.dataDir) fs.mkdirSync(opts.dataDir, { recursive: true });
  const workerData: DemoWorkerData = { dataDir: opts.dataDir, host: HOST, port: opts.port, logLevel: opts.logLevel ?? 'warn' };
  const worker = new Worker(new URL('./demo-worker-boot.mjs', import.meta.url), { workerData });
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));

  const ready = await new Promise<Extract<DemoWorkerReply, { type: 'ready' }>>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the demo database did not start in time')), START_TIMEOUT_MS);
    const settle = (fn: () => void) => { clearTimeout(timer); worker.off('message', onMessage); fn(); };
    const onMessage = (message: DemoWorkerReply) => {
      if (message.type === 'ready') settle(() => resolve(message));
      else if (message.type === 'failed') settle(() => reject(new Error(`the demo database failed to start: ${message.message}`)));
    };
    worker.on('message', onMessage);
    worker.once('error', (err) => settle(() => reject(new Error(`the demo database failed to start: ${err.message}`))));
    worker.once('exit', (code) => settle(() => reject(new Error(`the demo database stopped during start-up (exit code ${code})`))));
  }).catch(async (err) => {
    await worker.terminate();
    throw err;
  });

  // After start-up a failure of the worker ends the demo database only, never the process.
  worker.on('error', (err) => opts.logger?.error({ err: err.message }, 'the demo database failed'));
  worker.on('message', (message: DemoWorkerReply) => {
    if (message.type === 'fatal') opts.logger?.error({ err: message.message }, 'the demo database stopped working: restart `vigil dev`');
  });

  let stopping: Promise<void> | null = null;
  const stop = () => {
    stopping ??= (async () => {
      const stopped = new Promise<void>((resolve) => {
        worker.on('message', (message: DemoWorkerReply) => { if (message.type === 'stopped') resolve(); });
      });
      worker.postMessage({ type: 'stop' } satisfies DemoWorkerMessage);
      // A clean stop lets PGlite flush its files; a wedged worker is ended regardless.
      await Promise.race([stopped, exited, new Promise((r) => setTimeout(r, STOP_TIMEOUT_MS).unref())]);
      await worker.terminate();
    })();
    return stopping;
  };

  return {
    port: ready.port,
    seeded: ready.seeded,
    settings: { host: HOST, port: ready.port, database: 'postgres', user: 'postgres', password: 'demo', tls: 'disable' },
    stop,
  };
}
