// Messages between startDemoDatabase (main thread) and the demo database's worker thread.

export interface DemoWorkerData {
  /** PGlite data directory; an in-memory database without it. */
  dataDir?: string;
  host: string;
  port: number;
  logLevel: string;
}

export type DemoWorkerMessage = { type: 'stop' };

export type DemoWorkerReply =
  | { type: 'ready'; port: number; seeded: boolean }
  /** Start-up failed. */
  | { type: 'failed'; message: string }
  /** PGlite stopped working after start-up; the server refuses clients from then on. */
  | { type: 'fatal'; message: string }
  | { type: 'stopped' };
