// Reading what a test's store recorded: every session with its events, and waits for sessions to
// end (the persister stores them a moment after the proxy emits them).
import type { VigilEvent } from '../../common/events/index.ts';
import type { RecordingStore } from '../../server/recordings/store/recording-store.ts';

/** The events of one type, typed as such. */
export const ofType = <T extends VigilEvent['type']>(events: VigilEvent[], type: T) =>
  events.filter((e): e is Extract<VigilEvent, { type: T }> => e.type === type);

export interface RecordedSession {
  id: string;
  events: VigilEvent[];
}

export interface Recordings {
  sessions(): Promise<RecordedSession[]>;
  /** Waits until `count` sessions hold a session.end and returns those. */
  waitForEnded(count: number, timeoutMs?: number): Promise<RecordedSession[]>;
  /** Waits for an ended session holding an event that matches `pred` and returns its events. */
  sessionWhere(pred: (e: VigilEvent) => boolean, timeoutMs?: number): Promise<VigilEvent[]>;
}

const ended = (s: RecordedSession) => s.events.some((e) => e.type === 'session.end');

export function recordings(store: RecordingStore): Recordings {
  const sessions = async () => {
    const list = await store.listSessions({ limit: 500 });
    return Promise.all(list.map(async (s) => ({ id: s.id, events: (await store.readEvents(s.id, 1, 100_000)).map((e) => e.event) })));
  };
  const poll = async <T>(find: (all: RecordedSession[]) => T | undefined, timeoutMs: number, what: () => string): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const all = await sessions();
      const found = find(all);
      if (found !== undefined) return found;
      if (Date.now() > deadline) throw new Error(what());
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  return {
    sessions,
    waitForEnded(count, timeoutMs = 20_000) {
      let seen = '';
      return poll((all) => {
        const done = all.filter(ended);
        seen = `${done.length} of ${all.length}`;
        return done.length >= count ? done : undefined;
      }, timeoutMs, () => `expected ${count} ended sessions, have ${seen}`);
    },
    sessionWhere(pred, timeoutMs = 20_000) {
      return poll((all) => all.find((s) => ended(s) && s.events.some(pred))?.events, timeoutMs, () => 'no ended session holds a matching event');
    },
  };
}

/** The id of `user`'s live session, once the store has one (the newest). */
export async function liveSessionOf(store: RecordingStore, user: string, timeoutMs = 20_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const id = (await store.listSessions({ user, live: true }))[0]?.id;
    if (id) return id;
    if (Date.now() > deadline) throw new Error(`no live session of ${user} in ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
