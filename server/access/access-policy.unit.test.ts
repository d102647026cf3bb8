import { describe, expect, it } from 'vitest';
import { endedJustNow, RECONNECT_QUIET_MS } from './access-policy.ts';
import type { AccessRequest } from './access-store.ts';

const request = (over: Partial<AccessRequest>): AccessRequest => ({
  id: 7, scope: 'connect', user: 'alice', target: 'pg', reason: '', durationMs: 60_000, status: 'granted', minApprovals: 1,
  origin: 'dashboard', client: null, sessionId: null, statement: null, rule: null, createdAt: '2026-12-07T10:00:00.000Z',
  pendingUntil: '2026-12-07T10:15:00.000Z', decidedAt: '2026-12-07T10:01:00.000Z', expiresAt: '2026-12-07T10:02:00.000Z',
  endedBy: null, endReason: null, decisions: [], ...over,
});

describe('endedJustNow: reconnecting right after a grant ends opens no request', () => {
  const ended = Date.parse('2026-12-07T10:02:00.000Z');

  it('when the grant expired or was revoked moments ago, then reconnecting is refused with how to ask again', () => {
    expect(endedJustNow(request({ status: 'expired' }), ended + 100)).toBe('access grant #7 for pg has expired; reconnecting does not ask again: ask again with a reason (the dashboard\'s Access page, or `vigil request pg --reason ...`)');
    expect(endedJustNow(request({ status: 'revoked', endedBy: 'aaron' }), ended + 100)).toContain('access grant #7 for pg was revoked by aaron; reconnecting does not ask again');
    expect(endedJustNow(request({ status: 'denied', decidedAt: '2026-12-07T10:02:00.000Z', endedBy: 'aaron' }), ended + 100)).toContain('request #7 for pg was denied by aaron');
  });

  it('when it ended longer ago, is still in force or pending, or there is none, then reconnecting may ask', () => {
    expect(endedJustNow(request({ status: 'expired' }), ended + RECONNECT_QUIET_MS)).toBeNull();
    expect(endedJustNow(request({ status: 'granted' }), ended - 1000)).toBeNull();
    expect(endedJustNow(request({ status: 'pending', decidedAt: null, expiresAt: null }), ended)).toBeNull();
    // A request that expired undecided has no grant that ended: connecting asks again.
    expect(endedJustNow(request({ status: 'expired', expiresAt: null }), ended)).toBeNull();
    expect(endedJustNow(null, ended)).toBeNull();
  });
});
