import { describe, expect, it } from 'vitest';
import { IDLE_LIMIT_MS, PlaybackClock, stepSpeed } from './clock.ts';

describe('the playback clock', () => {
  it('when playing at a speed, then the playhead moves by wall time times the speed', () => {
    const clock = new PlaybackClock();
    expect(clock.advance(1000, 500, 1000, 5000)).toBe(1500);
    clock.speed = 4;
    expect(clock.advance(1000, 500, 1000, 5000)).toBe(3000);
    clock.speed = 0.25;
    expect(clock.advance(1000, 400, 1000, 5000)).toBe(1100);
  });

  it('when idle skipping is on, then a long gap plays as the limit and the playhead jumps to its end', () => {
    const clock = new PlaybackClock();
    clock.skipIdle = true;
    // A 10 s gap after the event at 1 s: the first 2 s of it play...
    expect(clock.advance(1000, 1500, 1000, 11_000)).toBe(2500);
    // ...then the playhead is at the next event.
    expect(clock.advance(2500, 600, 1000, 11_000)).toBe(11_000);
  });

  it('when a gap is within the limit, or skipping is off, then it plays in full', () => {
    const clock = new PlaybackClock();
    clock.skipIdle = true;
    expect(clock.advance(1000, 1900, 1000, 1000 + IDLE_LIMIT_MS)).toBe(2900);
    clock.skipIdle = false;
    expect(clock.advance(1000, 3000, 1000, 11_000)).toBe(4000);
  });

  it('when idle skipping at a higher speed, then the compressed gap plays faster too', () => {
    const clock = new PlaybackClock();
    clock.skipIdle = true;
    clock.speed = 2;
    expect(clock.advance(0, 999, 0, 60_000)).toBe(1998);
    expect(clock.advance(1998, 1, 0, 60_000)).toBe(60_000);
  });

  it('when the next event is not known yet, then the playhead just moves', () => {
    const clock = new PlaybackClock();
    clock.skipIdle = true;
    expect(clock.advance(0, 5000, 0, null)).toBe(5000);
  });

  it('when the speed steps up or down, then it moves along the offered speeds and stops at their ends', () => {
    expect(stepSpeed(1, 1)).toBe(2);
    expect(stepSpeed(1, -1)).toBe(0.5);
    expect(stepSpeed(16, 1)).toBe(16);
    expect(stepSpeed(0.25, -1)).toBe(0.25);
    expect(stepSpeed(3, 1)).toBe(4);
    expect(stepSpeed(3, -1)).toBe(2);
  });
});
