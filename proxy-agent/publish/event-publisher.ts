// The agent's side of the event pipeline: a bounded spool between the proxy's data path and the
// bus. publish() only queues (O(1), no awaits); one append at a time carries what was published
// in the same tick, in order. An event leaves the spool only when the hub's persisted watermark
// for its session covers it, not when Redis took it: Redis may restart empty, so after a reconnect
// everything still unconfirmed is appended again, first and in order. Duplicates cost nothing
// (the hub persists idempotently on (sessionId, seq)); a lost event would be a hole in a recording.
//
// Assumes each session's events are published in seq order (the agent numbers them as it emits).
//
// A session that lost an event here (spool full, publish() refused it) has a hole its persisted
// watermark will never pass, which would keep its later events in the spool for ever and, the
// spool being shared, end up refusing every session. Its events after the hole leave the spool as
// soon as they are appended: that recording is best-effort from then on (no re-send after a
// reconnect), the others keep the full guarantee.
//
// Throttling keeps a slow hub from turning into holes: past half of either limit, while the
// pipeline is moving (the bus up and events being confirmed), the publisher asks the sessions to
// stop reading from the target (onThrottle), so a fast `cat` slows to the persister's pace instead
// of filling the spool; below a quarter they read again. A pipeline that has stopped (the bus down,
// nothing confirmed for stallMs) is not waited for: sessions go on and the spool's limits decide
// (required recordings end, best-effort ones get a gap).
import type { BusEvent, BusStatus, EventBus } from '../../common/bus/event-bus.ts';
import type { BatchProof } from '../../common/agent-identity.ts';
import type { Logger } from '../../common/log.ts';
import { Deque } from './deque.ts';
import type { Outbox } from './outbox.ts';

export interface EventPublisherOptions {
  /** Spool limit in events, queued + appended-but-unconfirmed. */
  maxEvents: number;
  /** Spool limit in bytes of event bodies (UTF-8), queued + unconfirmed. */
  maxBytes: number;
  logger: Logger;
  /** How often to ask the bus for the watermarks of sessions with unconfirmed events. */
  watermarkPollMs?: number;
  /** How long the first event of a batch waits for others before the batch is appended. */
  lingerMs?: number;
  /** Every event taken is written here first (outbox.ts), so a crash loses none of them. */
  outbox?: Outbox;
  /** machine: commit() and every append to the bus first force the outbox to the disk. */
  durability?: 'process' | 'machine';
  /** Throttling stops when nothing was confirmed for this long while it was on (default 5 s). */
  stallMs?: number;
  /** Signs each batch as this agent (common/agent-identity.ts); the hub persists only signed batches of agents it enrolled. */
  signer?: (events: readonly BusEvent[]) => BatchProof;
  /**
   * Events appended this long ago and still unconfirmed while the hubs' persisters have nothing
   * left to read were not kept (refused before this agent was enrolled, say): appended again.
   * Default 20 s; 0: never.
   */
  resendAfterMs?: number;
  /** The persisters' consumer group, whose backlog says whether the hubs have read everything. */
  persisterGroup?: string;
}

export interface PublisherStats {
  queued: number;
  unconfirmed: number;
  bytes: number;
  dropped: number;
  appended: number;
}

interface Item {
  /** Publish order, across sessions: flush/drain targets and the order of a re-append. */
  n: number;
  event: BusEvent;
  bytes: number;
  /** When it was last appended (Date.now()). */
  appendedAt?: number;
}

interface Waiter {
  target: number;
  resolve(): void;
  reject(err: Error): void;
  timer?: NodeJS.Timeout;
}

const MAX_BATCH = 1000;
/** A Redis round trip per event would cost more than the event's own recording; 5 ms of
 * latency for the live view batches what a busy agent emits meanwhile. */
