// Entry of the shell parser's worker thread when the agent runs from source: workers do not
// inherit the tsx loader the main thread registered, so this plain module registers it first. In
// the bundle (scripts/build.ts) this name is the worker itself, compiled.
import { register } from 'tsx/esm/api';

register();
await import('./shell-reading-worker.ts');
