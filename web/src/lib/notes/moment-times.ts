// The recorded time of an event by its seq, for placing a note on the timeline: from the events
// the player holds when it holds it, else asked of the hub once (a few questions at a time,
// however many notes there are). DOM-free.

/** The time of the event with this seq among events in seq order, or null. */
export function timeHeld(events: ReadonlyArray<{ seq: number; time: string }>, seq: number): string | null {
  let lo = 0;
  let hi = events.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const s = events[mid].seq;
    if (s === seq) return events[mid].time;
    if (s < seq) lo = mid + 1;
    else hi = mid - 1;
  }
  return null;
}

export class MomentTimes {
  readonly #known = new Map<number, Promise<string | null>>();
  readonly #waiting: Array<() => void> = [];
  #active = 0;

  /**
   * lookup: asks the hub (rejects on failure: asked again next time);
   * held: what the player holds now (null when it does not).
   */
  constructor(private readonly lookup: (seq: number) => Promise<string | null>, private readonly held: (seq: number) => string | null = () => null,
    readonly concurrency = 4) {}

  timeOf(seq: number): Promise<string | null> {
    const known = this.#known.get(seq);
    if (known) return known;
    const now = this.held(seq);
    const asked = now !== null ? Promise.resolve(now) : this.#limited(() => this.lookup(seq)).catch(() => {
      this.#known.delete(seq);
      return null;
    });
    this.#known.set(seq, asked);
    return asked;
  }

  async #limited<T>(run: () => Promise<T>): Promise<T> {
    if (this.#active >= this.concurrency) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    this.#active += 1;
    try {
      return await run();
    } finally {
      this.#active -= 1;
      this.#waiting.shift()?.();
    }
  }
}
