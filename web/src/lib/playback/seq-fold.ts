// What the watch view and the player build from a session's events: a list of values folded from
// events in seq order, a batch at a time, where an event seen already is skipped (a reconnect or a
// seek may hand some over again). Each kind says only how one event changes the list.
import type { VigilEvent } from '../../../../common/events/schema.ts';

export abstract class SeqFold<T> {
  /** The values so far; a changed one is replaced by a new object. */
  protected items: T[] = [];
  /** The highest seq taken (0: none). */
  lastSeq = 0;

  /** The values so far (a new array; the values themselves are not changed in place). */
  list(): T[] {
    return this.items.slice();
  }

  get size(): number {
    return this.items.length;
  }

  /** Takes events in seq order; returns whether a value was added or changed. */
  add(events: Iterable<VigilEvent>): boolean {
    let changed = false;
    for (const e of events) {
      if (e.seq <= this.lastSeq) continue;
      this.lastSeq = e.seq;
      if (this.take(e)) changed = true;
    }
    return changed;
  }

  /** One new event: whether it added or changed a value. */
  protected abstract take(e: VigilEvent): boolean;
}
