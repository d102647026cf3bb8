import { describe, expect, it } from 'vitest';
import { dayStart, emptySearch, hasText, parseSearchHash, searchHash, searchParams } from './search-route.ts';

describe('the Search page\'s route', () => {
  it('when a search is turned into a hash and back, then it is the same search, empty fields left out', () => {
    const form = { ...emptySearch(), q: 'drop table "a b"&x', user: 'bob', protocol: 'postgres', from: '2025-01-02', ended: 'killed' };
    const hash = searchHash(form);
    expect(hash).not.toContain('target=');
    expect(parseSearchHash(hash)).toEqual(form);
    expect(searchHash(emptySearch())).toBe('#/search');
  });

  it('when a hash carries unknown or malformed values, then they are left empty', () => {
    const form = parseSearchHash('#/search?q=x&protocol=ftp&ended=bored&from=2025-02-30&to=yesterday&evil=1');
    expect(form).toEqual({ ...emptySearch(), q: 'x' });
    expect(parseSearchHash('#/sessions')).toEqual(emptySearch());
    expect(parseSearchHash('#/search')).toEqual(emptySearch());
  });

  it('when the days are given, then the hub is asked from the first day\'s start up to the end of the last day', () => {
    const q = searchParams({ ...emptySearch(), q: '  rm -rf ', from: '2025-01-02', to: '2025-01-03', user: ' ', target: 'box' }, 'CUR');
    expect(q.get('q')).toBe('rm -rf');
    expect(q.get('from')).toBe(new Date(2025, 0, 2).toISOString());
    expect(q.get('to')).toBe(new Date(2025, 0, 4).toISOString());
    expect(q.has('user')).toBe(false);
    expect(q.get('target')).toBe('box');
    expect(q.get('cursor')).toBe('CUR');
  });

  it('when the text is blank, then there is nothing to search', () => {
    expect(hasText({ ...emptySearch(), q: '   ' })).toBe(false);
    expect(hasText({ ...emptySearch(), q: 'x' })).toBe(true);
  });

  it('when a day does not exist, then it is no day', () => {
    expect(dayStart('2024-02-29')).not.toBeNull();
    expect(dayStart('2025-02-29')).toBeNull();
    expect(dayStart('2025-1-2')).toBeNull();
  });
});
