// vigil dev: everything in one process for trying Vigil out (dev-run.ts starts and stops it).
import type { Command } from 'commander';
import { loadCliConfig } from '../cli-config.ts';

export function registerDev(program: Command): void {
  program
    .command('dev')
    .description('run hub, agent and demo targets (a PostgreSQL database, a shell, an HTTP API) in one process')
    .option('--config <file>', 'config file (default: a demo target on 127.0.0.1:15432, hub on 127.0.0.1:8080)')
    .action(async (opts: { config?: string }) => {
      const config = loadCliConfig(opts.config, { addDemoTarget: true });
      // Imported only for this command: hub, agent and demo databases take seconds to load, which
      // every short command (token, sessions, export) would otherwise pay at each start.
      const { runDev } = await import('../dev-run.ts');
      await runDev(config);
    });
}
