import { describe, expect, it } from 'vitest';
import { hitLabel, nextHit, previousHit } from './hit-cursor.ts';

const hits = [{ seq: 5 }, { seq: 9 }, { seq: 9 }, { seq: 20 }];

describe('find in a recording', () => {
  it('when Next is pressed away from any hit, then it goes to the first hit after the playhead, wrapping past the last', () => {
    expect(nextHit(hits, null, 0)).toBe(0);
    expect(nextHit(hits, null, 5)).toBe(1);
    expect(nextHit(hits, null, 12)).toBe(3);
    expect(nextHit(hits, null, 20)).toBe(0);
  });

  it('when Previous is pressed away from any hit, then it goes to the last hit before the playhead, wrapping past the first', () => {
    expect(previousHit(hits, null, 12)).toBe(2);
    expect(previousHit(hits, null, 9)).toBe(0);
    expect(previousHit(hits, null, 5)).toBe(3);
  });

  it('when the playhead is still on the hit gone to, then Next and Previous step from it, through hits of the same event', () => {
    expect(nextHit(hits, 1, 9)).toBe(2);
    expect(nextHit(hits, 2, 9)).toBe(3);
    expect(nextHit(hits, 3, 20)).toBe(0);
    expect(previousHit(hits, 2, 9)).toBe(1);
    expect(previousHit(hits, 0, 5)).toBe(3);
  });

  it('when the playhead moved off the hit gone to, then the playhead counts, not the hit', () => {
    expect(nextHit(hits, 0, 15)).toBe(3);
    expect(previousHit(hits, 3, 15)).toBe(2);
  });

  it('when there are no hits, then there is nowhere to go', () => {
    expect(nextHit([], null, 3)).toBeNull();
    expect(previousHit([], 0, 3)).toBeNull();
  });

  it('when hits are counted, then the label says which of how many', () => {
    expect(hitLabel(2, 17, false)).toBe('3 of 17');
    expect(hitLabel(2, 500, true)).toBe('3 of 500+');
    expect(hitLabel(null, 17, false)).toBe('17 hits');
    expect(hitLabel(null, 1, false)).toBe('1 hit');
    expect(hitLabel(null, 0, false)).toBe('no hits');
  });
});
