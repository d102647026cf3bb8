import { describe, expect, it } from 'vitest';
import { loginCookieName, presentedToken, withoutVigilCookies } from './client-token.ts';

describe('the token a client presents', () => {
  it('when it comes as a bearer token, a basic password or the login cookie, then it is read with how it came', () => {
    expect(presentedToken({ authorization: 'Bearer abc.def.ghi' }, 'vigil_api')).toEqual({ token: 'abc.def.ghi', via: 'bearer' });
    expect(presentedToken({ authorization: 'bearer  abc ' }, 'vigil_api')).toEqual({ token: 'abc', via: 'bearer' });
    const basic = `Basic ${Buffer.from('alice:tok:with:colons').toString('base64')}`;
    expect(presentedToken({ authorization: basic }, 'vigil_api')).toEqual({ token: 'tok:with:colons', via: 'basic', basicUser: 'alice' });
    expect(presentedToken({ cookie: 'theme=dark; vigil_api=abc%2Edef; x=1' }, 'vigil_api')).toEqual({ token: 'abc.def', via: 'cookie' });
    expect(presentedToken({ cookie: 'theme=dark' }, 'vigil_api')).toBeNull();
    expect(presentedToken({}, 'vigil_api')).toBeNull();
  });

  it('when cookies go upstream, then Vigil\'s own (the login cookie, the hub\'s dashboard login) are taken out and the rest kept in order', () => {
    expect(withoutVigilCookies('a=1; vigil_api=t; vigil.sid=s; vigil_other=u; b=2')).toBe('a=1; b=2');
    expect(withoutVigilCookies('vigil_api=t')).toBeNull();
  });

  it('when a target is named with dashes, then its cookie name is a valid cookie name of its own', () => {
    expect(loginCookieName('demo-api')).toBe('vigil_demo_api');
  });
});
