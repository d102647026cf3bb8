import { describe, expect, it } from 'vitest';
import { emptySessionFilter, parseSessionListHash, sessionListHash, sessionListParams } from './session-list-route.ts';

describe('the Sessions page\'s route', () => {
  it('when a filter is turned into a hash and back, then it is the same filter, empty fields left out', () => {
    const filter = { ...emptySessionFilter(), user: 'ali ce&x', target: 'pay%_\\', protocol: 'ssh', range: 'today' as const };
    const hash = sessionListHash(filter);
    expect(hash).toBe('#/sessions?user=ali+ce%26x&target=pay%25_%5C&protocol=ssh&range=today');
    expect(parseSessionListHash(hash)).toEqual(filter);
    expect(sessionListHash(emptySessionFilter())).toBe('#/sessions');
  });

  it('when the range is custom, then from and to travel with it; with a preset they are dropped', () => {
    const custom = { ...emptySessionFilter(), range: 'custom' as const, from: '2025-01-02T09:30', to: '2025-01-02T17:00' };
    expect(parseSessionListHash(sessionListHash(custom))).toEqual(custom);
    expect(sessionListHash({ ...custom, range: 'hour' })).toBe('#/sessions?range=hour');
  });

  it('when a hash carries unknown or malformed values, then they are left empty', () => {
    expect(parseSessionListHash('#/sessions?protocol=ftp&range=fortnight&evil=1&user=%20bob%20')).toEqual({ ...emptySessionFilter(), user: 'bob' });
    expect(parseSessionListHash('#/sessions?range=custom&from=2025-02-30T10:00&to=noon')).toEqual({ ...emptySessionFilter(), range: 'custom' });
    // A range that ends before it starts is no range.
    expect(parseSessionListHash('#/sessions?range=custom&from=2025-01-03T00:00&to=2025-01-02T00:00')).toEqual({ ...emptySessionFilter(), range: 'custom' });
    expect(parseSessionListHash('#/sessions?range=hour&from=2025-01-02T09:30')).toEqual({ ...emptySessionFilter(), range: 'hour' });
    expect(parseSessionListHash('#/search?user=bob')).toEqual(emptySessionFilter());
    expect(parseSessionListHash('#/sessions')).toEqual(emptySessionFilter());
    expect(parseSessionListHash('#sessions?user=bob').user).toBe('bob');
  });

  it('when a value is longer than the hub takes, then it is cut to its length', () => {
    expect(parseSessionListHash(`#/sessions?user=${'a'.repeat(300)}`).user).toHaveLength(256);
  });

  it('when the hub is asked, then pages are of 100, names trimmed, the range\'s instants and the cursor given', () => {
    const q = sessionListParams({ ...emptySessionFilter(), user: ' ALI ', target: '  ', protocol: 'postgres', range: 'hour' },
      { from: '2025-01-02T09:00:00.000Z' }, 'CURSOR');
    expect(Object.fromEntries(q)).toEqual({ limit: '100', user: 'ALI', protocol: 'postgres', from: '2025-01-02T09:00:00.000Z', before: 'CURSOR' });
    expect(Object.fromEntries(sessionListParams(emptySessionFilter(), {}))).toEqual({ limit: '100' });
  });
});