const DEFAULT_LINGER_MS = 5;
/** Sessions remembered as having a hole; the oldest are forgotten past this. */
const MAX_LOSSY_SESSIONS = 100_000;
const MAX_RETRY_MS = 1000;
const DEFAULT_WAIT_MS = 30_000;
/** Throttling starts at this fill of either limit and ends below THROTTLE_OFF. */
const THROTTLE_ON = 0.5;
const THROTTLE_OFF = 0.25;
const DEFAULT_STALL_MS = 5000;

export class EventPublisher {
  private readonly bus: EventBus;
  private readonly maxEvents: number;
  private readonly maxBytes: number;
  private readonly log: Logger;
  private readonly pollMs: number;
  private readonly lingerMs: number;
  private readonly outbox: Outbox | undefined;
  private readonly fsync: boolean;
  private outboxFailed = false;

  /** Not yet appended; while an append is in flight its batch is the head of this queue. */
  private readonly queue = new Deque<Item>();
  /** Appended, waiting for the session's watermark, per session in seq order. */
  private readonly unconfirmed = new Map<string, Deque<Item>>();
  private unconfirmedCount = 0;
  /** Sessions with a refused event: sessionId -> the first seq refused. */
  private readonly lossy = new Map<string, number>();
  private bytes = 0;
  private nextN = 1;
  private dropped = 0;
  private appended = 0;

  private inFlight: Promise<void> | null = null;
  private pumpScheduled = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryMs = 0;
  private failing = false;
  private pollTimer: NodeJS.Timeout | undefined;
  private polling = false;
  /** Set by a reconnect: the next pump first puts every unconfirmed event back in the queue. */
  private resendPending = false;
  private sawDown: boolean;
  private room = true;
  private closed = false;
  private readonly stallMs: number;
  private readonly signer: ((events: readonly BusEvent[]) => BatchProof) | undefined;
  private readonly resendAfterMs: number;
  private readonly persisterGroup: string;
  private throttle = false;
  /** When events last left the spool (confirmed, or appended past a hole), while throttling. */
  private progressAt = 0;
  /** Throttling ended because nothing left the spool for stallMs: not again before something does. */
  private stalled = false;
  /** When the persisters' backlog was last asked for (resendLost). */
  private resendCheckedAt = 0;
  private stallTimer: NodeJS.Timeout | undefined;

  private readonly capacityListeners = new Set<(hasRoom: boolean) => void>();
  private readonly throttleListeners = new Set<(on: boolean) => void>();
  private flushWaiters: Waiter[] = [];
  private drainWaiters: Waiter[] = [];
  private readonly offStatus: () => void;

  constructor(bus: EventBus, opts: EventPublisherOptions) {
    this.bus = bus;
    this.maxEvents = opts.maxEvents;
    this.maxBytes = opts.maxBytes;
    this.log = opts.logger.child({ component: 'event-publisher' });
    this.pollMs = opts.watermarkPollMs ?? 250;
    this.lingerMs = opts.lingerMs ?? DEFAULT_LINGER_MS;
    this.outbox = opts.outbox;
    this.fsync = opts.durability === 'machine';
    this.stallMs = opts.stallMs ?? DEFAULT_STALL_MS;
    this.signer = opts.signer;
    this.resendAfterMs = opts.resendAfterMs ?? 20_000;
    this.persisterGroup = opts.persisterGroup ?? 'vigil-persister';
    this.sawDown = bus.status() === 'down';
    this.offStatus = bus.onStatus((s) => this.onBusStatus(s));
  }

