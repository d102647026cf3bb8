import { describe, expect, it } from 'vitest';
import type { VigilEvent } from '../../common/events/index.ts';
import { ViewerFeed } from './viewer-feed.ts';

const ev = (seq: number) => ({ seq, sessionId: 's', type: 'db.query' }) as unknown as VigilEvent;
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => ev(from + i));

/** A store that holds `stored` events (more can be added) and counts reads. */
function fakeStore(stored: VigilEvent[]) {
  const store = { events: [...stored], reads: 0 };
  const readStored = async (from: number, limit: number) => {
    store.reads++;
    await new Promise((r) => setTimeout(r, 1));
    return store.events.filter((e) => e.seq >= from).sort((a, b) => a.seq - b.seq).slice(0, limit);
  };
  return { store, readStored };
}

function feedOf(stored: VigilEvent[], fromSeq = 1, extra: Partial<ConstructorParameters<typeof ViewerFeed>[0]> = {}) {
  const { store, readStored } = fakeStore(stored);
  const delivered: number[] = [];
  const gaps: Array<[number, number]> = [];
  const feed = new ViewerFeed({
    fromSeq, readStored, pageSize: 4, retryMs: 5, gapTimeoutMs: 200,
    deliver: (events) => delivered.push(...events.map((e) => e.seq)),
    reportGap: (from, to) => gaps.push([from, to]),
    ...extra,
  });
  return { feed, store, delivered, gaps };
}

const until = async (cond: () => boolean) => {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
};

