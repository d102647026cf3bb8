// vigil hub --config FILE: the persister and the HTTP API, fed by agents through Redis.
import type { Command } from 'commander';
import { checkSecrets } from '../../common/config/secrets.ts';
import { createLogger } from '../../common/log.ts';
import { CliError } from '../cli-error.ts';
import { loadCliConfig } from '../cli-config.ts';
import { Resources, untilSignal } from '../lifecycle.ts';

export function registerHub(program: Command): void {
  program
    .command('hub')
    .description('run the hub: persist recordings from Redis and serve the API')
    .option('--config <file>', 'config file (settings may also come from the environment)')
    .action(async (opts: { config?: string }) => {
      const config = loadCliConfig(opts.config, { addDemoTarget: false });
      checkSecrets(config, opts.config ?? '(defaults)', 'hub');
      if (!config.redis.url) {
        throw new CliError('vigil hub receives recordings through Redis: set redis.url in the config or REDIS_URL (or run `vigil dev` for everything in one process)');
      }
      // Imported only for this command (see dev.ts): they take seconds to load.
      const [{ createBus }, { startHub }, { createStore }] = await Promise.all([
        import('../../common/bus/create-bus.ts'), import('../../server/hub.ts'), import('../../server/store/create-store.ts'),
      ]);
      const logger = createLogger(config.log.level);
      const resources = new Resources();
      try {
        const bus = await createBus(config.redis.url, logger, config.redis.keyPrefix);
        resources.add('bus', () => bus.close());
        const stores = await createStore({ databaseUrl: config.hub.databaseUrl, dataDir: config.dataDir, logger });
        resources.add('store', () => stores.close());
        const hub = await startHub({ config, bus, stores, logger });
        resources.add('hub', () => hub.stop());
        process.stdout.write(`vigil hub: API on ${hub.url}, store ${config.hub.databaseUrl ? 'PostgreSQL' : `embedded PGlite in ${config.dataDir}/store`}\n`);
        await untilSignal(logger);
      } finally {
        await resources.closeAll(logger);
      }
    });
}
