import { describe, expect, it } from 'vitest';
import {
  compareStreamIds, isNoGroup, nextStreamId, parseAutoClaim, parseConsumers, parseGroups, parsePendingFirstId, parseReadGroup,
} from './redis-replies.ts';
import { packBodies } from './entry-codec.ts';

describe('Redis stream replies', () => {
  it('when ids differ in digit count, then they still compare numerically', () => {
    expect(compareStreamIds('999-0', '1000-0')).toBe(-1);
    expect(compareStreamIds('5-10', '5-9')).toBe(1);
    expect(compareStreamIds('7-3', '7-3')).toBe(0);
    expect(nextStreamId('1700000000000-41')).toBe('1700000000000-42');
  });

  it('when XREADGROUP returns entries, trimmed ones included, then bodies are unpacked and deleted ids separated', () => {
    const raw = [['vigil:events', [
      ['1-0', ['b', packBodies(['{"x":1}', '{"y":2}'])]], ['2-0', null], ['3-0', ['other', 'field']], ['4-0', ['b', '9:unframed']],
    ]]];
    expect(parseReadGroup(raw)).toEqual({
      deliveries: [{ id: '1-0', bodies: ['{"x":1}', '{"y":2}'] }, { id: '3-0', bodies: [''] }, { id: '4-0', bodies: ['9:unframed'] }],
      deletedIds: ['2-0'],
    });
    expect(parseReadGroup(null)).toEqual({ deliveries: [], deletedIds: [] });
  });

  it('when XAUTOCLAIM, XINFO GROUPS and XPENDING answer, then the fields the bus needs are read', () => {
    expect(parseAutoClaim(['0-0', [['4-1', ['b', '1:x']]], []])).toEqual([{ id: '4-1', bodies: ['x'] }]);
    expect(parseGroups([['name', 'g', 'consumers', 1, 'pending', 2, 'last-delivered-id', '9-0', 'entries-read', 9, 'lag', 0]]))
      .toEqual([{ name: 'g', pending: 2, lastDeliveredId: '9-0', lag: 0 }]);
    expect(parsePendingFirstId([2, '3-0', '9-0', [['c', '2']]])).toBe('3-0');
    expect(parsePendingFirstId([0, null, null, null])).toBeNull();
  });

  it('when the consumers script answers, then a consumer that never sent a heartbeat has no silence', () => {
    expect(parseConsumers([['hub-a', 3, 4200, 3100], ['old-hub', 0, 60000, -1], 'junk', ['short']])).toEqual([
      { name: 'hub-a', pending: 3, idleMs: 4200, silentMs: 3100 },
      { name: 'old-hub', pending: 0, idleMs: 60000, silentMs: null },
    ]);
    expect(parseConsumers(null)).toEqual([]);
  });

  it('when Redis says NOGROUP, then it is recognised', () => {
    expect(isNoGroup(new Error("NOGROUP No such key 'k' or consumer group 'g'"))).toBe(true);
    expect(isNoGroup(new Error('ERR something else'))).toBe(false);
  });
});
