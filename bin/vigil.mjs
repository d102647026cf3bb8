#!/usr/bin/env node
// The `vigil` command: TypeScript sources run through tsx, so there is no build step between
// a checkout and a working command.
import { register } from 'tsx/esm/api';

register();
await import('../cli/main.ts');
