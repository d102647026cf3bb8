import { describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../common/api-contract.ts';
import { AuditCursor } from './audit-feed.ts';

const row = (id: number): AuditEntry => ({
  id, at: '2030-01-01T00:00:00.000Z', actor: 'rita', action: 'session.viewed', target: null, requestId: null, sessionId: null, origin: null, detail: {},
});
const ids = (rows: AuditEntry[]) => rows.map((r) => r.id);

describe('the audit feed\'s cursor', () => {
  it('when rows come in order, then each is pushed once and the cursor moves past them', () => {
    const cursor = new AuditCursor(10);
    expect(ids(cursor.take([row(11), row(12)], 0))).toEqual([11, 12]);
    expect(ids(cursor.take([row(11), row(12), row(13)], 1))).toEqual([13]);
    expect(cursor.settled).toBe(13);
    expect(cursor.highest).toBe(13);
  });

  it('when a row commits after a higher one, then it is pushed when it shows up, and the rest only once', () => {
    const cursor = new AuditCursor(10);
    // 11 is still in an open transaction when 12 is read.
    expect(ids(cursor.take([row(12)], 0))).toEqual([12]);
    expect(cursor.settled).toBe(10);
    expect(ids(cursor.take([row(12)], 500))).toEqual([]);
    expect(ids(cursor.take([row(11), row(12), row(13)], 1000))).toEqual([11, 13]);
    expect(cursor.settled).toBe(13);
  });

  it('when a hole stays empty past the wait, then it is given up on (a rolled-back row) and reading goes on above it', () => {
    const cursor = new AuditCursor(10, 5000);
    expect(ids(cursor.take([row(13), row(14)], 0))).toEqual([13, 14]);
    expect(cursor.take([row(13), row(14)], 4999)).toEqual([]);
    expect(cursor.settled).toBe(10);
    cursor.take([row(13), row(14)], 5000);
    expect(cursor.settled).toBe(14);
    // A new hole waits again from when it is first missed.
    expect(ids(cursor.take([row(16)], 6000))).toEqual([16]);
    expect(cursor.settled).toBe(14);
    cursor.take([row(16)], 11_000);
    expect(cursor.settled).toBe(16);
  });

  it('when rows come out of order in one read, then they are pushed in id order', () => {
    expect(ids(new AuditCursor(0).take([row(3), row(1), row(2)], 0))).toEqual([1, 2, 3]);
  });
});
