import { describe, expect, it } from 'vitest';
import { defaultMasker } from '../../masking/test-support.ts';
import { maskEncoded } from './encoded-values.ts';

const masker = defaultMasker();
const EMAIL = 'grace.hopper@navy.example.com';
const SSN = '123-45-6789';
const hex = (s: string) => Buffer.from(s).toString('hex');
const b64 = (s: string) => Buffer.from(s).toString('base64');
/** As PostgreSQL's encode(..., 'base64') writes it: a line break every 76 characters. */
const pgBase64 = (s: string) => b64(s).replace(/.{76}/g, '$&\n');

describe('maskEncoded', () => {
  it.each([
    ['bytea as text (email::bytea)', `\\x${hex(EMAIL)}`, '[EMAIL]'],
    ['hex (encode(..., \'hex\'))', hex(SSN), '[SSN]'],
    ['base64', b64(EMAIL), '[EMAIL]'],
    ['base64 over several lines', pgBase64(`${EMAIL} `.repeat(4)), '[EMAIL]'],
    ['base64 of hex', b64(hex(EMAIL)), '[EMAIL]'],
    ['bytea inside an array', `{"\\\\x${hex(EMAIL)}"}`, '[EMAIL]'],
    ['bytea inside JSON', JSON.stringify({ e: `\\x${hex(SSN)}`, n: 1 }), '[SSN]'],
  ])('when a computed value holds a detected value as %s, then the whole value is masked', (_, value, marker) => {
    expect(maskEncoded(masker, value)).toMatchObject({ text: marker });
  });

  it('when the value is a binary value\'s bytes, then the detectors read them as they are too', () => {
    const record = Buffer.concat([Buffer.from([0, 0, 0, 2, 0, 0, 0, 25, 0, 0, 0, EMAIL.length]), Buffer.from(EMAIL)]);
    expect(maskEncoded(masker, record.toString('utf8'), true)?.text).toBe('[EMAIL]');
    expect(maskEncoded(masker, record.toString('utf8'), false)).toBeNull();
  });

  it.each([
    ['a count', '42'],
    ['a timestamp', '2024-05-01 10:11:12.123+00'],
    ['words', 'the quick brown fox jumps over the lazy dog'],
    ['an md5', '9e107d9d372bb6826bd81d3542a419d6'],
    ['a sha-256 in hex', 'd7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592'],
    ['a uuid', '123e4567-e89b-12d3-a456-426614174000'],
    ['base64 of plain text', b64('nothing to see here, just words')],
  ])('when a computed value is %s, then it is left as it is', (_, value) => {
    expect(maskEncoded(masker, value)).toBeNull();
  });
});
