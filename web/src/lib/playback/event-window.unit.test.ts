import { describe, expect, it } from 'vitest';
import { EventWindow } from './event-window.ts';
import { out, recording, T0 } from './fake-recording.ts';

const events = recording('ssh', Array.from({ length: 100 }, (_, i) => out(i * 100, `o${i + 1}`)));
const page = (from: number, n: number) => events.slice(from - 1, from - 1 + n);

describe('the event window', () => {
  it('when pages are added, then reads go on where the store says, and its end is noted', () => {
    const w = new EventWindow({ page: 10, lowWater: 15, keepBehind: 5 });
    expect(w.wantsMore()).toBe(true);
    w.add(page(1, 10), 11);
    expect(w.nextFrom).toBe(11);
    expect(w.wantsMore()).toBe(true);
    w.add(page(11, 10), 21);
    expect(w.wantsMore()).toBe(false);
    expect(w.ahead).toBe(20);
    w.add([], null);
    expect(w.endReached).toBe(true);
    expect(w.wantsMore()).toBe(false);
  });

  it('when the playhead moves on, then only keepBehind shown events stay behind it and the window stays bounded', () => {
    const w = new EventWindow({ page: 10, lowWater: 15, keepBehind: 5 });
    let most = 0;
    while (w.nextFrom <= 100) {
      if (w.wantsMore()) {
        w.add(page(w.nextFrom, 10), w.nextFrom + 10 <= 100 ? w.nextFrom + 10 : null);
        expect(w.cursor).toBeLessThanOrEqual(5);
      }
      most = Math.max(most, w.events.length);
      while (w.ahead > 3) w.take();
    }
    expect(most).toBeLessThanOrEqual(5 + 15 + 10);
    expect(w.lastShown()!.seq).toBe(w.events[w.cursor - 1].seq);
  });

  it('when a page repeats events already held, then they are held once', () => {
    const w = new EventWindow({ page: 10, lowWater: 15, keepBehind: 5 });
    w.add(page(1, 10), 11);
    w.add(page(5, 10), 15);
    expect(w.events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]);
  });

  it('when reset at a moment, then what was shown stays behind the cursor and what was read waits ahead', () => {
    const w = new EventWindow({ page: 10, lowWater: 15, keepBehind: 5 });
    w.reset(31, page(20, 10), page(30, 2));
    expect(w.events.map((e) => e.seq)).toEqual([25, 26, 27, 28, 29, 30, 31]);
    expect(w.peek()!.seq).toBe(30);
    expect(w.nextFrom).toBe(32);
    expect(w.endReached).toBe(false);
  });

  it('when looking up a seq or a time, then the window answers by binary search', () => {
    const w = new EventWindow({ page: 100, lowWater: 150, keepBehind: 50 });
    w.add(page(1, 100), null);
    expect(w.indexOfSeq(42)).toBe(41);
    expect(w.indexOfSeq(101)).toBe(-1);
    const timeOf = (e: { time: string }) => Date.parse(e.time) - T0;
    expect(w.indexAfter(450, timeOf)).toBe(5);
    expect(w.indexAfter(500, timeOf)).toBe(6);
    expect(w.indexAfter(-1, timeOf)).toBe(0);
    expect(w.indexAfter(1e9, timeOf)).toBe(100);
  });
});