  /**
   * Synchronous enqueue, never blocks the data path. Returns false when the spool is full (event
   * not taken). A session's last event (`final`: its session.end) is always taken: a session must
   * end recorded, and each session has one, so this reserve is bounded by the live sessions.
   */
  publish(event: BusEvent, final = false): boolean {
    const bytes = Buffer.byteLength(event.body);
    const count = this.queue.length + this.unconfirmedCount;
    // One event larger than maxBytes still fits an empty spool; otherwise it could never be taken.
    const full = count >= this.maxEvents || (count > 0 && this.bytes + bytes > this.maxBytes);
    if (this.closed || (full && !final)) {
      this.dropped++;
      this.markLossy(event);
      // Refused for want of bytes while hasRoom() still said yes: say so, so that the sessions
      // whose recording is required end (agent.ts) rather than go on with a hole they never hear of.
      if (!this.closed) this.setRoom(false);
      return false;
    }
    const n = this.nextN++;
    this.queue.push({ n, event, bytes });
    this.bytes += bytes;
    this.writeOutbox(n, event.body);
    this.updateRoom();
    this.schedulePump();
    return true;
  }

  /** True while the spool (queued + unconfirmed) has room. */
  hasRoom(): boolean {
    return this.room;
  }

  /** Called with the new value whenever hasRoom() changes. */
  onCapacity(listener: (hasRoom: boolean) => void): () => void {
    this.capacityListeners.add(listener);
    return () => this.capacityListeners.delete(listener);
  }

  /** True while sessions should stop reading from their targets (the spool is filling faster than it drains). */
  throttled(): boolean {
    return this.throttle;
  }

  /** Called with the new value whenever throttled() changes. */
  onThrottle(listener: (on: boolean) => void): () => void {
    this.throttleListeners.add(listener);
    return () => this.throttleListeners.delete(listener);
  }

  stats(): PublisherStats {
    return {
      queued: this.queue.length,
      unconfirmed: this.unconfirmedCount,
      bytes: this.bytes,
      dropped: this.dropped,
      appended: this.appended,
    };
  }

  /** Resolves when everything published so far is appended to the bus (tests, shutdown). */
  flush(timeoutMs = DEFAULT_WAIT_MS): Promise<void> {
    return this.wait(this.flushWaiters, timeoutMs, 'flush');
  }

  /** Resolves when everything published so far is confirmed persisted (watermarks), or rejects on timeout. */
  drain(timeoutMs = DEFAULT_WAIT_MS): Promise<void> {
    return this.wait(this.drainWaiters, timeoutMs, 'drain');
  }

  /** Stops sending. Whatever is still spooled is abandoned: drain() first to keep it. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.offStatus();
    clearTimeout(this.retryTimer);
    clearTimeout(this.pollTimer);
    this.setThrottle(false);
    const err = new Error('event publisher closed');
    for (const w of [...this.flushWaiters, ...this.drainWaiters]) {
      clearTimeout(w.timer);
      w.reject(err);
    }
    this.flushWaiters = [];
    this.drainWaiters = [];
    const left = this.queue.length + this.unconfirmedCount;
    if (left > 0) this.log.warn({ queued: this.queue.length, unconfirmed: this.unconfirmedCount, outbox: !!this.outbox && !this.outboxFailed }, 'closing with events not confirmed persisted (the outbox keeps them for the next start)');
    await this.inFlight?.catch(() => {});
    this.outbox?.close();
  }

  /**
   * Makes what was published so far as durable as the agent's setting says, before the proxy lets
   * the client see its effect: with `process` it is written to the OS (it survives the agent);
   * with `machine` it is also forced to the disk (it survives the machine).
   */
  commit(): void {
    if (!this.outbox || this.outboxFailed) return;
    try {
      if (this.fsync) this.outbox.sync();
      else this.outbox.flush();
    } catch (err) {
      this.outboxBroke(err);
    }
  }

  private writeOutbox(n: number, body: string): void {
    if (!this.outbox || this.outboxFailed) return;
    try {
      this.outbox.append(n, body);
    } catch (err) {
      this.outboxBroke(err);
    }
  }

  /** A full or failing disk: the events stay in memory (as without an outbox), said once. */
  private outboxBroke(err: unknown): void {
    this.outboxFailed = true;
    this.log.error({ err: (err as Error).message }, 'the outbox cannot be written: events are kept in memory only, a crash of this agent would lose the unconfirmed ones');
  }

