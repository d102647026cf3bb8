import { describe, expect, it } from 'vitest';
import type { LockView } from '../../../../common/api-contract.ts';
import type { VigilEvent } from '../../../../common/events/schema.ts';
import { ApiError } from '../api.ts';
import { describeOutcome, killAndLock, type KillDeps } from './kill-and-lock.ts';
import { emptyLockForm, killChoices, lockedWhat, lockUntil, parseKillForm, parseLockForm, subjectOf } from './lock-form.ts';
import type { NewLock } from './locks-api.ts';

const view = (over: Partial<LockView> = {}): LockView => ({
  id: 'L-abc', user: 'alice', target: null, token: null, by: 'rita', reason: 'INC-7', createdAt: '2025-01-02T03:04:05.000Z',
  expiresAt: null, liftedAt: null, liftedBy: null, state: 'in force', ...over,
});

describe('the Locks page\'s form', () => {
  it('when a user and a reason are given, then the body names the user, for the duration chosen', () => {
    expect(parseLockForm({ ...emptyLockForm(), user: ' alice ', ttl: '2h', reason: ' INC-7 ' })).toEqual({ ok: true, value: { user: 'alice', ttl: '2h', reason: 'INC-7' } });
  });

  it('when "until lifted" is chosen, then the body has no ttl', () => {
    expect(parseLockForm({ ...emptyLockForm(), target: 'pg', token: 'jti-1', ttl: '', reason: 'x' })).toEqual({ ok: true, value: { target: 'pg', token: 'jti-1', reason: 'x' } });
  });

  it('when nothing is named, or no reason is given, then it is refused before asking the hub', () => {
    expect(parseLockForm({ ...emptyLockForm(), reason: 'x' })).toMatchObject({ ok: false, error: expect.stringContaining('Name a user') });
    expect(parseLockForm({ ...emptyLockForm(), user: 'alice', reason: '   ' })).toMatchObject({ ok: false, error: expect.stringContaining('needs a reason') });
    expect(parseLockForm({ ...emptyLockForm(), user: 'alice', reason: 'x'.repeat(501) }).ok).toBe(false);
  });
});

describe('a lock as listed', () => {
  it('when it names a user, a target, both or a token, then it reads as what it keeps out', () => {
    expect(lockedWhat(view())).toBe('user alice on every target');
    expect(lockedWhat(view({ target: 'pg' }))).toBe('user alice on target pg');
    expect(lockedWhat(view({ user: null, target: 'pg' }))).toBe('target pg (everyone)');
    expect(lockedWhat(view({ user: null, token: 'jti-1' }))).toBe('token jti-1');
  });

  it('when it has no end, then it holds until lifted', () => {
    expect(lockUntil(view())).toBe('until lifted');
    expect(lockUntil(view({ expiresAt: '2025-01-02T05:04:05.000Z' }))).not.toBe('until lifted');
  });
});

const start = (token?: string) => ({ type: 'session.start', seq: 1, user: 'alice', target: 'pg', data: { upstream: 'db:5432', recording: 'required', clientMasking: false, ...(token ? { token } : {}) } }) as unknown as VigilEvent;
const query = { type: 'db.query', seq: 2, user: 'alice', target: 'pg', data: { sql: 'select 1' } } as unknown as VigilEvent;

describe('a kill that locks', () => {
  it('when the session.start carries the token\'s jti, then the token can be locked; without it, only the user', () => {
    const withToken = subjectOf([start('jti-1'), query], null)!;
    expect(withToken).toEqual({ user: 'alice', target: 'pg', token: 'jti-1', started: true });
    expect(killChoices(withToken).map((c) => c.scope)).toEqual(['kill', 'user-target', 'user', 'token']);
    const without = subjectOf([start()], null)!;
    expect(killChoices(without).map((c) => c.scope)).toEqual(['kill', 'user-target', 'user']);
  });

  it('when the session.start comes after other events, then the subject learns the token from it', () => {
    const early = subjectOf([query], null);
    expect(early).toEqual({ user: 'alice', target: 'pg', started: false });
    expect(subjectOf([start('jti-1')], early)).toMatchObject({ token: 'jti-1', started: true });
  });

  it('when a lock is chosen, then a reason is required and the lock names what was chosen', () => {
    const s = { user: 'alice', target: 'pg', token: 'jti-1' };
    expect(parseKillForm('user-target', '30m', '', s)).toMatchObject({ ok: false });
    expect(parseKillForm('user-target', '30m', ' INC-9 ', s)).toEqual({ ok: true, value: { lock: { user: 'alice', target: 'pg', ttl: '30m', reason: 'INC-9' }, reason: 'INC-9' } });
    expect(parseKillForm('user', '', 'r', s)).toEqual({ ok: true, value: { lock: { user: 'alice', reason: 'r' }, reason: 'r' } });
    expect(parseKillForm('token', '1d', 'r', s)).toMatchObject({ ok: true, value: { lock: { token: 'jti-1', ttl: '1d' } } });
    expect(parseKillForm('kill', '1h', '', s)).toEqual({ ok: true, value: { lock: null, reason: '' } });
  });

  function fakes(kill: () => Promise<'ordered'>, lockFails = false) {
    const calls: string[] = [];
    const deps: KillDeps = {
      async createLock(lock: NewLock) {
        calls.push(`lock ${JSON.stringify(lock)}`);
        if (lockFails) throw new ApiError(400, 'invalid body field "user": no control characters');
        return view();
      },
      async killSession(id, reason) {
        calls.push(`kill ${id} ${reason}`);
        return kill();
      },
    };
    return { calls, deps };
  }

  it('when it locks, then the lock is made before the kill is sent', async () => {
    const { calls, deps } = fakes(async () => 'ordered');
    const outcome = await killAndLock('s1', { lock: { user: 'alice', reason: 'r' }, reason: 'r' }, deps);
    expect(calls).toEqual(['lock {"user":"alice","reason":"r"}', 'kill s1 r']);
    expect(describeOutcome(outcome)).toContain('Lock L-abc is in force until it is lifted');
  });

  it('when the hub refuses the lock, then nothing is killed and its refusal is thrown', async () => {
    const { calls, deps } = fakes(async () => 'ordered', true);
    await expect(killAndLock('s1', { lock: { user: 'alice', reason: 'r' }, reason: 'r' }, deps)).rejects.toThrow('no control characters');
    expect(calls).toHaveLength(1);
  });

  it('when the kill fails after the lock was made, then the lock is still reported', async () => {
    const { deps } = fakes(async () => {
      throw new Error('hub away');
    });
    const outcome = await killAndLock('s1', { lock: { user: 'alice', reason: 'r' }, reason: 'r' }, deps);
    expect(outcome).toMatchObject({ lock: { id: 'L-abc' }, kill: { failed: 'hub away' } });
    expect(describeOutcome(outcome)).toContain('the lock ends the session anyway');
  });
});
