import { describe, expect, it } from 'vitest';
import { defaultMasker, SAMPLE } from '../../masking/test-support.ts';
import { formDecode, formEncode } from './form-encoding.ts';
import { maskQuery, maskUrl } from './query.ts';

const masker = defaultMasker();

describe('maskQuery', () => {
  it('when a value is named by a column rule, then it is masked whole and the string still parses', () => {
    const r = maskQuery('user=bob&password=p%40ss+word&access_token=abc&apiKey=1', masker);
    expect(r.text).toBe('user=bob&password=[SECRET_COLUMN]&access_token=[SECRET_COLUMN]&apiKey=[SECRET_COLUMN]');
    expect(r.counts).toEqual({ SECRET_COLUMN: 3 });
    expect([...new URLSearchParams(r.text)]).toEqual([['user', 'bob'], ['password', '[SECRET_COLUMN]'], ['access_token', '[SECRET_COLUMN]'], ['apiKey', '[SECRET_COLUMN]']]);
  });

  it('when other values hold secrets, then the detectors mask their decoded form and the result re-encodes', () => {
    const r = maskQuery(`next=https%3A%2F%2Fx.example%2F%3Fmail%3Dalice.smith%40example.com&id_hint=${SAMPLE.jwt}&client_secret=Cs-9xKq2LmPz7RtW4vNb`, defaultMasker({ columns: [] }));
    expect(r.text).toBe('next=https://x.example/?mail%3D[EMAIL]&id_hint=[JWT]&client_secret=[SECRET]');
    expect(r.counts).toEqual({ EMAIL: 1, JWT: 1, SECRET: 1 });
    expect(new URLSearchParams(r.text).get('next')).toBe('https://x.example/?mail=[EMAIL]');
  });

  it('when pairs are harmless, then every byte stays, odd ones too', () => {
    for (const q of ['', 'a=1&b=two+words&c=%E2%9C%93', 'flag&&x=&y', 'bad=%zz%4', 'list[]=1&list[]=2', 'password=']) {
      expect(maskQuery(q, masker)).toEqual({ text: q, counts: null });
    }
  });
});

describe('maskUrl', () => {
  it('when a URL carries a password and a token, then both are masked and the rest stays', () => {
    const r = maskUrl('https://deploy:Sup3r-S3cret@git.example.com/repo?ref=main&private_token=glpat#frag', masker);
    expect(r.text).toBe('https://deploy:[CONN_PASSWORD]@git.example.com/repo?ref=main&private_token=[SECRET_COLUMN]#frag');
  });
});

describe('form encoding', () => {
  it('when a value is encoded and decoded, then it comes back, markers readable', () => {
    for (const v of ['[EMAIL] & [CARD]', 'a+b=c#d%e', 'naïve ✓ 😀', 'x/y?z:@[]', '\r\n\t']) {
      expect(formDecode(formEncode(v))).toBe(v);
      expect(new URLSearchParams(`k=${formEncode(v)}`).get('k')).toBe(v);
    }
    expect(formEncode('[SECRET_COLUMN]')).toBe('[SECRET_COLUMN]');
  });
});
