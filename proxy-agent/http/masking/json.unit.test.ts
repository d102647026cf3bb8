import { describe, expect, it } from 'vitest';
import { defaultMasker, SAMPLE } from '../../masking/test-support.ts';
import { FieldMasker } from './field-masker.ts';
import { maskJson } from './json.ts';
import { maskJsonText } from './json-text.ts';

const masker = defaultMasker();
const strict = (text: string, m = masker) => {
  const f = new FieldMasker(m);
  return { text: maskJson(text, f), counts: f.take() };
};
const tolerant = (text: string, m = masker) => {
  const f = new FieldMasker(m);
  return { text: maskJsonText(text, f), counts: f.take() };
};

describe('maskJson', () => {
  it('when keys are named by column rules, then their whole values are masked at any depth, once each', () => {
    const body = JSON.stringify({
      user: { name: 'bob', password: 'hunter2', profile: { apiKey: 12345, private_key: { kty: 'RSA', d: 'abc' } } },
      secrets: ['a', { b: [1, 2] }],
      items: [{ card_number: 4111111111111111 }, { reset_token: 'x' }],
    });
    const r = strict(body);
    expect(JSON.parse(r.text!)).toEqual({
      user: { name: 'bob', password: '[SECRET_COLUMN]', profile: { apiKey: '[SECRET_COLUMN]', private_key: '[SECRET_COLUMN]' } },
      secrets: '[SECRET_COLUMN]',
      items: [{ card_number: '[SECRET_COLUMN]' }, { reset_token: '[SECRET_COLUMN]' }],
    });
    expect(r.counts).toEqual({ SECRET_COLUMN: 6 });
  });

  it('when a secret key holds nothing (null, a boolean, an empty string or container), then it stays', () => {
    const body = '{"password":null,"has_password":true,"token":"","secrets":[],"api_key":{}}';
    expect(strict(body)).toEqual({ text: body, counts: null });
  });

  it('when other values hold secrets, then the detectors mask them decoded and in their key context', () => {
    const body = JSON.stringify({
      note: `mail alice.smith@example.com, jwt ${SAMPLE.jwt}`,
      escaped: 'alice.smith\u0040example.com',
      card: 4111111111111111,
      list: [SAMPLE.awsKeyId],
      client_secret: 'Cs-9xKq2LmPz7RtW4vNb',
      Authorization: 'Basic dXNlcjpwYXNz',
      'bob@example.com': 1,
    }).replace('alice.smith@example.com"', 'alice.smith\\u0040example.com"');
    const r = strict(body, defaultMasker({ columns: [] }));
    expect(JSON.parse(r.text!)).toEqual({
      note: 'mail [EMAIL], jwt [JWT]',
      escaped: '[EMAIL]',
      card: '[CARD]',
      list: ['[AWS_ACCESS_KEY]'],
      client_secret: '[SECRET]',
      Authorization: 'Basic [BEARER]',
      '[EMAIL]': 1,
    });
    expect(r.counts).toEqual({ EMAIL: 3, JWT: 1, CARD: 1, AWS_ACCESS_KEY: 1, SECRET: 1, BEARER: 1 });
  });

  it('when nothing is masked, then the text is kept but compact: numbers, escapes, key order and duplicates as written', () => {
    const body = '{ "id": 12345678901234567890123, "2": 1, "1": 2.50e+3, "url": "https:\\/\\/x.example\\/a", "a": 1, "a": 2, "s": "caf\\u00e9" }\n';
    expect(strict(body)).toEqual({ text: '{"id":12345678901234567890123,"2":1,"1":2.50e+3,"url":"https:\\/\\/x.example\\/a","a":1,"a":2,"s":"caf\\u00e9"}', counts: null });
    expect(strict('\ufeff [ ] ').text).toBe('[]');
    expect(strict('"just a string"').text).toBe('"just a string"');
  });

  it.each(['', ' ', '{', '{"a":1', '{"a":1}}', '{"a" 1}', "{'a':1}", '{"a":1,}', '[1,]', '{"a":01}', '{"a":"\u0001"}', '{"a":"\\x"}', 'NaN', '{} {}', '{"a":tru}'])(
    'when the text is not one JSON value (%j), then null',
    (text) => expect(strict(text).text).toBeNull(),
  );

  it('when nesting is very deep, then it completes without overflowing the stack', () => {
    const depth = 200_000;
    const body = '['.repeat(depth) + '{"password":"x"}' + ']'.repeat(depth);
    const r = strict(body);
    expect(r.text).toBe('['.repeat(depth) + '{"password":"[SECRET_COLUMN]"}' + ']'.repeat(depth));
  });
});

describe('maskJsonText (cut or invalid JSON)', () => {
  const SECRET = 'Hunter2-Secret';
  const body = JSON.stringify({ user: 'bob', password: SECRET, profile: { api_key: [SECRET, { deep: SECRET }], pin_token: 987654 }, note: 'ok' }, null, 2);

  it('when the body is cut at any offset, then no part of a secret value shows and the text before stays', () => {
    for (let at = 0; at <= body.length; at++) {
      const out = tolerant(body.slice(0, at)).text;
      for (let n = 4; n <= SECRET.length; n++) expect(out, `cut at ${at}`).not.toContain(SECRET.slice(0, n));
      expect(out).not.toContain('987654');
    }
    expect(tolerant(body.slice(0, body.indexOf(SECRET) + 6)).text).toBe('{\n  "user": "bob",\n  "password": "[SECRET_COLUMN]');
  });

  it('when the text is not JSON, then secret keys are still masked and the detectors run', () => {
    const r = tolerant('{"a": 1, "password": "x", "token": 42, "secrets": {"a": ["}"]}, "b": "alice.smith@example.com",} trailing');
    expect(r.text).toBe('{"a": 1, "password": "[SECRET_COLUMN]", "token": "[SECRET_COLUMN]", "secrets": "[SECRET_COLUMN]", "b": "[EMAIL]",} trailing');
    expect(r.counts).toEqual({ SECRET_COLUMN: 3, EMAIL: 1 });
  });

  it('when the text is harmless, then it is the same', () => {
    const text = '{"a": [1, 2, {"b": null}], "api_key": null, "c": "text with \\"quotes\\"", "d": "open';
    expect(tolerant(text)).toEqual({ text, counts: null });
  });
});
