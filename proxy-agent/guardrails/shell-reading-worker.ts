// The shell parser's own thread: a long or pathological line (tens of thousands of `a;`) can take
// the parser seconds, and the agent's event loop carries every other session. Lines past a few
// KiB are read here instead (shell-reading-offload.ts).
import { parentPort } from 'node:worker_threads';
import { loadShellParser, readShellLine } from './shell-reading.ts';

await loadShellParser();
parentPort!.on('message', ({ id, line }: { id: number; line: string }) => {
  parentPort!.postMessage({ id, reading: readShellLine(line) });
});
parentPort!.postMessage({ ready: true });
