import { describe, expect, it } from 'vitest';
import { Guardrail } from '../../common/guardrails.ts';
import { normalisedPath, RequestRules } from './request-rules.ts';

const rules = (...list: object[]) => new RequestRules(list.map((g) => Guardrail.parse(g)));

describe('request rules', () => {
  it('when a path is spelled with dot segments, repeated slashes or escapes, then it is read as the target reads it', () => {
    expect(normalisedPath('/admin/users/1')).toBe('/admin/users/1');
    expect(normalisedPath('/x/../admin/./users/1')).toBe('/admin/users/1');
    expect(normalisedPath('//admin///users/1')).toBe('/admin/users/1');
    expect(normalisedPath('/%61dmin/users')).toBe('/admin/users');
    expect(normalisedPath('/../../admin')).toBe('/admin');
    expect(normalisedPath('/admin/')).toBe('/admin/');
    expect(normalisedPath('/')).toBe('/');
  });

  it('when a path cannot be read one way only (encoded separators, NUL, bad escapes, no leading slash), then it is null', () => {
    for (const bad of ['/admin%2fusers', '/admin%5Cusers', '/a%00b', '/a\\b', '/%zz', 'admin', '*']) expect(normalisedPath(bad), bad).toBeNull();
  });

  it('when rules name methods and path patterns, then the first that matches decides, and others pass', () => {
    const r = rules(
      { name: 'read-admin', request: 'GET /admin/**', action: 'allow' },
      { name: 'no-admin', request: '* /admin/**', action: 'deny', message: 'no' },
      { name: 'payouts', request: 'POST,PUT /v1/payouts/*', action: 'approve' },
    );
    expect(r.decide('GET', '/admin/users')).toMatchObject({ action: 'allow', rule: 'read-admin' });
    expect(r.decide('DELETE', '/admin/users/1')).toMatchObject({ action: 'deny', rule: 'no-admin', request: 'DELETE /admin/users/1' });
    expect(r.decide('delete', '/x/../admin/users/1')).toMatchObject({ action: 'deny', request: 'delete /admin/users/1' });
    expect(r.decide('PUT', '/v1/payouts/9')).toMatchObject({ action: 'approve', rule: 'payouts' });
    expect(r.decide('PUT', '/v1/payouts/9/items')).toBeNull();
    expect(r.decide('GET', '/v1/payouts/9')).toBeNull();
    expect(r.decide('DELETE', '/admin%2fusers')).toMatchObject({ action: 'deny', rule: 'unreadable-path' });
  });

  it('when a target has no request rules, then nothing is decided (not even unreadable paths: the target judges those)', () => {
    expect(rules().decide('DELETE', '/admin%2f')).toBeNull();
  });

  it('when a rule\'s pattern is not METHODS /path, then the config says so', () => {
    expect(Guardrail.safeParse({ name: 'x', request: 'DELETE admin', action: 'deny' }).success).toBe(false);
    expect(Guardrail.safeParse({ name: 'x', request: 'delete /admin', action: 'deny' }).success).toBe(false);
  });
});
