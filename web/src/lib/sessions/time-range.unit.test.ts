import { describe, expect, it } from 'vitest';
import { checkedRange, momentIn, rangeProblem, resolveRange } from './time-range.ts';
import { hashQuery, pageHash } from '../page-hash.ts';

const NOW = Date.parse('2025-03-10T14:30:00.000Z');
const none = { from: '', to: '' };

describe('a time range', () => {
  it('when a preset is chosen, then it stands for the instants around now, days in the zone shown', () => {
    expect(resolveRange({ range: '', ...none }, NOW, 'utc')).toEqual({});
    expect(resolveRange({ range: 'hour', ...none }, NOW, 'utc')).toEqual({ from: '2025-03-10T13:30:00.000Z' });
    expect(resolveRange({ range: 'today', ...none }, NOW, 'utc')).toEqual({ from: '2025-03-10T00:00:00.000Z' });
    expect(resolveRange({ range: 'yesterday', ...none }, NOW, 'utc')).toEqual({ from: '2025-03-09T00:00:00.000Z', to: '2025-03-10T00:00:00.000Z' });
    expect(resolveRange({ range: 'week', ...none }, NOW, 'utc')).toEqual({ from: '2025-03-03T14:30:00.000Z' });
    const local = new Date(NOW);
    expect(resolveRange({ range: 'today', ...none }, NOW, 'local')).toEqual({ from: new Date(local.getFullYear(), local.getMonth(), local.getDate()).toISOString() });
  });

  it('when custom times are given, then they are read in the zone shown; one left empty is open', () => {
    expect(resolveRange({ range: 'custom', from: '2025-01-02T09:30', to: '' }, NOW, 'utc')).toEqual({ from: '2025-01-02T09:30:00.000Z' });
    expect(resolveRange({ range: 'custom', from: '', to: '2025-01-02T09:30:15' }, NOW, 'local')).toEqual({ to: new Date(2025, 0, 2, 9, 30, 15).toISOString() });
  });

  it('when a custom time is no real moment, or the range ends before it starts, then it is refused in words', () => {
    expect(momentIn('2025-02-29T10:00', 'utc')).toBeNull();
    expect(momentIn('2024-02-29T10:00', 'utc')).not.toBeNull();
    expect(momentIn('2025-01-02T24:00', 'utc')).toBeNull();
    expect(momentIn('2025-01-02 10:00', 'utc')).toBeNull();
    expect(rangeProblem({ range: 'custom', from: '2025-01-02T10:00', to: '2025-01-02T10:00' })).toContain('before');
    expect(rangeProblem({ range: 'custom', from: '2025-13-02T10:00', to: '' })).toContain('not a real date');
    expect(rangeProblem({ range: 'custom', from: '2025-01-02T10:00', to: '' })).toBeNull();
    expect(rangeProblem({ range: 'today', from: 'nonsense', to: '' })).toBeNull();
  });

  it('when a range comes from a link, then only what makes sense is kept', () => {
    expect(checkedRange('fortnight', '2025-01-02T10:00', '')).toEqual({ range: '', ...none });
    expect(checkedRange('today', '2025-01-02T10:00', '')).toEqual({ range: 'today', ...none });
    expect(checkedRange('custom', '2025-01-02T10:00', 'later')).toEqual({ range: 'custom', from: '2025-01-02T10:00', to: '' });
  });

  it('when a page\'s hash is read or written, then its query is found only under its own name', () => {
    expect(hashQuery('#/audit?actor=rita', 'audit')?.get('actor')).toBe('rita');
    expect(hashQuery('#/auditing?actor=rita', 'audit')).toBeNull();
    expect(hashQuery('#/audit', 'audit')?.toString()).toBe('');
    expect(pageHash('audit', { actor: ' rita ', action: '', target: 'a/b' })).toBe('#/audit?actor=rita&target=a%2Fb');
  });
});