describe('ViewerFeed', () => {
  it('when live events overlap the backlog in any order, then each seq is delivered once, in order', async () => {
    const { feed, delivered } = feedOf(range(1, 10));
    feed.offer([ev(12), ev(9), ev(11)]);
    const started = feed.start();
    feed.offer([ev(10), ev(13), ev(11)]);
    await started;
    feed.offer([ev(14), ev(13)]);
    await until(() => delivered.length >= 14);
    expect(delivered).toEqual(range(1, 14).map((e) => e.seq));
  });

  it('when resuming from a seq, then nothing before it is delivered', async () => {
    const { feed, delivered } = feedOf(range(1, 9), 6);
    await feed.start();
    feed.offer([ev(5), ev(10)]);
    expect(delivered).toEqual([6, 7, 8, 9, 10]);
  });

  it('when live events jump ahead of what is stored, then the hole is filled from the store once the persister has it', async () => {
    const { feed, store, delivered } = feedOf(range(1, 3));
    await feed.start();
    feed.offer([ev(7), ev(8)]); // 4..6 were published before, not yet persisted
    await new Promise((r) => setTimeout(r, 30));
    expect(delivered).toEqual([1, 2, 3]);
    store.events.push(...range(4, 6));
    await until(() => delivered.length >= 8);
    expect(delivered).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('when the last events were not stored yet at the start and nothing comes live, then a later look at the store delivers them', async () => {
    const { feed, store, delivered } = feedOf(range(1, 2), 1, { tailChecksMs: [20, 60] });
    await feed.start();
    expect(delivered).toEqual([1, 2]);
    store.events.push(...range(3, 4)); // the persister catches up; the session stays idle
    await until(() => delivered.length >= 4);
    expect(delivered).toEqual([1, 2, 3, 4]);
    feed.close();
  });

  it('when a hole never fills, then it is reported as a gap after the timeout and delivery goes on', async () => {
    const { feed, delivered, gaps, store } = feedOf(range(1, 2));
    await feed.start();
    feed.offer([ev(5), ev(6)]);
    await until(() => gaps.length > 0);
    expect(gaps).toEqual([[3, 4]]);
    expect(delivered).toEqual([1, 2, 5, 6]);
    // It polled the store while waiting, not in a tight loop.
    expect(store.reads).toBeLessThan(100);
  });

  it('when the backlog is longer than a page, then every page is read', async () => {
    const { feed, delivered } = feedOf(range(1, 11));
    await feed.start();
    expect(delivered).toEqual(range(1, 11).map((e) => e.seq));
  });

  it('when closed, then nothing more is delivered', async () => {
    const { feed, delivered } = feedOf([]);
    await feed.start();
    feed.close();
    feed.offer([ev(1)]);
    expect(delivered).toEqual([]);
  });

  it('when live events beyond a hole pass the bound in bytes, then the oldest are let go and the store gives them later', async () => {
    const { feed, store, delivered } = feedOf(range(1, 2), 1, { sizeOf: () => 100, maxBufferedBytes: 1000 });
    await feed.start();
    for (let seq = 10; seq < 60; seq++) {
      feed.offer([ev(seq)]);
      expect(feed.heldBytes).toBeLessThanOrEqual(1000);
    }
    expect(delivered).toEqual([1, 2]);
    store.events.push(...range(3, 59));
    await until(() => delivered.length >= 59);
    expect(delivered).toEqual(range(1, 59).map((e) => e.seq));
    expect(feed.heldBytes).toBe(0);
    feed.close();
  });

  it('when the viewer cannot take more, then the backlog is not read further until it can', async () => {
    const gates: Array<() => void> = [];
    const { feed, delivered } = feedOf(range(1, 11), 1, { beforeRead: () => new Promise<void>((resolve) => gates.push(resolve)) });
    const started = feed.start();
    const seqsUpTo = (to: number) => range(1, to).map((e) => e.seq);
    await until(() => gates.length === 1);
    expect(delivered).toEqual([]);
    gates[0]();
    await until(() => gates.length === 2);
    await new Promise((r) => setTimeout(r, 30));
    expect(delivered).toEqual(seqsUpTo(4)); // the next page waits for the viewer
    gates[1]();
    await until(() => gates.length === 3);
    expect(delivered).toEqual(seqsUpTo(8));
    gates[2]();
    await started;
    expect(delivered).toEqual(seqsUpTo(11));
  });

  it('when a live batch continues exactly where a caught-up viewer is, then the feed takes it for shared delivery', async () => {
    const { feed, delivered } = feedOf(range(1, 3));
    await feed.start();
    expect(feed.takeInOrder([ev(4), ev(5)])).toBe(true);
    expect(feed.position).toBe(6);
    // Taken, not delivered: the caller sends it to every viewer that took it at once.
    expect(delivered).toEqual([1, 2, 3]);
    feed.offer([ev(6)]);
    expect(delivered).toEqual([1, 2, 3, 6]);
  });

  it('when the feed is catching up, holds events, or the batch does not continue it, then the batch is not taken', async () => {
    const { feed, delivered } = feedOf(range(1, 3));
    const started = feed.start();
    expect(feed.takeInOrder([ev(4)])).toBe(false); // the backlog is still being read
    await started;
    expect(feed.takeInOrder([ev(6)])).toBe(false); // 4 and 5 are missing
    expect(feed.takeInOrder([ev(4), ev(6)])).toBe(false); // not contiguous
    feed.offer([ev(6)]);
    expect(feed.takeInOrder([ev(4)])).toBe(false); // 6 waits in the buffer: order goes through offer
    expect(delivered).toEqual([1, 2, 3]);
    feed.close();
    expect(feed.takeInOrder([ev(4)])).toBe(false);
  });

  it('when the store fails for a while, then the feed reads it again after retryMs and delivers once it answers, never rejecting in the background', async () => {
    const { store, readStored } = fakeStore(range(1, 5));
    let failures = 3;
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const { feed, delivered } = feedOf([], 1, {
        readStored: async (from, limit) => {
          if (failures-- > 0) throw new Error('Connection terminated unexpectedly');
          return readStored(from, limit);
        },
      });
      await expect(feed.start()).rejects.toThrow('Connection terminated');
      feed.offer([ev(7)]); // live events keep coming while the store is down
      await until(() => delivered.length >= 5);
      expect(delivered).toEqual([1, 2, 3, 4, 5]);
      expect(store.reads).toBeGreaterThan(0);
      store.events.push(ev(6));
      await until(() => delivered.length >= 7);
      expect(delivered).toEqual([1, 2, 3, 4, 5, 6, 7]);
      feed.close();
      await new Promise((r) => setTimeout(r, 20));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
