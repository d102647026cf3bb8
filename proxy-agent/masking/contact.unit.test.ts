import { describe, expect, it } from 'vitest';
import { defaultMasker } from './test-support.ts';

const masker = defaultMasker();
const mask = (text: string) => masker.maskText(text);

describe('EMAIL', () => {
  it('when emails appear in SQL strings, then each is masked and counted', () => {
    const r = mask("select * from users where email in ('alice@example.com', 'bob.smith+tag@mail.example.co.uk')");
    expect(r.text).toBe("select * from users where email in ('[EMAIL]', '[EMAIL]')");
    expect(r.counts).toEqual({ EMAIL: 2 });
  });

  it('when an email ends a sentence, then the final dot stays', () => {
    expect(mask('write to alice@example.com.').text).toBe('write to [EMAIL].');
  });

  it('when a mailto link holds an email, then the email is masked', () => {
    expect(mask('mailto:bob@example.org').text).toBe('mailto:[EMAIL]');
  });

  it('when an address sits in a URL path, then it is still masked', () => {
    expect(mask('https://example.com/contact/alice@example.com').text).toBe('https://example.com/contact/[EMAIL]');
  });

  it.each(['@alice', 'alice@', 'user@localhost', 'a@b.c', 'x@1.2', 'size 10 @ 3.50'])('when %j is not an address, then it is left alone', (text) => {
    expect(mask(text)).toEqual({ text, counts: null });
  });

  it('when a connection URI has user@host, then EMAIL leaves it to CONN_PASSWORD', () => {
    expect(mask('postgres://app:pw@db.example.com/app').text).toBe('postgres://app:[CONN_PASSWORD]@db.example.com/app');
    expect(mask('postgres://app@db.example.com/app').counts).toBeNull();
  });
});

describe('PHONE', () => {
  it.each(['(555) 123-4567', '555-123-4567', '555.123.4567', '+1 555 123 4567', '+1-555-123-4567', '+44 20 7946 0958', '+33 1 23 45 67 89', '+4915112345678', '1-555-123-4567'])(
    'when %s appears, then it is masked',
    (phone) => {
      expect(mask(`call ${phone} now`)).toEqual({ text: 'call [PHONE] now', counts: { PHONE: 1 } });
    },
  );

  it.each([
    '42', '12345', '2024-01-05', '2024-01-05 10:00:00+00', '2024-01-05T10:00:00+05:30', '1704448800000', '3.14159',
    '192.168.100.200', 'v1.2.3', '+12345678901234567890', '555-123-45678', '1+5551234567', 'order 5551234567',
  ])('when %j is not a phone number, then it is left alone', (text) => {
    expect(mask(text).counts?.PHONE).toBeUndefined();
  });
});
