import { describe, expect, it } from 'vitest';
import { formatAgo, formatDuration, formatTime } from './time-format.ts';
import { endReasonWords, endedByPerson } from './end-reasons.ts';

const AT = '2026-12-07T21:46:19.573Z';

describe('one time format', () => {
  it('when a moment is shown in UTC, then it reads year first, 24 hours, with the zone, and milliseconds only when asked', () => {
    expect(formatTime(AT, { zone: 'utc' })).toBe('2026-12-07 21:46:19 UTC');
    expect(formatTime(AT, { zone: 'utc', ms: true })).toBe('2026-12-07 21:46:19.573 UTC');
    expect(formatTime(AT, { zone: 'utc', ms: true, date: false })).toBe('21:46:19.573 UTC');
    expect(formatTime(Date.parse(AT), { zone: 'utc', zoneName: false })).toBe('2026-12-07 21:46:19');
  });

  it('when a moment is shown in the viewer\'s zone, then the zone is named', () => {
    const local = formatTime(AT, { zone: 'local' });
    expect(local).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \S+$/);
    const d = new Date(AT);
    expect(local.slice(11, 13)).toBe(String(d.getHours()).padStart(2, '0'));
  });

  it('when the moment is not a time, then nothing is shown', () => {
    expect(formatTime('yesterday-ish', { zone: 'utc' })).toBe('');
  });

  it('when durations and ages are written, then they read at a glance', () => {
    expect([formatDuration(850), formatDuration(42_000), formatDuration(185_000), formatDuration(7_800_000), formatDuration(3 * 86_400_000 + 4 * 3_600_000)])
      .toEqual(['850 ms', '42s', '3m 05s', '2h 10m', '3d 4h']);
    const now = Date.parse(AT);
    expect([formatAgo(now - 1000, now), formatAgo(now - 12_000, now), formatAgo(now - 240_000, now), formatAgo(AT, now + 3 * 3_600_000)])
      .toEqual(['just now', '12s ago', '4m ago', '3h ago']);
  });
});

describe('end reasons in words', () => {
  it('when a session ended, then its reason reads as words, and a newer code as itself', () => {
    expect(endReasonWords('client_terminate')).toBe('client quit');
    expect(endReasonWords('killed')).toBe('killed');
    expect(endReasonWords('some_new_reason')).toBe('some new reason');
    expect(endReasonWords(null)).toBe('ended');
    expect([endedByPerson('killed'), endedByPerson('revoked'), endedByPerson('client_disconnect')]).toEqual([true, true, false]);
  });
});
