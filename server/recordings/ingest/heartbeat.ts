// A persister's heartbeat on the bus, renewed on a timer of its own: a hub whose store write takes
// a minute is still beating, so no other hub takes its entries (idle time alone cannot tell slow
// from dead). It also says when this hub may judge the others: only after its own beats have gone
// through for a whole silence limit. After Redis was away, every hub's beat is old; the others
// have had that long to beat again before anyone is taken for dead.
import type { EventBus } from '../../../common/bus/event-bus.ts';
import type { Logger } from '../../../common/log.ts';

export class Heartbeat {
  private timer: NodeJS.Timeout | undefined;
  private beating: Promise<void> | null = null;
  /** Since when every beat went through (null: the last one failed, or none was sent yet). */
  private steadySince: number | null = null;
  private failing = false;

  constructor(
    private readonly bus: EventBus,
    private readonly group: string,
    private readonly consumer: string,
    private readonly everyMs: number,
    private readonly log: Logger,
  ) {}

  /** Beats now, then every everyMs. */
  start(): Promise<void> {
    this.timer ??= setInterval(() => void this.beat(), this.everyMs);
    // A timer of its own must not keep a process alive that is otherwise done.
    this.timer.unref();
    return this.beat();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.beating;
    this.steadySince = null;
  }

  /** True once beats have gone through without a gap for at least ms. */
  steadyFor(ms: number, now = Date.now()): boolean {
    return this.steadySince !== null && now - this.steadySince >= ms;
  }

  private beat(): Promise<void> {
    // One at a time: a beat that hangs on a slow Redis is not joined by more.
    this.beating ??= (async () => {
      const startedAt = Date.now();
      try {
        await this.bus.heartbeat(this.group, this.consumer);
        // A beat that took longer than the interval left a gap the others may have seen.
        const now = Date.now();
        if (now - startedAt > this.everyMs) this.steadySince = now;
        else this.steadySince ??= startedAt;
        if (this.failing) this.log.info('heartbeat sent again');
        this.failing = false;
      } catch (err) {
        this.steadySince = null;
        if (!this.failing) this.log.warn({ err: (err as Error)?.message }, 'heartbeat failed; not judging other consumers until it is back');
        this.failing = true;
      } finally {
        this.beating = null;
      }
    })();
    return this.beating;
  }
}
