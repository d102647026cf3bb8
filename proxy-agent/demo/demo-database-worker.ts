// The demo database's own thread: PGlite runs its queries synchronously (WebAssembly), so a slow
// statement such as `SELECT pg_sleep(5)` stalls only this thread, never the agent relaying other
// sessions nor the hub of the same `vigil dev` process.
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';
import { createLogger } from '../../common/log.ts';
import { seedDemoData } from './demo-seed.ts';
import { DemoWireServer } from './demo-wire-server.ts';
import type { DemoWorkerData, DemoWorkerMessage, DemoWorkerReply } from './demo-worker-protocol.ts';

const port = parentPort!;
const input = workerData as DemoWorkerData;
const reply = (message: DemoWorkerReply) => port.postMessage(message);

async function main(): Promise<void> {
  const logger = createLogger(input.logLevel, 'vigil-demo-db');
  const db = new PGlite(input.dataDir ? { dataDir: input.dataDir } : {});
  await db.waitReady;
  const { seeded } = await seedDemoData(db);
  const server = new DemoWireServer(db, { logger, onFatal: (err) => reply({ type: 'fatal', message: err.message }) });
  const address = await server.listen(input.host, input.port);
  logger.debug({ port: address.port, seeded }, 'demo database listening');
  port.on('message', (message: DemoWorkerMessage) => {
    if (message.type !== 'stop') return;
    void (async () => {
      await server.close();
      // A PGlite whose backend exited cannot be closed cleanly; the thread ends regardless.
      if (!server.failed) await db.close();
      reply({ type: 'stopped' });
      port.close();
    })();
  });
  reply({ type: 'ready', port: address.port, seeded });
}

main().catch((err: Error) => reply({ type: 'failed', message: err.message }));
