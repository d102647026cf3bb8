import { describe, expect, it } from 'vitest';
import type { ShareView } from '../../../../common/api-contract.ts';
import { emptyShareForm, parseShareForm, shareAudience, shareState } from './share-form.ts';

describe('the Share panel\'s form', () => {
  it('when people are named with commas and spaces, then each is named once', () => {
    const r = parseShareForm({ ...emptyShareForm(), users: ' erin, dave,,erin ,', note: '  review before Friday ' });
    expect(r).toEqual({ ok: true, share: { users: ['erin', 'dave'], expiresInHours: 72, note: 'review before Friday' } });
  });

  it('when only a group is named, then the share is for the group, for the hours given', () => {
    expect(parseShareForm({ users: '', group: ' oncall ', hours: '1.5', note: '' })).toEqual({ ok: true, share: { group: 'oncall', expiresInHours: 1.5 } });
  });

  it('when nobody is named, then it is refused before asking the hub', () => {
    expect(parseShareForm(emptyShareForm())).toMatchObject({ ok: false, error: expect.stringContaining('Name the people') });
  });

  it('when the hours are not a number, none, or past 90 days, then it is refused', () => {
    for (const hours of ['', 'soon', '0', '-3', '2161', Number.POSITIVE_INFINITY, null]) {
      expect(parseShareForm({ ...emptyShareForm(), users: 'erin', hours })).toMatchObject({ ok: false, error: expect.stringContaining('Expires in') });
    }
  });

  it('when the note is too long, then it is refused', () => {
    expect(parseShareForm({ ...emptyShareForm(), users: 'erin', note: 'x'.repeat(501) }).ok).toBe(false);
  });
});

describe('a share as listed', () => {
  const share: ShareView = {
    id: 1, sessionId: 's', createdBy: 'bob', users: ['erin', 'dave'], group: 'oncall', note: '', createdAt: '2025-01-01T00:00:00.000Z',
    expiresAt: '2025-01-04T00:00:00.000Z', revokedAt: null, revokedBy: null,
  };

  it('when it is read at a time, then it is in force until it expires, unless revoked', () => {
    expect(shareState(share, Date.parse('2025-01-02T00:00:00Z'))).toBe('in force');
    expect(shareState(share, Date.parse('2025-01-04T00:00:00Z'))).toBe('expired');
    expect(shareState({ ...share, revokedAt: '2025-01-02T00:00:00.000Z', revokedBy: 'bob' }, Date.parse('2025-01-02T01:00:00Z'))).toBe('revoked');
  });

  it('when it names people and a group, then both are said', () => {
    expect(shareAudience(share)).toBe('erin, dave · group oncall');
    expect(shareAudience({ ...share, group: null })).toBe('erin, dave');
  });
});
