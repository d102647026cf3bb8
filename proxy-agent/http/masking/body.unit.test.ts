import { describe, expect, it } from 'vitest';
import { defaultMasker, SAMPLE } from '../../masking/test-support.ts';
import { maskBody } from './body.ts';

const masker = defaultMasker();
const mask = (type: string | undefined, body: string | Buffer, complete = true) => maskBody(type, typeof body === 'string' ? Buffer.from(body) : body, { masker, complete });

describe('maskBody', () => {
  const json = '{\n  "user": "bob",\n  "password": "hunter2",\n  "mail": "alice.smith@example.com"\n}';

  it.each(['application/json', 'application/json; charset=utf-8', 'application/vnd.api+json', 'application/problem+json', 'application/x-amz-json-1.1', undefined])(
    'when a complete JSON body comes as %s, then it is masked field by field and compact',
    (type) => {
      expect(mask(type, json)).toEqual({ text: '{"user":"bob","password":"[SECRET_COLUMN]","mail":"[EMAIL]"}', counts: { SECRET_COLUMN: 1, EMAIL: 1 } });
    },
  );

  it('when a JSON body is cut or does not parse, then it keeps its text with secret keys and detectors masked', () => {
    expect(mask('application/json', json.slice(0, json.indexOf('hunter2') + 3), false)).toEqual({ text: '{\n  "user": "bob",\n  "password": "[SECRET_COLUMN]', counts: { SECRET_COLUMN: 1 } });
    expect(mask('application/json', "{'password': 'x', \"token\": \"y\"} alice.smith@example.com")).toEqual({
      text: "{'password': '[CONN_PASSWORD]', \"token\": \"[SECRET_COLUMN]\"} [EMAIL]",
      counts: { SECRET_COLUMN: 1, CONN_PASSWORD: 1, EMAIL: 1 },
    });
  });

  it('when a form body comes, then it is masked like a query', () => {
    expect(mask('application/x-www-form-urlencoded', 'user=bob&password=p%40ss&mail=alice.smith%40example.com')).toEqual({
      text: 'user=bob&password=[SECRET_COLUMN]&mail=[EMAIL]',
      counts: { SECRET_COLUMN: 1, EMAIL: 1 },
    });
  });

  it.each([
    ['text/plain', `token ${SAMPLE.jwt}`, 'token [JWT]'],
    ['text/html; charset=UTF-8', '<p>alice.smith@example.com</p>', '<p>[EMAIL]</p>'],
    ['application/soap+xml', `<k>${SAMPLE.awsKeyId}</k><m>alice.smith@example.com</m>`, '<k>[AWS_ACCESS_KEY]</k><m>[EMAIL]</m>'],
    ['application/x-yaml', 'db:\n  password: s3cret-pw\n', 'db:\n  password: [CONN_PASSWORD]\n'],
    ['application/javascript', `const key = "${SAMPLE.stripe}";`, 'const key = "[STRIPE_KEY]";'],
    [undefined, 'plain text, alice.smith@example.com', 'plain text, [EMAIL]'],
  ])('when a text body comes as %s, then the detectors mask it', (type, body, text) => {
    const r = mask(type, body);
    expect(r.text).toBe(text);
  });

  it.each([
    ['image/png', Buffer.from('\x89PNG\r\n', 'latin1')],
    ['application/octet-stream', Buffer.from('alice.smith@example.com')],
    ['application/zip', Buffer.from('PK\x03\x04', 'latin1')],
    ['application/x-protobuf', Buffer.from([0x0a, 0x03, 0x61, 0x62, 0x63])],
    ['application/grpc', Buffer.from([0, 0, 0, 0, 1])],
    ['text/plain', Buffer.from([0x61, 0xff, 0x62])],
    ['application/json', Buffer.from([0x7b, 0xc3, 0x28, 0x7d])],
    [undefined, Buffer.from([0x00, 0x01, 0x02, 0x03])],
    [undefined, Buffer.from([0xff, 0xd8, 0xff, 0xe0])],
    ['text/plain; charset=x-unknown', Buffer.from('hello')],
  ])('when a body is binary (%s), then there is no text', (type, body) => {
    expect(mask(type, body)).toEqual({ binary: true, counts: null });
  });

  it('when a cut body ends inside a UTF-8 character, then it is text without that character', () => {
    const body = Buffer.from('naïve alice.smith@example.com ✓');
    expect(mask('text/plain', body.subarray(0, body.length - 1), false)).toEqual({ text: 'naïve [EMAIL] ', counts: { EMAIL: 1 } });
    expect(mask('text/plain', body.subarray(0, body.length - 1), true)).toEqual({ binary: true, counts: null });
  });

  it('when the type names a charset, then the body is read in it', () => {
    expect(mask('text/plain; charset=iso-8859-1', Buffer.from('caf\xe9 alice.smith@example.com', 'latin1')).text).toBe('café [EMAIL]');
  });

  it('when an event stream or ndjson body is kept whole, then it is masked line by line', () => {
    expect(mask('text/event-stream', 'event: a\ndata: {"token":"x","n":1}\n\n').text).toBe('event: a\ndata: {"token":"[SECRET_COLUMN]","n":1}\n\n');
    expect(mask('application/x-ndjson', '{"password":"x"}\n{"mail":"alice.smith@example.com"}')).toEqual({
      text: '{"password":"[SECRET_COLUMN]"}\n{"mail":"[EMAIL]"}',
      counts: { SECRET_COLUMN: 1, EMAIL: 1 },
    });
  });

  it('when a body is empty or harmless, then it is the same text with null counts', () => {
    expect(mask('text/plain', '')).toEqual({ text: '', counts: null });
    expect(mask('application/json', '{"a":1,"b":[true,null,"x"]}')).toEqual({ text: '{"a":1,"b":[true,null,"x"]}', counts: null });
    expect(mask(undefined, 'ok\n')).toEqual({ text: 'ok\n', counts: null });
  });
});
