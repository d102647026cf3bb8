// One viewer's view of one session: the backlog from the store, then the live tail from the bus,
// delivered in seq order with no gap and no duplicate, whatever order they arrive in.
//
// Live events are taken from the moment the feed starts (they are buffered while the backlog is
// read), so nothing can fall between the two. Whatever is missing in between (events the agent
// published before the viewer came but the persister has not stored yet, or pub/sub messages
// Redis dropped) is read from the store again until it is there: the store gets every event in
// the end. Only a true hole (a best-effort session whose spool overflowed) stays missing; after
// `gapTimeoutMs` it is reported as a gap and delivery moves on.
//
// The tail needs the same care: the last events a session published before the viewer came may
// not be stored yet when the backlog is read, and an idle session sends nothing live that would
// reveal them. So after the backlog, and after each live batch, the store is read again a few
// times as activity dies down (`tailChecksMs`).
//
// Bounded: live events held while catching up or beyond a hole are at most `maxBuffered` events
// and `maxBufferedBytes` (far behind, the oldest go: the store gives them when it is their turn),
// and a backlog is read page by page no faster than the viewer takes it (`beforeRead`).
import type { VigilEvent } from '../../common/events/index.ts';
import { liveEventBytes } from './event-size.ts';

export interface ViewerFeedOptions {
  fromSeq: number;
  /** Stored events with seq >= from, in order, at most limit. */
  readStored(from: number, limit: number): Promise<VigilEvent[]>;
  deliver(events: VigilEvent[]): void;
  reportGap(from: number, to: number): void;
  pageSize?: number;
  retryMs?: number;
  gapTimeoutMs?: number;
  /** Live events held while catching up, at most (beyond it the oldest are dropped: the store has them). */
  maxBuffered?: number;
  /** The same bound in bytes, as `sizeOf` counts them. */
  maxBufferedBytes?: number;
  /** An event's size (default: its body's as it came off the bus). */
  sizeOf?: (event: VigilEvent) => number;
  /** Waits until the viewer can take another page of stored events (its connection's backlog is low). */
  beforeRead?: () => Promise<void>;
  /** Delays after the last activity at which the store is read again for events not stored earlier. */
  tailChecksMs?: number[];
}

export class ViewerFeed {
  private next: number;
  private readonly buffer = new Map<number, VigilEvent>();
  private bufferedBytes = 0;
  private catchingUp: Promise<void> | null = null;
  private closed = false;
  private waitingSince = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly pageSize: number;
  private readonly retryMs: number;
  private readonly gapTimeoutMs: number;
  private readonly maxBuffered: number;
  private readonly maxBufferedBytes: number;
  private readonly sizeOf: (event: VigilEvent) => number;
  private readonly tailChecksMs: number[];
  private tailTimer: NodeJS.Timeout | undefined;
  private started = false;

  constructor(private readonly opts: ViewerFeedOptions) {
    this.next = opts.fromSeq;
    this.pageSize = opts.pageSize ?? 500;
    this.retryMs = opts.retryMs ?? 250;
    this.gapTimeoutMs = opts.gapTimeoutMs ?? 30_000;
    this.maxBuffered = opts.maxBuffered ?? 10_000;
    this.maxBufferedBytes = opts.maxBufferedBytes ?? 8 * 1024 * 1024;
    this.sizeOf = opts.sizeOf ?? liveEventBytes;
    this.tailChecksMs = opts.tailChecksMs ?? [1000, 3000, 10_000];
  }

  /** The next seq this viewer has not received. */
  get position(): number {
    return this.next;
  }

  /** Bytes of the live events it holds (as sizeOf counts them). */
  get heldBytes(): number {
    return this.bufferedBytes;
  }

  /** Reads the backlog; live events may be offered before or while it runs. */
  start(): Promise<void> {
    this.started = true;
    return this.catchUp().then(() => this.armTailChecks());
  }

  /** A live batch from the bus (any order, duplicates allowed). */
  offer(events: readonly VigilEvent[]): void {
    if (this.closed) return;
    for (const e of events) {
      if (e.seq < this.next || this.buffer.has(e.seq)) continue;
      this.buffer.set(e.seq, e);
      this.bufferedBytes += this.sizeOf(e);
    }
    this.armTailChecks();
    if (this.buffer.size > this.maxBuffered || this.bufferedBytes > this.maxBufferedBytes) this.dropOldest();
    if (!this.catchingUp) this.flush();
  }