  /** Deletes outbox segments whose events all left the spool. */
  private releaseOutbox(): void {
    if (!this.outbox || this.outboxFailed) return;
    let oldest = this.queue.peek()?.n ?? this.nextN;
    for (const list of this.unconfirmed.values()) {
      const head = list.peek();
      if (head && head.n < oldest) oldest = head.n;
    }
    try {
      this.outbox.releaseBelow(oldest);
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'an outbox segment could not be deleted');
    }
  }

  // --- sending ---------------------------------------------------------------------------------

  private schedulePump(): void {
    // While a retry is pending the bus is failing: new events wait for that retry.
    if (this.pumpScheduled || this.inFlight || this.retryTimer || this.closed) return;
    this.pumpScheduled = true;
    // A full batch goes at once; otherwise the first event waits up to lingerMs for company.
    if (this.lingerMs <= 0 || this.queue.length >= MAX_BATCH) setImmediate(this.scheduledPump);
    else setTimeout(this.scheduledPump, this.lingerMs);
  }

  /** Bound once: scheduling a pump allocates no closure. */
  private readonly scheduledPump = (): void => {
    this.pumpScheduled = false;
    this.pump();
  };

  private pump(): void {
    if (this.closed || this.inFlight || this.retryTimer) return;
    if (this.resendPending) this.requeueUnconfirmed();
    if (this.queue.length === 0) return;
    // What leaves for the bus is on the disk first (the SSH recorder's bursts commit here).
    this.commit();
    const batch = this.queue.slice(MAX_BATCH);
    const events = batch.map((i) => i.event);
    this.inFlight = Promise.resolve().then(() => this.bus.append(events, this.signer?.(events))).then(
      () => this.onAppended(batch),
      (err: unknown) => this.onAppendFailed(err),
    );
  }

  private onAppended(batch: Item[]): void {
    this.inFlight = null;
    this.retryMs = 0;
    if (this.failing) {
      this.failing = false;
      this.log.info('appending to the bus again');
    }
    let released = false;
    const now = Date.now();
    for (let i = 0; i < batch.length; i++) {
      const item = this.queue.shift()!;
      const hole = this.lossy.get(item.event.sessionId);
      if (hole !== undefined && item.event.seq > hole) {
        // Past a hole no watermark reaches it: appended is as far as it goes.
        this.bytes -= item.bytes;
        released = true;
        continue;
      }
      let list = this.unconfirmed.get(item.event.sessionId);
      if (!list) this.unconfirmed.set(item.event.sessionId, (list = new Deque()));
      item.appendedAt = now;
      list.push(item);
      this.unconfirmedCount++;
    }
    this.appended += batch.length;
    if (released) {
      this.noteProgress();
      this.updateRoom();
    }
    this.settle(this.flushWaiters, (t) => this.isFlushed(t));
    if (released) {
      this.settle(this.drainWaiters, (t) => this.isDrained(t));
      this.releaseOutbox();
    }
    this.schedulePoll();
    this.schedulePump();
  }

  private markLossy(event: BusEvent): void {
    if (this.lossy.has(event.sessionId)) return;
    if (this.lossy.size >= MAX_LOSSY_SESSIONS) this.lossy.delete(this.lossy.keys().next().value!);
    this.lossy.set(event.sessionId, event.seq);
    this.log.warn({ sessionId: event.sessionId, seq: event.seq }, 'spool full: event refused; this session is recorded best-effort from here');
  }

  private onAppendFailed(err: unknown): void {
    this.inFlight = null;
    if (!this.failing) {
      this.failing = true;
      this.log.warn({ err: (err as Error)?.message, queued: this.queue.length }, 'append to the bus failed; keeping events and retrying');
      this.updateThrottle();
    }
    if (this.closed) return;
    this.retryMs = this.retryMs ? Math.min(this.retryMs * 2, MAX_RETRY_MS) : 50;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.pump();
    }, this.retryMs);
  }

  private onBusStatus(status: BusStatus): void {
    if (status === 'down') {
      this.sawDown = true;
      this.updateThrottle();
      return;
    }
    if (this.sawDown) {
      this.sawDown = false;
      // The bus may have come back empty: what it held and the hub did not persist yet is gone.
      if (this.unconfirmedCount > 0) this.resendPending = true;
    }
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.retryMs = 0;
    this.schedulePump();
  }

  /** Puts every unconfirmed event back at the front of the queue, in publish order. */
  private requeueUnconfirmed(): void {
    this.resendPending = false;
    if (this.unconfirmedCount === 0) return;
    const items: Item[] = [];
    for (const list of this.unconfirmed.values()) items.push(...list.drainAll());
    items.sort((a, b) => a.n - b.n);
    this.unconfirmed.clear();
    this.unconfirmedCount = 0;
    this.queue.unshiftAll(items);
    this.log.info({ events: items.length }, 'bus reconnected; appending unconfirmed events again');
  }

  // --- confirmation ----------------------------------------------------------------------------

  private schedulePoll(): void {
    if (this.pollTimer || this.polling || this.closed || this.unconfirmedCount === 0) return;
    this.pollTimer = setTimeout(() => {
      this.pollTimer = undefined;
      void this.poll();
    }, this.pollMs);
  }

  private async poll(): Promise<void> {
    this.polling = true;
    try {
      const sessions = [...this.unconfirmed.keys()];
      if (sessions.length) this.confirm(await this.bus.watermarks(sessions));
      await this.resendLost();
    } catch {
      // The bus is down: the next poll asks again, the reconnect re-sends.
    } finally {
      this.polling = false;
      this.schedulePoll();
    }
  }

  /**
   * Unconfirmed long after they were appended, while the persisters have read everything there is:
   * those entries were not kept (a hub refused them: this agent was not enrolled yet), and no
   * reconnect will bring them back. They are appended again, first, in order.
   */
  private async resendLost(): Promise<void> {
    if (this.resendAfterMs <= 0 || this.resendPending || this.closed) return;
    const before = Date.now() - this.resendAfterMs;
    let stale = false;
    for (const list of this.unconfirmed.values()) {
      const at = list.peek()?.appendedAt;
      if (at !== undefined && at < before) stale = true;
    }
    if (!stale) return;
    // Asked a few times per resend period at most: the hub may be down a long while.
    const now = Date.now();
    if (now - this.resendCheckedAt < this.resendAfterMs / 4) return;
    this.resendCheckedAt = now;
    const backlog = await this.bus.backlog(this.persisterGroup);
    if (backlog.undelivered + backlog.pending > 0) return;
    this.log.warn({ unconfirmed: this.unconfirmedCount }, 'events the hubs read long ago are still not confirmed (refused, or lost): appending them again');
    this.resendPending = true;
    this.schedulePump();
  }

  private confirm(marks: Map<string, number>): void {
    const before = this.unconfirmedCount;
    for (const [sessionId, mark] of marks) {
      const list = this.unconfirmed.get(sessionId);
      if (!list) continue;
      for (let head = list.peek(); head && head.event.seq <= mark; head = list.peek()) {
        list.shift();
        this.unconfirmedCount--;
        this.bytes -= head.bytes;
      }
      if (list.length === 0) this.unconfirmed.delete(sessionId);
    }
    if (this.unconfirmedCount < before) this.noteProgress();
    this.updateRoom();
    this.settle(this.drainWaiters, (t) => this.isDrained(t));
    this.releaseOutbox();
  }

  // --- capacity and waiting --------------------------------------------------------------------

  private updateRoom(): void {
    this.setRoom(this.queue.length + this.unconfirmedCount < this.maxEvents && this.bytes < this.maxBytes);
    this.updateThrottle();
  }

  private noteProgress(): void {
    this.progressAt = Date.now();
    this.stalled = false;
  }

  /** Called with every publish: no clock is read unless the spool is under pressure. */
  private updateThrottle(): void {
    const fill = Math.max((this.queue.length + this.unconfirmedCount) / this.maxEvents, this.bytes / this.maxBytes);
    const moving = !this.closed && !this.failing && !this.sawDown;
    if (!this.throttle) {
      if (!moving || this.stalled || fill < THROTTLE_ON) return;
      // The stall clock starts with the pressure: an idle spool has nothing to confirm.
      this.progressAt = Date.now();
      this.setThrottle(true);
      return;
    }
    if (!moving || fill < THROTTLE_OFF) {
      this.setThrottle(false);
    } else if (Date.now() - this.progressAt >= this.stallMs) {
      this.stalled = true;
      this.log.warn({ stallMs: this.stallMs }, 'the recording pipeline has stopped confirming events: sessions are no longer slowed, the spool limits apply');
      this.setThrottle(false);
    } else {
      this.armStallCheck();
    }
  }

  /** While throttled, looked at again when the pipeline would count as stopped: held sessions publish nothing to wake it. */
  private armStallCheck(): void {
    if (this.stallTimer) return;
    this.stallTimer = setTimeout(() => {
      this.stallTimer = undefined;
      this.updateThrottle();
    }, Math.max(1, this.progressAt + this.stallMs - Date.now()));
    this.stallTimer.unref();
  }

  private setThrottle(on: boolean): void {
    if (on) {
      this.armStallCheck();
    } else {
      clearTimeout(this.stallTimer);
      this.stallTimer = undefined;
    }
    if (on === this.throttle) return;
    this.throttle = on;
    for (const listener of this.throttleListeners) {
      try {
        listener(on);
      } catch (err) {
        this.log.error({ err }, 'throttle listener failed');
      }
    }
  }

  private setRoom(room: boolean): void {
    if (room === this.room) return;
    this.room = room;
    for (const listener of this.capacityListeners) {
      try {
        listener(room);
      } catch (err) {
        this.log.error({ err }, 'capacity listener failed');
      }
    }
  }

  /** The queue is in publish order, so only its head can be at or below the target. */
  private isFlushed(target: number): boolean {
    const head = this.queue.peek();
    return !head || head.n > target;
  }

  private isDrained(target: number): boolean {
    if (!this.isFlushed(target)) return false;
    for (const list of this.unconfirmed.values()) {
      const head = list.peek();
      if (head && head.n <= target) return false;
    }
    return true;
  }

  private wait(waiters: Waiter[], timeoutMs: number, what: string): Promise<void> {
    const target = this.nextN - 1;
    const done = waiters === this.flushWaiters ? this.isFlushed(target) : this.isDrained(target);
    if (done) return Promise.resolve();
    if (this.closed) return Promise.reject(new Error('event publisher closed'));
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { target, resolve, reject };
      if (Number.isFinite(timeoutMs)) {
        waiter.timer = setTimeout(() => {
          const i = waiters.indexOf(waiter);
          if (i >= 0) waiters.splice(i, 1);
          const s = this.stats();
          reject(new Error(`${what} timed out after ${timeoutMs} ms (queued ${s.queued}, unconfirmed ${s.unconfirmed})`));
        }, timeoutMs);
      }
      waiters.push(waiter);
    });
  }

  private settle(waiters: Waiter[], isDone: (target: number) => boolean): void {
    if (waiters.length === 0) return;
    const still: Waiter[] = [];
    for (const w of waiters) {
      if (isDone(w.target)) {
        clearTimeout(w.timer);
        w.resolve();
      } else {
        still.push(w);
      }
    }
    waiters.length = 0;
    waiters.push(...still);
  }
}
