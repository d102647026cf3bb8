// Entry of the demo database's worker thread. Workers do not inherit the tsx loader the `vigil`
// command registered in the main thread, so this plain module registers it before loading the
// TypeScript worker.
import { register } from 'tsx/esm/api';

register();
await import('./demo-database-worker.ts');
