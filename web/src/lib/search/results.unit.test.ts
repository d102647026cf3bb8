import { describe, expect, it } from 'vitest';
import type { SearchHit, SessionMatches } from '../recordings-api.ts';
import { appendPage, distinctHits, kindLabel, offsetMs } from './results.ts';

const session = (sessionId: string): SessionMatches => ({
  sessionId, user: 'bob', target: 'box', protocol: 'ssh', startedAt: '2025-01-02T09:00:00.000Z', endedAt: null, endReason: null, hitCount: 1, hits: [],
});
const hit = (seq: number, kind: SearchHit['kind'], part = 0): SearchHit =>
  ({ sessionId: 'a', seq, kind, part, time: '2025-01-02T09:00:01.000Z', rank: 1, snippet: { text: 'x', highlights: [] } });

describe('search results as pages arrive', () => {
  it('when a page lists a session already shown, then it stays where it was, once', () => {
    const list = appendPage(appendPage([], [session('a'), session('b')]), [session('b'), session('c'), session('c')]);
    expect(list.map((s) => s.sessionId)).toEqual(['a', 'b', 'c']);
  });

  it('when an empty page comes, then the list is as it was', () => {
    expect(appendPage([session('a')], []).map((s) => s.sessionId)).toEqual(['a']);
  });

  it('when hits repeat, then each shows once', () => {
    expect(distinctHits([hit(3, 'command'), hit(3, 'output'), hit(3, 'command'), hit(3, 'output', 1)]).length).toBe(3);
  });

  it('when a hit is placed in its session, then its offset is from the start (never negative)', () => {
    expect(offsetMs('2025-01-02T09:00:00.000Z', '2025-01-02T09:00:01.500Z')).toBe(1500);
    expect(offsetMs('2025-01-02T09:00:02.000Z', '2025-01-02T09:00:01.500Z')).toBe(0);
    expect(offsetMs(null, '2025-01-02T09:00:01.500Z')).toBe(0);
    expect(kindLabel('query')).toBe('statement');
    expect(kindLabel('odd')).toBe('odd');
    expect([kindLabel('command', 'http'), kindLabel('input', 'http'), kindLabel('output', 'http'), kindLabel('command', 'ssh')]).toEqual(['request', 'sent', 'received', 'command']);
  });
});
