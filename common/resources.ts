// What a process or a component started and must stop again: added as each starts, stopped newest
// first, each failure logged and the rest stopped anyway.
import type { Logger } from './log.ts';

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
