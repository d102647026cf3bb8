// One bus subscription per watched session on this hub, shared by all its viewers here: each live
// body is decoded and validated once (it is hostile input until then) and handed to every viewer.
import type { EventBus } from '../../common/bus/event-bus.ts';
import { decodeEvent, type VigilEvent } from '../../common/events/index.ts';
import type { Logger } from '../../common/log.ts';

type Listener = (event: VigilEvent) => void;

interface Tap {
  listeners: Set<Listener>;
  subscribed: Promise<() => Promise<void>>;
}

export class SessionTaps {
  private readonly taps = new Map<string, Tap>();

  constructor(private readonly bus: EventBus, private readonly log: Logger) {}

  /** Starts delivering the session's live events to listener; resolves once subscribed. */
  async acquire(sessionId: string, listener: Listener): Promise<() => void> {
    let tap = this.taps.get(sessionId);
    if (!tap) {
      const listeners = new Set<Listener>();
      const subscribed = this.bus.subscribe(sessionId, (e) => {
        const decoded = decodeEvent(e.body);
        if (!decoded.ok || decoded.event.sessionId !== sessionId || decoded.event.seq !== e.seq) {
          this.log.warn({ sessionId, seq: e.seq }, 'invalid live event dropped (the viewer reads it from the store)');
          return;
        }
        for (const fn of listeners) fn(decoded.event);
      });
      tap = { listeners, subscribed };
      this.taps.set(sessionId, tap);
      subscribed.catch(() => {
        if (this.taps.get(sessionId) === tap) this.taps.delete(sessionId);
      });
    }
    tap.listeners.add(listener);
    await tap.subscribed;
    const mine = tap;
    return () => {
      mine.listeners.delete(listener);
      if (mine.listeners.size > 0 || this.taps.get(sessionId) !== mine) return;
      this.taps.delete(sessionId);
      void mine.subscribed.then((unsubscribe) => unsubscribe()).catch(() => undefined);
    };
  }
}
