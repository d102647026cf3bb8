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
import type { VigilEvent } from '../../common/events/index.ts';

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
  /** Delays after the last activity at which the store is read again for events not stored earlier. */
  tailChecksMs?: number[];
}

export class ViewerFeed {
  private next: number;
  private readonly buffer = new Map<number, VigilEvent>();
  private catchingUp: Promise<void> | null = null;
  private closed = false;
  private waitingSince = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly pageSize: number;
  private readonly retryMs: number;
  private readonly gapTimeoutMs: number;
  private readonly maxBuffered: number;
  private readonly tailChecksMs: number[];
  private tailTimer: NodeJS.Timeout | undefined;
  private started = false;

  constructor(private readonly opts: ViewerFeedOptions) {
    this.next = opts.fromSeq;
    this.pageSize = opts.pageSize ?? 500;
    this.retryMs = opts.retryMs ?? 250;
    this.gapTimeoutMs = opts.gapTimeoutMs ?? 30_000;
    this.maxBuffered = opts.maxBuffered ?? 10_000;
    this.tailChecksMs = opts.tailChecksMs ?? [1000, 3000, 10_000];
  }

  /** The next seq this viewer has not received. */
  get position(): number {
    return this.next;
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
    }
    this.armTailChecks();
    if (this.buffer.size > this.maxBuffered) {
      // Far behind: keep the newest; the store will give the rest when it is their turn.
      const seqs = [...this.buffer.keys()].sort((a, b) => a - b);
      for (const seq of seqs.slice(0, this.buffer.size - this.maxBuffered)) this.buffer.delete(seq);
    }
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
  }

  /** Reads the store again after each of tailChecksMs of quiet (restarted by live activity). */
  private armTailChecks(step = 0): void {
    clearTimeout(this.tailTimer);
    if (this.closed || step >= this.tailChecksMs.length) return;
    this.tailTimer = setTimeout(() => {
      void this.catchUp().then(() => this.armTailChecks(step + 1));
    }, this.tailChecksMs[step]);
    this.tailTimer.unref?.();
  }

  /** Delivers the contiguous run from the buffer; starts a catch-up when something is missing. */
  private flush(): void {
    const run: VigilEvent[] = [];
    for (let e = this.buffer.get(this.next); e; e = this.buffer.get(this.next)) {
      this.buffer.delete(this.next);
      run.push(e);
      this.next++;
    }
    if (run.length) this.opts.deliver(run);
    // Something is missing before what is buffered: ask the store (unless a retry is already due).
    if (this.buffer.size > 0 && !this.retryTimer) void this.catchUp();
  }

  private catchUp(): Promise<void> {
    this.catchingUp ??= this.readStore().finally(() => {
      this.catchingUp = null;
      if (!this.closed) this.flush();
    });
    return this.catchingUp;
  }

  /** Reads the store from `next` as far as it goes; schedules a retry when a gap remains. */
  private async readStore(): Promise<void> {
    for (;;) {
      if (this.closed) return;
      const page = await this.opts.readStored(this.next, this.pageSize);
      const run: VigilEvent[] = [];
      for (const e of page) {
        if (e.seq !== this.next) break;
        this.buffer.delete(e.seq);
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
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.catchUp();
    }, this.retryMs);
  }
}
