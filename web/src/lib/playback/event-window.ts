// The events a player holds: a bounded window around the playhead, read page by page ahead of it
// and dropped behind it. `cursor` splits it into what has been shown and what is still to come.
// A recording is never loaded whole: the window holds at most keepBehind + lowWater + page
// events (a few thousand), whatever the recording's length. DOM-free.
import type { VigilEvent } from '../../../../common/events/schema.ts';

export interface WindowLimits {
  /** Events asked for per read. */
  page: number;
  /** Read more while fewer than this wait ahead of the playhead. */
  lowWater: number;
  /** Shown events kept behind the playhead (what a list of the last statements shows). */
  keepBehind: number;
}

export const DEFAULT_LIMITS: WindowLimits = { page: 1000, lowWater: 1500, keepBehind: 500 };

export class EventWindow {
  /** In seq order, no repeats. */
  events: VigilEvent[] = [];
  /** Index of the next event to show. */
  cursor = 0;
  /** Where the next read starts. */
  nextFrom = 1;
  /** The last read found nothing more stored (a live session may add more later). */
  endReached = false;

  constructor(readonly limits: WindowLimits = DEFAULT_LIMITS) {}

  /** Starts over: `shown` already on screen, `pending` read but not shown, reads go on at nextFrom. */
  reset(nextFrom: number, shown: readonly VigilEvent[] = [], pending: readonly VigilEvent[] = []): void {
    this.events = [...shown.slice(-this.limits.keepBehind), ...pending];
    this.cursor = Math.min(shown.length, this.limits.keepBehind);
    this.nextFrom = Math.max(nextFrom, (this.events.at(-1)?.seq ?? 0) + 1);
    this.endReached = false;
  }

  peek(): VigilEvent | undefined {
    return this.events[this.cursor];
  }

  /** The next event to show, now counted as shown. */
  take(): VigilEvent | undefined {
    const e = this.events[this.cursor];
    if (e) this.cursor += 1;
    return e;
  }

  /** The last event shown. */
  lastShown(): VigilEvent | undefined {
    return this.events[this.cursor - 1];
  }

  get ahead(): number {
    return this.events.length - this.cursor;
  }

  wantsMore(): boolean {
    return !this.endReached && this.ahead < this.limits.lowWater;
  }

  /** Adds a page read from `nextFrom` (`next`: where the store says to read on; null at its end). */
  add(page: readonly VigilEvent[], next: number | null): void {
    const last = this.events.at(-1)?.seq ?? 0;
    for (const e of page) if (e.seq > last && e.seq >= this.nextFrom) this.events.push(e);
    const lastSeq = this.events.at(-1)?.seq ?? 0;
    this.nextFrom = Math.max(next ?? lastSeq + 1, lastSeq + 1, this.nextFrom);
    this.endReached = next === null;
    this.trim();
  }

  /** Drops what lies further behind the playhead than keepBehind. */
  trim(): void {
    const drop = this.cursor - this.limits.keepBehind;
    if (drop <= 0) return;
    this.events.splice(0, drop);
    this.cursor -= drop;
  }

  /** Index of the event with this seq, or -1. */
  indexOfSeq(seq: number): number {
    let lo = 0;
    let hi = this.events.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const s = this.events[mid].seq;
      if (s === seq) return mid;
      if (s < seq) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  /** Index of the first event later than `ms` by `timeOf` (events.length when none is). */
  indexAfter(ms: number, timeOf: (e: VigilEvent) => number): number {
    let lo = 0;
    let hi = this.events.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (timeOf(this.events[mid]) <= ms) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
