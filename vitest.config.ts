import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    teardownTimeout: 30_000,
    projects: [
      {
        test: {
          name: 'unit',
          sequence: { groupOrder: 0 },
          include: ['**/*.unit.test.ts'],
          exclude: ['node_modules/**'],
          // Pure code: files share a worker's loaded modules instead of importing them afresh (a
          // third of the unit phase's CPU went to that).
          isolate: false,
        },
      },
      {
        test: {
          name: 'integration',
          sequence: { groupOrder: 1 },
          include: ['test/**/*.test.ts'],
          exclude: ['node_modules/**', '**/*.unit.test.ts', 'test/chaos/**'],
          globalSetup: ['test/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          // Tests start real servers and mostly wait on them (sockets, timers, child processes):
          // three files at a time keep the 2-core machine busy without starving any of them.
          maxWorkers: 3,
          // A worker takes file after file without loading the hub and the agent afresh for each
          // (a tenth of the suite's CPU went to that). Every file starts and stops what it uses.
          isolate: false,
        },
      },
      {
        test: {
          // Real processes under scripted faults (test/chaos/), its short profile unless
          // CHAOS_PROFILE=long. One file, run beside the integration files (it waits on leases
          // and restarts more than it computes); vitest wants one worker count per group.
          name: 'chaos',
          sequence: { groupOrder: 1 },
          include: ['test/chaos/**/*.test.ts'],
          testTimeout: 600_000,
          hookTimeout: 300_000,
          maxWorkers: 3,
        },
      },
    ],
  },
});
