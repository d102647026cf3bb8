// Long-running commands (dev, hub, agent): run until SIGINT or SIGTERM, then stop what was started
// in reverse order. A second signal during shutdown exits at once.
import type { Logger } from '../common/log.ts';

export type Closer = { name: string; close: () => Promise<unknown> };

/** Resources to stop, added as they start; closeAll stops them newest first. */
export class Resources {
  private readonly closers: Closer[] = [];

  add(name: string, close: () => Promise<unknown>): void {
    this.closers.push({ name, close });
  }

  async closeAll(logger?: Logger): Promise<void> {
    for (const { name, close } of this.closers.splice(0).reverse()) {
      try {
        await close();
      } catch (err) {
        logger?.warn({ err: (err as Error).message }, `stopping ${name} failed`);
      }
    }
  }
}

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
