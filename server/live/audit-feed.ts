// The audit log as it grows, for the Audit page. Every hub writes audit rows to the shared store,
// so each hub reads the store itself (one poll loop per hub, about once a second, only while
// someone on it follows) and pushes the rows it has not pushed yet to its own followers.
//
// Rows are read by id, and an id is taken when a row is inserted, not when it commits: a row
// written inside a longer transaction (a guardrail hit stored with its recording) can become
// visible after rows with higher ids. So the feed remembers what it pushed above the last id it
// is sure of (AuditCursor) and reads again from there; a hole that stays empty for a while was a
// transaction rolled back, and is given up on (one that commits even later is not pushed: the page
// finds it in GET /api/audit). Also here: the `audit:subscribe` / `audit:unsubscribe` handlers.
import type { AuditEntry } from '../../common/api-contract.ts';
import type { Ack } from '../../common/live/contract.ts';
import type { Logger } from '../../common/log.ts';
import type { LiveSocket, SocketData } from './live-socket.ts';

export interface AuditSource {
  auditAfter(afterId: number, limit: number): Promise<AuditEntry[]>;
  lastAuditId(): Promise<number>;
}

/** How long a hole below pushed rows is waited for. */
export const AUDIT_GAP_WAIT_MS = 10_000;
const POLL_EVERY_MS = 1000;
/** Rows one read takes: a burst larger than this is pushed over several ticks. */
const READ_LIMIT = 500;

/** Which audit rows were pushed: everything up to `settled`, and the ids in `pushed` above it. */
export class AuditCursor {
  #settled: number;
  #highest: number;
  readonly #pushed = new Set<number>();
  /** The lowest missing id and when it was first missed. */
  #hole: { id: number; since: number } | null = null;

  constructor(start: number, private readonly gapWaitMs = AUDIT_GAP_WAIT_MS) {
    this.#settled = start;
    this.#highest = start;
  }

  /** Read from here: every id at or below it was pushed or given up on. */
  get settled(): number {
    return this.#settled;
  }

  /** The highest id pushed (or the start): a new follower gets every row above it. */
  get highest(): number {
    return this.#highest;
  }

  /** Of the rows read after `settled`, those not pushed yet (to push now, in id order). */
  take(rows: readonly AuditEntry[], now: number): AuditEntry[] {
    const fresh = rows.filter((r) => r.id > this.#settled && !this.#pushed.has(r.id)).sort((a, b) => a.id - b.id);
    for (const row of fresh) {
      this.#pushed.add(row.id);
      this.#highest = Math.max(this.#highest, row.id);
    }
    this.#advance(now);
    return fresh;
  }

  #advance(now: number): void {
    for (;;) {
      while (this.#pushed.delete(this.#settled + 1)) this.#settled++;
      if (this.#pushed.size === 0) {
        this.#hole = null;
        return;
      }
      const missing = this.#settled + 1;
      if (this.#hole?.id !== missing) {
        this.#hole = { id: missing, since: now };
        return;
      }
      if (now - this.#hole.since < this.gapWaitMs) return;
      // Every id below the lowest pushed one was missing since then: rolled back.
      this.#settled = Math.min(...this.#pushed) - 1;
      this.#hole = null;
    }
  }
}

export interface AuditFeedOptions {
  source: AuditSource;
  /** Gives new rows to this hub's followers. */
  deliver(entries: AuditEntry[]): void;
  /** Whether anyone on this hub still follows (the loop stops when no one does). */
  wanted(): boolean;
  logger: Logger;
  everyMs?: number;
  gapWaitMs?: number;
}

export class AuditFeed {
  readonly #o: AuditFeedOptions;
  #cursor: AuditCursor | null = null;
  #starting: Promise<AuditCursor> | null = null;
  #timer: NodeJS.Timeout | null = null;
  #reading = false;

  constructor(options: AuditFeedOptions) {
    this.#o = options;
  }

  /** Starts the loop unless it runs; resolves with the id after which every row will be pushed. */
  async follow(): Promise<number> {
    if (this.#cursor) return this.#cursor.highest;
    this.#starting ??= this.#o.source.lastAuditId().then((last) => {
      const cursor = new AuditCursor(last, this.#o.gapWaitMs);
      this.#cursor = cursor;
      this.#timer = setInterval(() => this.#tick(), this.#o.everyMs ?? POLL_EVERY_MS);
      this.#timer.unref();
      return cursor;
    }).finally(() => (this.#starting = null));
    return (await this.#starting).highest;
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    this.#cursor = null;
  }

  #tick(): void {
    const cursor = this.#cursor;
    if (!cursor || this.#reading) return;
    if (!this.#o.wanted()) {
      this.stop();
      return;
    }
    this.#reading = true;
    this.#o.source.auditAfter(cursor.settled, READ_LIMIT).then((rows) => {
      // Stopped meanwhile (and perhaps started again from the store's newest row): not ours to push.
      if (this.#cursor !== cursor) return;
      const fresh = cursor.take(rows, Date.now());
      if (fresh.length > 0) this.#o.deliver(fresh);
    }, (err: Error) => this.#o.logger.warn({ err: err.message }, 'audit feed: the audit log cannot be read')).finally(() => (this.#reading = false));
  }
}

/** Sockets that follow the audit log, on each hub. */
export const AUDIT_FOLLOWERS = 'audit';

/** Who reads the audit log (as GET /api/audit allows). */
export const readsAudit = (data: SocketData): boolean => data.roles.some((r) => r === 'admin' || r === 'reviewer');

/** The feed's rows to this hub's followers who may still read them; the others stop following. */
export function deliverAudit(followers: readonly LiveSocket[], entries: AuditEntry[]): void {
  for (const socket of followers) {
    // Roles can change under a live login (login-check.ts): whoever lost the right leaves.
    if (readsAudit(socket.data)) socket.emit('audit:entries', { entries });
    else void socket.leave(AUDIT_FOLLOWERS);
  }
}

/**
 * `audit:subscribe` / `audit:unsubscribe` on one connection. `confirmed` runs the subscription once
 * the login is known to be still good (live-server.ts). The socket joins before the feed says where
 * it stands, so no row falls between: one pushed meanwhile comes before `audit:following`.
 */
export function serveAuditSubscription(socket: LiveSocket, opts: {
  feed: AuditFeed | null;
  confirmed: (reply: (ack: Ack) => void, then: () => void) => void;
  logger: Logger;
}): void {
  socket.on('audit:subscribe', (ack) => {
    const reply = typeof ack === 'function' ? ack : () => undefined;
    const feed = opts.feed;
    if (!feed) return reply({ ok: false, error: { code: 'unavailable', message: 'this hub keeps no audit log' } });
    opts.confirmed(reply, () => {
      if (!readsAudit(socket.data)) return reply({ ok: false, error: { code: 'forbidden', message: 'the audit log is for reviewers and admins' } });
      void socket.join(AUDIT_FOLLOWERS);
      feed.follow().then((after) => {
        socket.emit('audit:following', { after });
        reply({ ok: true });
      }, (err: Error) => {
        void socket.leave(AUDIT_FOLLOWERS);
        opts.logger.warn({ err: err.message }, 'audit feed failed to start');
        reply({ ok: false, error: { code: 'unavailable', message: 'the audit log cannot be read right now' } });
      });
    });
  });

  socket.on('audit:unsubscribe', (ack) => {
    void socket.leave(AUDIT_FOLLOWERS);
    if (typeof ack === 'function') ack({ ok: true });
  });
}
