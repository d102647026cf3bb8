import { describe, expect, it } from 'vitest';
import { defaultMasker, join, SAMPLE } from '../../masking/test-support.ts';
import { type Header, maskHeaders } from './headers.ts';

const masker = defaultMasker();
const mask = (headers: Header[], extra: string[] = []) => maskHeaders(headers, { masker, extra });

describe('maskHeaders', () => {
  it('when credential headers come, then their values are masked whole and a known scheme is kept', () => {
    const r = mask([
      ['Authorization', `Bearer ${SAMPLE.github}`],
      ['proxy-authorization', 'Basic dXNlcjpwYXNz'],
      ['X-Api-Key', 'plain'],
      ['X-AUTH-TOKEN', '42'],
      ['Authorization', 'opaque-token-without-scheme'],
      ['Authorization', 'sk_live_abc def'],
    ]);
    expect(r.headers).toEqual([
      ['Authorization', 'Bearer [CREDENTIAL]'],
      ['proxy-authorization', 'Basic [CREDENTIAL]'],
      ['X-Api-Key', '[CREDENTIAL]'],
      ['X-AUTH-TOKEN', '[CREDENTIAL]'],
      ['Authorization', '[CREDENTIAL]'],
      ['Authorization', '[CREDENTIAL]'],
    ]);
    expect(r.counts).toEqual({ CREDENTIAL: 6 });
  });

  it('when cookies come, then names and attributes stay and every value is masked', () => {
    const r = mask([
      ['Cookie', 'sid=abc123; theme=dark;  lang="en"'],
      ['Set-Cookie', 'sid=xyz789; Path=/; Expires=Wed, 21 Oct 2015 07:28:00 GMT; HttpOnly; Secure'],
      ['Set-Cookie', 'old=; Max-Age=0'],
      ['set-cookie', 'a=1; Path=/, b=2; Domain=example.com'],
    ]);
    expect(r.headers).toEqual([
      ['Cookie', 'sid=[CREDENTIAL]; theme=[CREDENTIAL];  lang=[CREDENTIAL]'],
      ['Set-Cookie', 'sid=[CREDENTIAL]; Path=/; Expires=Wed, 21 Oct 2015 07:28:00 GMT; HttpOnly; Secure'],
      ['Set-Cookie', 'old=; Max-Age=0'],
      ['set-cookie', 'a=[CREDENTIAL]; Path=/, b=[CREDENTIAL]; Domain=example.com'],
    ]);
    expect(r.counts).toEqual({ CREDENTIAL: 6 });
  });

  it('when a header is named by a column rule or listed in extra, then it is masked whole', () => {
    const r = mask(
      [
        ['X-Amz-Security-Token', 'FwoGZXIvYXdzE'],
        ['X-Goog-Api-Key', 'abc'],
        ['X-Csrf-Token', 'x'],
        ['X-Session', 'opaque'],
        ['X-Client-Password', 'pw'],
      ],
      ['x-session'],
    );
    expect(r.headers.map(([, v]) => v)).toEqual(['[SECRET_COLUMN]', '[SECRET_COLUMN]', '[SECRET_COLUMN]', '[CREDENTIAL]', '[SECRET_COLUMN]']);
    expect(r.counts).toEqual({ SECRET_COLUMN: 4, CREDENTIAL: 1 });
  });

  it('when another header holds a secret, then the detectors mask it', () => {
    const r = mask([['X-Debug-Jwt', SAMPLE.jwt], ['X-Forwarded-User', 'alice.smith@example.com'], ['X-Key-Id', SAMPLE.awsKeyId]]);
    expect(r.headers).toEqual([['X-Debug-Jwt', '[JWT]'], ['X-Forwarded-User', '[EMAIL]'], ['X-Key-Id', '[AWS_ACCESS_KEY]']]);
    expect(r.counts).toEqual({ JWT: 1, EMAIL: 1, AWS_ACCESS_KEY: 1 });
  });

  it('when a header holds a URL, then its query and fragment are masked as a query', () => {
    const r = mask([
      ['Location', 'https://app.example/cb#access_token=abc.def&state=xyz'],
      ['Referer', 'https://app.example/reset?token=r3set&step=2'],
      [':path', '/api?email=alice.smith%40example.com'],
    ]);
    expect(r.headers.map(([, v]) => v)).toEqual([
      'https://app.example/cb#access_token=[SECRET_COLUMN]&state=xyz',
      'https://app.example/reset?token=[SECRET_COLUMN]&step=2',
      '/api?email=[EMAIL]',
    ]);
    expect(r.counts).toEqual({ SECRET_COLUMN: 2, EMAIL: 1 });
  });

  it('when headers are harmless, then they pass unchanged, in order, with null counts', () => {
    const headers: Header[] = [
      ['Host', 'api.example.com'], ['Accept', 'application/json, text/plain;q=0.9'], ['User-Agent', 'curl/8.5.0'],
      ['Content-Type', 'application/json; charset=utf-8'], ['Content-Length', '42'], ['Date', 'Wed, 21 Oct 2015 07:28:00 GMT'],
      ['Location', '/next?page=2&sort=name'], ['Authorization', ''], ['Cookie', ' '], ['Accept', 'text/html'],
    ];
    expect(mask(headers)).toEqual({ headers, counts: null });
  });

  it('when the configuration has no column rules, then only credentials and detectors mask', () => {
    const r = maskHeaders([['X-Amz-Security-Token', 'plain'], ['X-Api-Key', 'k'], ['X-Note', join('token ', SAMPLE.jwt)]], { masker: defaultMasker({ columns: [] }), extra: [] });
    expect(r.headers.map(([, v]) => v)).toEqual(['plain', '[CREDENTIAL]', 'token [JWT]']);
  });
});
