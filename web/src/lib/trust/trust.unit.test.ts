import { describe, expect, it } from 'vitest';
import type { AgentIdentityView } from '../../../../common/api-contract.ts';
import { agentSince, agentState, emptyHoldForm, enrollCommand, heldWhat, holdState, parseHoldForm, parseRevokeReason, sortAgents } from './trust-form.ts';

const agent = (over: Partial<AgentIdentityView> = {}): AgentIdentityView => ({
  id: 'agent-1', fingerprint: 'SHA256:abc', status: 'enrolled', requestedAt: '2025-01-02T03:04:05.000Z', requestedFrom: '10.0.0.7',
  enrolledAt: '2025-01-02T03:05:00.000Z', enrolledBy: 'ada', revokedAt: null, revokedBy: null, revokeReason: null, ...over,
});

describe('the agents as listed', () => {
  it('when some wait for approval, then they come first, the hub\'s order kept within each state', () => {
    const list = [agent({ id: 'e1' }), agent({ id: 'r1', status: 'revoked' }), agent({ id: 'p1', status: 'pending' }), agent({ id: 'e2' }), agent({ id: 'p2', status: 'pending' })];
    expect(sortAgents(list).map((a) => a.id)).toEqual(['p1', 'p2', 'e1', 'e2', 'r1']);
  });

  it('when an agent is in a state, then it reads as it, since when and by whom', () => {
    expect(agentState(agent())).toBe('Enrolled');
    expect(agentState(agent({ status: 'pending' }))).toBe('Waiting for approval');
    expect(agentSince(agent())).toEqual({ at: '2025-01-02T03:05:00.000Z', by: 'ada' });
    expect(agentSince(agent({ status: 'pending', enrolledAt: null, enrolledBy: null }))).toEqual({ at: '2025-01-02T03:04:05.000Z', by: 'asked from 10.0.0.7' });
    expect(agentSince(agent({ status: 'revoked', revokedAt: '2025-01-03T00:00:00.000Z', revokedBy: 'ada', revokeReason: 'host lost' }))).toEqual({ at: '2025-01-03T00:00:00.000Z', by: 'ada' });
  });

  it('when a token is made, then the command names this hub and the token', () => {
    expect(enrollCommand('https://hub.example', 'vgl-enroll-x')).toBe('vigil agent enroll --hub https://hub.example --token vgl-enroll-x');
  });

  it('when a revocation has no reason, then it is refused before asking the hub', () => {
    expect(parseRevokeReason('  ')).toMatchObject({ ok: false });
    expect(parseRevokeReason(' INC-3 ')).toEqual({ ok: true, value: 'INC-3' });
  });
});

describe('the hold form', () => {
  it('when a user, a target or a session is named with a reason, then the body names just that', () => {
    expect(parseHoldForm({ kind: 'user', value: ' bob ', reason: ' case 12 ' })).toEqual({ ok: true, value: { user: 'bob', reason: 'case 12' } });
    expect(parseHoldForm({ kind: 'target', value: 'pg', reason: 'r' })).toEqual({ ok: true, value: { target: 'pg', reason: 'r' } });
    expect(parseHoldForm({ kind: 'sessionId', value: 'c0ffee-1', reason: 'r' })).toEqual({ ok: true, value: { sessionId: 'c0ffee-1', reason: 'r' } });
  });

  it('when nothing is named, the session id is malformed, or no reason is given, then it is refused before asking the hub', () => {
    expect(parseHoldForm({ ...emptyHoldForm(), reason: 'r' })).toMatchObject({ ok: false, error: 'Name the user to hold.' });
    expect(parseHoldForm({ kind: 'sessionId', value: 'not a session', reason: 'r' })).toMatchObject({ ok: false, error: expect.stringContaining('not a session id') });
    expect(parseHoldForm({ kind: 'user', value: 'bob\u0007', reason: 'r' }).ok).toBe(false);
    expect(parseHoldForm({ kind: 'user', value: 'bob', reason: ' ' })).toMatchObject({ ok: false, error: expect.stringContaining('needs a reason') });
    expect(parseHoldForm({ kind: 'user', value: 'bob', reason: 'x'.repeat(501) }).ok).toBe(false);
  });

  it('when a hold is listed, then it reads as what it covers, in force or released', () => {
    expect(heldWhat({ sessionId: null, user: 'bob', target: null })).toBe('user bob');
    expect(heldWhat({ sessionId: 's1', user: null, target: 'pg' })).toBe('session s1, target pg');
    expect(holdState({ releasedAt: null })).toBe('in force');
    expect(holdState({ releasedAt: '2025-01-02T03:04:05.000Z' })).toBe('released');
  });
});
