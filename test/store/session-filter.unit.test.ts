import { describe, expect, it } from 'vitest';
import {
  decodeSessionCursor, encodeSessionCursor, normalizeSessionFilter, StoreInputError,
} from '../../server/recordings/store/session-filter.ts';

describe('session filter and cursor', () => {
  it('when a cursor is made from a session, then it decodes to that session\'s start and id', () => {
    const cursor = encodeSessionCursor({ id: 'abc', startedAt: '2030-01-01T00:00:00.000Z' });

    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeSessionCursor(cursor)).toEqual({ id: 'abc', startedAt: '2030-01-01T00:00:00.000Z' });
  });

  it('when a cursor is not one of ours, then decoding throws a StoreInputError', () => {
    expect(() => decodeSessionCursor('%%%')).toThrow(StoreInputError);
    expect(() => decodeSessionCursor(Buffer.from('{"t":"x","id":"a"}').toString('base64url'))).toThrow(StoreInputError);
  });

  it('when no limit is given, then it is 50, and a larger one is capped at 500', () => {
    expect(normalizeSessionFilter().limit).toBe(50);
    expect(normalizeSessionFilter({ limit: 9_999 }).limit).toBe(500);
  });

  it('when a filter field is malformed, then it names the field', () => {
    expect(() => normalizeSessionFilter({ to: 'tomorrow' })).toThrow(/at to:/);
    expect(() => normalizeSessionFilter({ limit: 1.5 })).toThrow(StoreInputError);
  });
});