  /**
   * A live batch for shared delivery: when this viewer has had everything before it and nothing
   * waits, the feed takes the batch (its position moves past it) and the caller delivers it, to
   * every viewer that took it in one send. Otherwise false, and the batch goes through offer().
   */
  takeInOrder(events: readonly VigilEvent[]): boolean {
    if (this.closed || !this.started || this.catchingUp || this.buffer.size > 0 || events[0]?.seq !== this.next) return false;
    for (let i = 1; i < events.length; i++) if (events[i].seq !== events[i - 1].seq + 1) return false;
    this.next += events.length;
    this.armTailChecks();
    return true;
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.tailTimer);
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.buffer.clear();
    this.bufferedBytes = 0;
  }

  /**
   * Far behind: keeps the newest (they keep the feed asking the store for what comes before them);
   * the store gives the rest when it is their turn. Down to 3/4 of the bounds, so that the sort
   * is rare.
   */
  private dropOldest(): void {
    const seqs = [...this.buffer.keys()].sort((a, b) => a - b);
    for (const seq of seqs) {
      if (this.buffer.size <= this.maxBuffered * 0.75 && this.bufferedBytes <= this.maxBufferedBytes * 0.75) break;
      this.take(seq);
    }
  }

  /** Removes a held event, if held. */
  private take(seq: number): VigilEvent | undefined {
    const e = this.buffer.get(seq);
    if (e) {
      this.buffer.delete(seq);
      this.bufferedBytes -= this.sizeOf(e);
    }
    return e;
  }

  /** Reads the store again after each of tailChecksMs of quiet (restarted by live activity). */
  private armTailChecks(step = 0): void {
    clearTimeout(this.tailTimer);
    if (this.closed || step >= this.tailChecksMs.length) return;
    this.tailTimer = setTimeout(() => {
      this.catchUp().then(() => this.armTailChecks(step + 1), () => undefined);
    }, this.tailChecksMs[step]);
    this.tailTimer.unref?.();
  }

  /** Delivers the contiguous run from the buffer; starts a catch-up when something is missing. */
  private flush(): void {
    const run: VigilEvent[] = [];
    for (let e = this.take(this.next); e; e = this.take(this.next)) {
      run.push(e);
      this.next++;
    }
    if (run.length) this.opts.deliver(run);
    // Something is missing before what is buffered: ask the store (unless a retry is already due).
    if (this.buffer.size > 0 && !this.retryTimer) this.catchUp().catch(() => undefined);
  }

  /**
   * Reads the store (once at a time). A failed read (the store is down) rejects for start()'s
   * caller and is read again after retryMs: background callers ignore the rejection, and the
   * retry is armed before the flush, which would otherwise start the next read at once.
   */
  private catchUp(): Promise<void> {
    this.catchingUp ??= this.readStore()
      .catch((err: unknown) => {
        this.retryLater();
        throw err;
      })
      .finally(() => {
        this.catchingUp = null;
        if (!this.closed) this.flush();
      });
    return this.catchingUp;
  }

  private retryLater(): void {
    if (this.closed || this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.catchUp().catch(() => undefined);
    }, this.retryMs);
  }

  /** Reads the store from `next` as far as it goes; schedules a retry when a gap remains. */
  private async readStore(): Promise<void> {
    for (;;) {
      if (this.opts.beforeRead) await this.opts.beforeRead();
      if (this.closed) return;
      const page = await this.opts.readStored(this.next, this.pageSize);
      const run: VigilEvent[] = [];
      for (const e of page) {
        if (e.seq !== this.next) break;
        this.take(e.seq);
        run.push(e);
        this.next++;
      }
      if (run.length && !this.closed) this.opts.deliver(run);
      // A full contiguous page: there may be more right behind it.
      if (run.length === this.pageSize) continue;
      break;
    }
    if (this.buffer.size === 0 || this.closed) {
      this.waitingSince = 0;
      return;
    }
    // Live events are waiting beyond a hole the store cannot fill yet.
    if (this.buffer.has(this.next)) return;
    const now = Date.now();
    this.waitingSince ||= now;
    if (now - this.waitingSince >= this.gapTimeoutMs) {
      const resume = Math.min(...this.buffer.keys());
      this.opts.reportGap(this.next, resume - 1);
      this.next = resume;
      this.waitingSince = 0;
      return;
    }
    this.retryLater();
  }
}
