import { describe, expect, it } from 'vitest';
import { auditFilterProblem, auditHash, auditParams, emptyAuditFilter, matchesAudit, normalAction, parseAuditHash } from './audit-route.ts';
import { AUDIT_ACTION_PREFIXES, AUDIT_ACTIONS } from './audit-actions.ts';

const entry = (over: Partial<{ at: string; actor: string; action: string; target: string | null; sessionId: string | null }> = {}) => ({
  at: '2025-01-02T10:00:00.000Z', actor: 'Rita.Reviewer', action: 'session.killed', target: 'payments', sessionId: 's-1', ...over,
});

describe('the Audit page\'s route', () => {
  it('when a filter is turned into a hash and back, then it is the same filter, the action in lower case', () => {
    const filter = { ...emptyAuditFilter(), actor: 'rita & co', action: 'Session.', target: 'pay%', session: 's-1', range: 'custom' as const, from: '2025-01-02T09:00', to: '' };
    const hash = auditHash(filter);
    expect(hash).toBe('#/audit?actor=rita+%26+co&action=session.&target=pay%25&session=s-1&range=custom&from=2025-01-02T09%3A00');
    expect(parseAuditHash(hash)).toEqual({ ...filter, action: 'session.' });
    expect(auditHash(emptyAuditFilter())).toBe('#/audit');
  });

  it('when a hash carries malformed values, then they are left empty', () => {
    expect(parseAuditHash('#/audit?action=DROP TABLE&session=a b&range=someday&colour=blue')).toEqual(emptyAuditFilter());
    expect(parseAuditHash('#/audit?action=session..killed').action).toBe('');
    expect(parseAuditHash('#/sessions?actor=rita')).toEqual(emptyAuditFilter());
  });

  it('when the form holds an action or session the hub would refuse, then it says so before asking', () => {
    expect(auditFilterProblem({ ...emptyAuditFilter(), action: 'session killed' })).toContain('prefix');
    expect(auditFilterProblem({ ...emptyAuditFilter(), session: 'not a session' })).toContain('session id');
    expect(auditFilterProblem({ ...emptyAuditFilter(), action: ' Lock.Created ', session: '3f2a-1' })).toBeNull();
    expect(normalAction(' Lock.Created ')).toBe('lock.created');
  });

  it('when the hub is asked, then the filter, the range\'s instants and the oldest id shown go as its parameters', () => {
    const q = auditParams({ ...emptyAuditFilter(), actor: ' rita ', action: 'session.', session: 's-1' }, { from: '2025-01-02T00:00:00.000Z' }, 42);
    expect(Object.fromEntries(q)).toEqual({ limit: '100', actor: 'rita', action: 'session.', sessionId: 's-1', from: '2025-01-02T00:00:00.000Z', before: '42' });
  });

  it('when an entry is pushed live, then it is kept only if the hub would have listed it for this filter', () => {
    const f = emptyAuditFilter();
    expect(matchesAudit(entry(), f, {})).toBe(true);
    expect(matchesAudit(entry(), { ...f, actor: 'RITA' }, {})).toBe(true);
    expect(matchesAudit(entry(), { ...f, actor: 'ada' }, {})).toBe(false);
    expect(matchesAudit(entry(), { ...f, action: 'session.' }, {})).toBe(true);
    expect(matchesAudit(entry(), { ...f, action: 'session' }, {})).toBe(false);
    expect(matchesAudit(entry(), { ...f, action: 'session.killed' }, {})).toBe(true);
    expect(matchesAudit(entry({ action: 'session.killed_x' }), { ...f, action: 'session.killed' }, {})).toBe(false);
    expect(matchesAudit(entry(), { ...f, target: 'PAY' }, {})).toBe(true);
    expect(matchesAudit(entry({ target: null }), { ...f, target: 'pay' }, {})).toBe(false);
    expect(matchesAudit(entry(), { ...f, session: 's-2' }, {})).toBe(false);
    expect(matchesAudit(entry(), f, { from: '2025-01-02T10:00:00.000Z', to: '2025-01-02T10:00:00.001Z' })).toBe(true);
    expect(matchesAudit(entry(), f, { to: '2025-01-02T10:00:00.000Z' })).toBe(false);
  });

  it('when actions are suggested, then each is one the hub takes, and each group has its prefix', () => {
    for (const a of [...AUDIT_ACTIONS, ...AUDIT_ACTION_PREFIXES]) expect(normalAction(a), a).toBe(a);
    expect(AUDIT_ACTION_PREFIXES).toContain('session.');
    expect(AUDIT_ACTION_PREFIXES).toContain('recording_key.');
  });
});
