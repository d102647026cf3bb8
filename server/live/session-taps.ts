// One bus subscription per watched session on this hub, shared by all its viewers here: each live
// body is decoded and validated once (it is hostile input until then), and what one bus message
// brings is handed on as one batch. Viewers that are caught up get the batch in one send together
// (Socket.IO encodes it once for all of them); the others get it through their own feed, which
// puts it in order with what they still lack.
import type { EventBus } from '../../common/bus/event-bus.ts';
import { decodeEvent, type VigilEvent } from '../../common/events/index.ts';
import type { Logger } from '../../common/log.ts';
import { rememberEventBytes } from './event-size.ts';
import type { ViewerFeed } from './viewer-feed.ts';

/** Sends one batch to several viewers (by id) at once. */
export type SendTogether = (viewerIds: string[], sessionId: string, events: VigilEvent[]) => void;

interface Tap {
  feeds: Map<string, ViewerFeed>;
  /** Feeds that must get every batch through offer() (no socket behind them: the terminal mirror). */
  own: Set<string>;
  pending: VigilEvent[];
  subscribed: Promise<() => Promise<void>>;
}

export class SessionTaps {
  private readonly taps = new Map<string, Tap>();

  constructor(private readonly bus: EventBus, private readonly log: Logger, private readonly sendTogether: SendTogether) {}

  /**
   * Starts offering the session's live events to the viewer's feed; resolves once subscribed.
   * `shared: false` for a feed with no socket behind it: it always gets batches through offer().
   */
  async acquire(sessionId: string, viewerId: string, feed: ViewerFeed, shared = true): Promise<() => void> {
    let tap = this.taps.get(sessionId);
    if (!tap) {
      const created: Tap = { feeds: new Map(), own: new Set(), pending: [], subscribed: Promise.resolve(async () => undefined) };
      created.subscribed = this.bus.subscribe(sessionId, (e) => {
        const decoded = decodeEvent(e.body);
        if (!decoded.ok || decoded.event.sessionId !== sessionId || decoded.event.seq !== e.seq) {
          this.log.warn({ sessionId, seq: e.seq }, 'invalid live event dropped (the viewer reads it from the store)');
          return;
        }
        rememberEventBytes(decoded.event, e.body.length);
        // The bus hands over a message's events one by one, synchronously: gather them.
        if (created.pending.push(decoded.event) === 1) queueMicrotask(() => this.flush(sessionId, created));
      });
      tap = created;
      this.taps.set(sessionId, tap);
      created.subscribed.catch(() => {
        if (this.taps.get(sessionId) === created) this.taps.delete(sessionId);
      });
    }
    tap.feeds.set(viewerId, feed);
    if (!shared) tap.own.add(viewerId);
    await tap.subscribed;
    const mine = tap;
    return () => {
      if (mine.feeds.get(viewerId) === feed) {
        mine.feeds.delete(viewerId);
        mine.own.delete(viewerId);
      }
      if (mine.feeds.size > 0 || this.taps.get(sessionId) !== mine) return;
      this.taps.delete(sessionId);
      void mine.subscribed.then((unsubscribe) => unsubscribe()).catch(() => undefined);
    };
  }

  private flush(sessionId: string, tap: Tap): void {
    const batch = tap.pending;
    tap.pending = [];
    const together: string[] = [];
    for (const [viewerId, feed] of tap.feeds) {
      if (!tap.own.has(viewerId) && feed.takeInOrder(batch)) together.push(viewerId);
      else feed.offer(batch);
    }
    if (together.length > 0) this.sendTogether(together, sessionId, batch);
  }
}
