// Taking over from dead consumers of the persister group. Who is dead is decided here, once for
// every transport, from what the bus reports (consumers()): a consumer that sends heartbeats is
// dead when it has been silent, and has not read, for deadAfterMs; one that never sent any (a hub
// of an older version) when it has not read for legacyIdleMs, which is what the idle-time claim
// of those versions waited. A dead consumer's entries are claimed for this one and handled like
// any delivery (store, then ack); once it holds nothing it is deleted from the group, so dead
// consumers do not pile up there.
import type { ConsumerInfo, Delivery, EventBus } from '../../../common/bus/event-bus.ts';
import type { Logger } from '../../../common/log.ts';

export interface DeadLimits {
  deadAfterMs: number;
  legacyIdleMs: number;
}

/** How long a consumer's entries must have waited to be claimed from it; null while it counts as alive. */
export function claimIdleOf(c: ConsumerInfo, limits: DeadLimits): number | null {
  if (c.silentMs === null) return c.idleMs >= limits.legacyIdleMs ? limits.legacyIdleMs : null;
  // Silent alone could be beats that do not get through while its reads do.
  return c.silentMs >= limits.deadAfterMs && c.idleMs >= limits.deadAfterMs ? limits.deadAfterMs : null;
}

export class Takeover {
  /** Dead consumers this one deleted from the group. */
  removed = 0;

  constructor(
    private readonly bus: EventBus,
    private readonly group: string,
    private readonly self: string,
    private readonly limits: DeadLimits,
    private readonly log: Logger,
  ) {}

  /** The next entries of a dead consumer, claimed for this one; [] when no dead consumer holds any. */
  async next(count: number): Promise<Delivery[]> {
    for (const c of await this.bus.consumers(this.group)) {
      if (c.name === this.self) continue;
      const minIdleMs = claimIdleOf(c, this.limits);
      if (minIdleMs === null) continue;
      const claimed = c.pending > 0
        ? await this.bus.claimStale({ group: this.group, consumer: this.self, from: c.name, minIdleMs, count })
        : [];
      if (claimed.length) {
        this.log.info({ from: c.name, entries: claimed.length, silentMs: c.silentMs, idleMs: c.idleMs }, 'took over entries of a dead consumer');
      }
      // A full batch: it may hold more, taken on the next call.
      if (claimed.length < count) await this.remove(c.name);
      if (claimed.length) return claimed;
    }
    return [];
  }

  private async remove(name: string): Promise<void> {
    // The bus checks again, in one step with the deletion, that it holds nothing and is silent.
    if (!await this.bus.removeConsumer(this.group, name, this.limits.deadAfterMs)) return;
    this.removed++;
    this.log.info({ dead: name }, 'removed a dead consumer from the group');
  }
}
