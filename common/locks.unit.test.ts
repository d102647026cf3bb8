import { describe, expect, it } from 'vitest';
import { Lock, lockFor, lockMatches, lockMessage } from './locks.ts';

const base = { by: 'rita', reason: 'INC-7: stolen laptop', createdAt: '2026-12-07T09:00:00.000Z' };
const at = Date.parse('2026-12-07T10:00:00.000Z');

describe('locks', () => {
  it('when a lock names a user, a user on a target, a target or a token, then it matches exactly those sessions', () => {
    const bob = { user: 'bob', target: 'payments', token: 'jti-1' };
    expect(lockMatches({ ...base, id: 'a', user: 'bob' }, bob, at)).toBe(true);
    expect(lockMatches({ ...base, id: 'a', user: 'bob' }, { ...bob, user: 'alice' }, at)).toBe(false);
    expect(lockMatches({ ...base, id: 'b', user: 'bob', target: 'payments' }, bob, at)).toBe(true);
    expect(lockMatches({ ...base, id: 'b', user: 'bob', target: 'payments' }, { ...bob, target: 'demo' }, at)).toBe(false);
    expect(lockMatches({ ...base, id: 'c', target: 'payments' }, { user: 'alice', target: 'payments' }, at)).toBe(true);
    expect(lockMatches({ ...base, id: 'd', token: 'jti-1' }, bob, at)).toBe(true);
    expect(lockMatches({ ...base, id: 'd', token: 'jti-1' }, { ...bob, token: 'jti-2' }, at)).toBe(false);
    expect(lockMatches({ ...base, id: 'd', token: 'jti-1' }, { user: 'bob', target: 'payments' }, at)).toBe(false);
  });

  it('when an agent is revoked (a lock on the agent), then every session it serves is locked out, and no other agent\'s', () => {
    const lock = { ...base, id: 'A-1', agent: 'agent-2', reason: 'host decommissioned' };
    expect(Lock.safeParse(lock).success).toBe(true);
    expect(lockMatches(lock, { user: 'bob', target: 'payments', agent: 'agent-2' }, at)).toBe(true);
    expect(lockMatches(lock, { user: 'bob', target: 'payments', agent: 'agent-1' }, at)).toBe(false);
    expect(lockMatches(lock, { user: 'bob', target: 'payments' }, at)).toBe(false);
    expect(lockMessage(lock)).toBe('the Vigil agent agent-2 is no longer trusted (host decommissioned; revoked by rita): it takes no sessions');
  });

  it('when a lock has expired, then it matches nothing; without an expiry it holds until lifted', () => {
    const bob = { user: 'bob', target: 'payments' };
    expect(lockMatches({ ...base, id: 'a', user: 'bob', expiresAt: '2026-12-07T09:59:59.999Z' }, bob, at)).toBe(false);
    expect(lockMatches({ ...base, id: 'a', user: 'bob', expiresAt: '2026-12-07T10:00:00.001Z' }, bob, at)).toBe(true);
    expect(lockFor([{ ...base, id: 'x', user: 'alice' }, { ...base, id: 'y', user: 'bob' }], bob, at)?.id).toBe('y');
  });

  it('when a lock names nothing to match, then it is not a lock', () => {
    expect(Lock.safeParse({ ...base, id: 'z' }).success).toBe(false);
    expect(Lock.safeParse({ ...base, id: 'z', user: 'bob' }).success).toBe(true);
  });

  it('when someone is locked out, then the message says what is locked, by whom, why and until when', () => {
    expect(lockMessage({ ...base, id: 'L1', user: 'bob', target: 'payments', expiresAt: '2026-12-07T11:00:00.000Z' }))
      .toBe('bob on payments is locked by rita: INC-7: stolen laptop (lock L1, until 2026-12-07T11:00:00.000Z)');
    expect(lockMessage({ ...base, id: 'L2', token: 'jti-1' })).toBe('this connection token is locked by rita: INC-7: stolen laptop (lock L2, until it is lifted)');
    expect(lockMessage({ ...base, id: 'L3', target: 'payments' })).toContain('target payments is locked by rita');
  });
});
