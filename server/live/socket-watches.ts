// The sessions one connection watches: each a ViewerFeed on the session's tap, at most
// `maxWatches` at once, and only sessions that are in the store and that the connection's person
// may see. A refused watch leaves nothing behind (no bus subscription, no tap, no terminal
// mirror): a client naming thousands of ids costs one store read each, at most `maxWatches` at a
// time.
//
// A session must be in the store to be watched: its session.start is stored within milliseconds
// of the connect, and the dashboard only knows ids it read from the store (the Live page). A
// viewer that asks before that gets `not_found` and may ask again.
//
// A watch takes its place (counted against the limit) the moment it is asked for, before any
// await. Watching the same session again (resuming from another seq), unwatching it or
// disconnecting replaces it; a setup still under way then sees that and undoes what it made, so
// nothing outlives the connection.
import type { WatchRequest, Ack } from '../../common/live/contract.ts';
import type { Logger } from '../../common/log.ts';
import { maySeeSession, seeingRight, type ApprovesFor } from '../access/access-policy.ts';
import type { AccessStore } from '../access/access-store.ts';
import { auditRefusal, auditView } from '../access/view-audit.ts';
import type { RecordingStore } from '../recordings/store/recording-store.ts';
import { actorOf, room, type LiveSocket } from './live-socket.ts';
import type { SessionTaps } from './session-taps.ts';
import type { TerminalMirrors } from './terminal-mirror.ts';
import { ViewerFeed } from './viewer-feed.ts';

export interface WatchContext {
  store: RecordingStore;
  taps: SessionTaps;
  mirrors: TerminalMirrors;
  approves?: ApprovesFor;
  maxWatches: number;
  log: Logger;
  /** Waits until the connection can take another page of a backlog. */
  paced(): Promise<void>;
  /** A watch of the session started or ended on this connection (presence). */
  changed(sessionId: string): void;
  /** Asked once a watch has taken its place: a refusal (the login has ended), or null to go on. */
  admit?(): Promise<Ack | null>;
  /** Where each live view and each refused watch is put on record (view-audit.ts). */
  audit?: AccessStore;
}

interface Watch {
  feed: ViewerFeed | null;
  release: (() => void) | null;
}

const refused = (code: 'not_found' | 'too_many_watches' | 'cancelled' | 'unavailable', message: string): Ack => ({ ok: false, error: { code, message } });

export class SocketWatches {
  private readonly watches = new Map<string, Watch>();
  /** Sessions this connection's view of is on record: a resume after a reconnect is not another view. */
  private readonly recorded = new Set<string>();

  constructor(private readonly socket: LiveSocket, private readonly ctx: WatchContext) {}

  /** Answers through `reply` once the watch is set up (or refused), then reads the backlog. */
  async watch({ sessionId, fromSeq = 1, screen }: WatchRequest, reply: (ack: Ack) => void): Promise<void> {
    if (!this.watches.has(sessionId) && this.watches.size >= this.ctx.maxWatches) {
      return reply(refused('too_many_watches', `one connection watches at most ${this.ctx.maxWatches} sessions: unwatch one first`));
    }
    this.end(sessionId);
    const watch: Watch = { feed: null, release: null };
    this.watches.set(sessionId, watch);
    const current = () => this.watches.get(sessionId) === watch;
    const cancelled = () => reply(refused('cancelled', 'unwatched, watched again or disconnected before the watch was set up'));
    try {
      const refusal = (await this.ctx.admit?.()) ?? null;
      if (refusal) {
        if (current()) this.watches.delete(sessionId);
        return reply(refusal);
      }
      if (!current()) return cancelled();
      const session = await this.ctx.store.getSession(sessionId);
      if (!current()) return cancelled();
      const actor = actorOf(this.socket.data);
      const right = session ? seeingRight(actor, session, this.ctx.approves) : null;
      if (!session || !right) {
        this.watches.delete(sessionId);
        if (session) await auditRefusal(this.ctx.audit, actor.subject, session, 'live', this.socket.handshake.address ?? null);
        return reply(refused('not_found', `no session ${sessionId}`));
      }
      if (!this.recorded.has(sessionId)) {
        this.recorded.add(sessionId);
        await auditView(this.ctx.audit, actor.subject, session, 'live', { via: right }, this.socket.handshake.address ?? null);
      }
      // A late joiner of a terminal session gets the screen as it is now, and the terminal's
      // output only after it (the rest of the backlog comes whole).
      const snapshot = screen && fromSeq === 1 && session.protocol === 'ssh' ? await this.ctx.mirrors.snapshot(sessionId) : null;
      if (!current()) return cancelled();
      const shownUpTo = snapshot?.seq ?? 0;
      const feed = new ViewerFeed({
        fromSeq,
        readStored: async (from, limit) => (await this.ctx.store.readEvents(sessionId, from, limit)).map((s) => s.event),
        deliver: (events) => {
          const wanted = shownUpTo ? events.filter((e) => e.seq > shownUpTo || e.type !== 'term.output') : events;
          if (wanted.length) this.socket.emit('events', { sessionId, events: wanted });
        },
        reportGap: (from, to) => this.socket.emit('gap', { sessionId, from, to }),
        beforeRead: this.ctx.paced,
      });
      watch.feed = feed;
      // Live first, then the backlog: what arrives meanwhile waits in the feed.
      const release = await this.ctx.taps.acquire(sessionId, this.socket.id, feed);
      if (!current()) {
        release();
        return cancelled();
      }
      watch.release = release;
      await this.socket.join(room(sessionId));
      reply({ ok: true });
      if (snapshot) this.socket.emit('screen', snapshot);
      this.ctx.changed(sessionId);
      // Watching: a backlog read that fails is read again with the next live event.
      feed.start().catch((err: Error) => this.ctx.log.warn({ err: err.message, sessionId }, 'backlog read failed'));
    } catch (err) {
      this.ctx.log.warn({ err: (err as Error).message, sessionId }, 'watch failed');
      if (current()) this.end(sessionId);
      reply(refused('unavailable', 'the session cannot be watched right now; try again'));
    }
  }

  unwatch(sessionId: string): void {
    if (!this.end(sessionId)) return;
    void this.socket.leave(room(sessionId));
    this.ctx.changed(sessionId);
  }

  /** The person's roles changed: each watch they may no longer see ends, and the viewer is told why. */
  async revalidate(): Promise<void> {
    for (const sessionId of [...this.watches.keys()]) {
      const session = await this.ctx.store.getSession(sessionId);
      if (session && maySeeSession(actorOf(this.socket.data), session, this.ctx.approves)) continue;
      if (!this.watches.has(sessionId)) continue;
      this.unwatch(sessionId);
      this.socket.emit('unwatched', { sessionId, message: `you may no longer watch session ${sessionId}: your roles changed` });
    }
  }

  /** The connection is gone (Socket.IO has taken it out of its rooms). */
  endAll(): void {
    for (const sessionId of [...this.watches.keys()]) {
      this.end(sessionId);
      this.ctx.changed(sessionId);
    }
  }

  private end(sessionId: string): boolean {
    const watch = this.watches.get(sessionId);
    if (!watch) return false;
    this.watches.delete(sessionId);
    watch.feed?.close();
    watch.release?.();
    return true;
  }
}
