// Shell lines read without stalling the agent: a short line (what people type, most exec command
// lines) is read at once on the event loop, well under a millisecond; a longer one goes to a worker
// thread, which is given a deadline: a line it cannot read in time is unknown, and the worker is
// replaced. Every other session keeps its pace whatever a client sends.
import { Worker } from 'node:worker_threads';
import { readShellLine, type ShellReading } from './shell-reading.ts';

/** Lines up to this many bytes are read inline. */
const INLINE_MAX_BYTES = 2048;
const DEADLINE_MS = 3000;

interface Pending {
  resolve(reading: ShellReading): void;
  timer: NodeJS.Timeout;
}

let worker: Worker | null = null;
let nextId = 1;
const pending = new Map<number, Pending>();

const unreadable = (why: string): ShellReading => ({ commands: [], unknown: [why] });

export function readShellLineOffThread(line: string): Promise<ShellReading> {
  if (Buffer.byteLength(line, 'utf8') <= INLINE_MAX_BYTES) return Promise.resolve(readShellLine(line));
  const w = worker ?? start();
  const id = nextId++;
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      // One line too costly to read: it is refused as unknown, and the busy thread is replaced.
      settleAll(`the line took over ${DEADLINE_MS / 1000} s to read`);
      void w.terminate();
      if (worker === w) worker = null;
    }, DEADLINE_MS);
    timer.unref?.();
    pending.set(id, { resolve, timer });
    w.postMessage({ id, line });
  });
}

function start(): Worker {
  const w = new Worker(new URL('./shell-reading-boot.mjs', import.meta.url));
  // The agent may exit with the worker idle.
  w.unref();
  w.on('message', (m: { id?: number; reading?: ShellReading }) => {
    if (m.id === undefined) return;
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    clearTimeout(p.timer);
    p.resolve(m.reading!);
  });
  const gone = (why: string) => {
    if (worker === w) worker = null;
    settleAll(why);
  };
  w.on('error', (err) => gone(`the shell parser failed: ${err.message}`));
  w.on('exit', () => gone('the shell parser stopped'));
  worker = w;
  return w;
}

function settleAll(why: string): void {
  for (const [id, p] of pending) {
    clearTimeout(p.timer);
    p.resolve(unreadable(why));
    pending.delete(id);
  }
}
