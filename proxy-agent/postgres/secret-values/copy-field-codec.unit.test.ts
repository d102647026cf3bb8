import { describe, expect, it } from 'vitest';
import { prng } from '../protocol/test-wire.ts';
import { decodeField, encodeField } from './copy-field-codec.ts';
import { copyRows } from './copy-fields.ts';
import type { CopySpec } from './secret-values.ts';

const TEXT: CopySpec = { direction: 'out', format: 'text', delimiter: '\t', quote: '"', escape: '"', header: false, secretFields: [] };
const CSV: CopySpec = { ...TEXT, format: 'csv', delimiter: ',' };
const CSV_ESCAPE: CopySpec = { ...CSV, delimiter: ';', quote: "'", escape: '\\', nullString: 'NULL' };

const PIECES = ['a', 'Zoë', '\t', '\n', '\r', '"', "'", '\\', ',', ';', ' ', '\\.', 'NULL', '\\N', '\b', '\v', '\f', '', '漢'];

function randomValue(next: () => number): string {
  let v = '';
  for (let n = Math.floor(next() * 6); n > 0; n--) v += PIECES[Math.floor(next() * PIECES.length)];
  return v;
}

describe('COPY field codec', () => {
  it.each([
    ['text', TEXT],
    ['CSV', CSV],
    ['CSV with its own quote, escape and NULL', CSV_ESCAPE],
  ])('when any value is written in %s, then the row reader sees one field and it decodes to the value', (_, spec) => {
    const next = prng(7);
    for (let i = 0; i < 2000; i++) {
      const value = randomValue(next);
      const raw = encodeField(value, spec);
      const line = `x${spec.delimiter}${raw}${spec.delimiter}y\n`;
      const rows = copyRows(line, spec);
      expect(rows, JSON.stringify(value)).toHaveLength(1);
      const [, field] = rows[0].fields;
      expect(field.isNull).toBe(false);
      expect(decodeField(line.slice(field.start, field.end), spec)).toBe(value);
    }
  });

  it('when text-format data holds PostgreSQL escapes, then they are read as PostgreSQL reads them', () => {
    expect(decodeField('a\\tb\\\\c\\nd\\101\\x41\\q', TEXT)).toBe('a\tb\\c\nd' + 'AAq');
  });

  it('when a CSV field is quoted in part, then the quotes are not part of the value', () => {
    expect(decodeField('ab"c,""d"e', CSV)).toBe('abc,"de');
    expect(decodeField("'it\\'s'", CSV_ESCAPE)).toBe("it's");
  });
});
