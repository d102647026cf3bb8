import { describe, expect, it } from 'vitest';
import { clockTime, momentLink, parsePlayHash, playHash, secondsParam } from './moment-link.ts';

describe('links to a moment', () => {
  it('when the hash names a session and a moment, then the route has them', () => {
    expect(parsePlayHash('#/play/abc-1?t=12.5')).toEqual({ sessionId: 'abc-1', ms: 12_500, seq: null });
    expect(parsePlayHash('#/play/abc?t=3&seq=42')).toEqual({ sessionId: 'abc', ms: 3000, seq: 42 });
    expect(parsePlayHash('#/play/abc')).toEqual({ sessionId: 'abc', ms: null, seq: null });
  });

  it('when the hash is not the player or carries nonsense, then it is refused or the nonsense dropped', () => {
    expect(parsePlayHash('#/watch/abc')).toBeNull();
    expect(parsePlayHash('#/play/')).toBeNull();
    expect(parsePlayHash('#/play/a%00b')).toBeNull();
    expect(parsePlayHash('#/play/%E0%A4%A')).toBeNull();
    expect(parsePlayHash('#/play/abc?t=-1&seq=0')).toEqual({ sessionId: 'abc', ms: null, seq: null });
    expect(parsePlayHash('#/play/abc?t=1e3&seq=x')).toEqual({ sessionId: 'abc', ms: null, seq: null });
  });

  it('when a link is made, then it carries seconds the hub accepts and opens the same moment', () => {
    expect(secondsParam(12_345.6)).toBe('12.346');
    expect(secondsParam(10_000)).toBe('10');
    expect(secondsParam(-5)).toBe('0');
    const link = momentLink('https://vigil.example', 'abc', { ms: 12_500, seq: 7 });
    expect(link).toBe('https://vigil.example/sessions/abc?t=12.5&seq=7');
    expect(parsePlayHash(playHash('abc', { ms: 12_500, seq: 7 }))).toEqual({ sessionId: 'abc', ms: 12_500, seq: 7 });
  });

  it('when a time is shown, then it reads as minutes and seconds (hours past an hour)', () => {
    expect(clockTime(0)).toBe('0:00.0');
    expect(clockTime(59_960)).toBe('0:59.9');
    expect(clockTime(62_500)).toBe('1:02.5');
    expect(clockTime(3_723_000)).toBe('1:02:03');
  });
});
