import { describe, expect, it } from 'vitest';
import { RateLimiter } from './rate-limiter.ts';

function clock() {
  const c = { t: 1_000_000, now: () => c.t };
  return c;
}

describe('RateLimiter', () => {
  it('when a key spends its budget, then the next take is refused with the seconds until a token is back', () => {
    const c = clock();
    const limiter = new RateLimiter({ perMinute: 6, now: c.now });
    for (let i = 0; i < 6; i++) expect(limiter.take('a')).toEqual({ ok: true });
    expect(limiter.take('a')).toEqual({ ok: false, retryAfterSeconds: 10 });
    c.t += 4_000;
    expect(limiter.take('a')).toEqual({ ok: false, retryAfterSeconds: 6 });
    c.t += 6_000;
    expect(limiter.take('a')).toEqual({ ok: true });
    expect(limiter.take('a').ok).toBe(false);
  });

  it('when one key is exhausted, then other keys are not affected', () => {
    const limiter = new RateLimiter({ perMinute: 1, now: clock().now });
    expect(limiter.take('a').ok).toBe(true);
    expect(limiter.take('a').ok).toBe(false);
    expect(limiter.take('b').ok).toBe(true);
  });

  it('when a key is checked, then no token is spent', () => {
    const limiter = new RateLimiter({ perMinute: 1, now: clock().now });
    expect(limiter.check('a').ok).toBe(true);
    expect(limiter.check('a').ok).toBe(true);
    expect(limiter.take('a').ok).toBe(true);
    expect(limiter.check('a').ok).toBe(false);
  });

  it('when a bucket has filled up again, then the key is forgotten', () => {
    const c = clock();
    const limiter = new RateLimiter({ perMinute: 2, now: c.now });
    limiter.take('a');
    expect(limiter.size).toBe(1);
    c.t += 30_000;
    limiter.check('a');
    expect(limiter.size).toBe(0);
    // Idle longer than a minute refills to the budget, never beyond it.
    c.t += 600_000;
    expect([limiter.take('a').ok, limiter.take('a').ok, limiter.take('a').ok]).toEqual([true, true, false]);
  });

  it('when more keys come than it may remember, then the least recently used is forgotten and memory stays bounded', () => {
    const limiter = new RateLimiter({ perMinute: 1, maxKeys: 3, now: clock().now });
    for (const key of ['a', 'b', 'c']) limiter.take(key);
    limiter.check('a'); // used again: b is now the oldest
    limiter.take('d');
    expect(limiter.size).toBe(3);
    expect(limiter.take('a').ok).toBe(false);
    expect(limiter.take('b').ok).toBe(true); // forgotten, so a fresh budget
    for (let i = 0; i < 10_000; i++) limiter.take(`flood-${i}`);
    expect(limiter.size).toBe(3);
  });
});
