// Long-running commands (dev, hub, agent): run until SIGINT or SIGTERM, then stop what was started
// in reverse order. A second signal during shutdown exits at once.
import type { Logger } from '../common/log.ts';

export { Resources } from '../common/resources.ts';

export function untilSignal(logger: Logger): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      logger.info({ signal }, 'shutting down (send the signal again to exit at once)');
      const force = (again: NodeJS.Signals) => {
        logger.warn({ signal: again }, 'exiting without a clean shutdown');
        process.exit(1);
      };
      process.once('SIGINT', force);
      process.once('SIGTERM', force);
      resolve(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

/** The command a user types to run this CLI again: `vigil` when installed as such. */
export function selfCommand(): string {
  const script = process.argv[1] ?? '';
  if (/(^|\/)vigil$/.test(script)) return 'vigil';
  const rel = script.startsWith(process.cwd() + '/') ? script.slice(process.cwd().length + 1) : script;
  return `node ${rel}`;
}
