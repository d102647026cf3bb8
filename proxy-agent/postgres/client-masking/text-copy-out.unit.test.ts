// COPY TO STDOUT data (text and CSV) masked for the client as it streams: whatever CopyData
// boundaries the server's data comes in, the client gets the same masked rows, one CopyData each,
// that it still parses into the same rows and fields.
import { describe, expect, it } from 'vitest';
import { defaultMasker } from '../../masking/test-support.ts';
import { prng } from '../protocol/test-wire.ts';
import { maskCopyContent } from '../recording/copy-content.ts';
import { decodeField, encodeField } from '../secret-values/copy-field-codec.ts';
import { copyRows } from '../secret-values/copy-fields.ts';
import type { CopySpec } from '../secret-values/secret-values.ts';
import { TextCopyOut } from './text-copy-out.ts';

const masker = defaultMasker({ columns: ['ssn', 'password'] });
const EMAIL = 'grace.hopper@navy.example.com';
const CARD = '4111 1111 1111 1111';
const SSN = '123-45-6789';

/** Columns: id, name, note (free text that may hold an address or a card), ssn (secret). */
const SECRET = [false, false, false, true];
const TEXT: CopySpec = { direction: 'out', format: 'text', delimiter: '\t', quote: '"', escape: '"', header: false, secretFields: SECRET };
const CSV: CopySpec = { ...TEXT, format: 'csv', delimiter: ',', header: true };
const CSV_BACKSLASH: CopySpec = { ...CSV, quote: "'", escape: '\\', delimiter: '|', header: false };

const NOTE_PIECES = ['plain', ' ', '\t', '\n', '\r\n', '"', "'", '\\', ',', '|', 'Zoë 漢', `mail ${EMAIL} `, `card ${CARD} `, '\\.', ''];

interface Row {
  id: string;
  name: string;
  note: string | null;
  ssn: string;
}

function randomRows(seed: number, count: number): Row[] {
  const next = prng(seed);
  return Array.from({ length: count }, (_, i) => {
    let note = '';
    for (let n = Math.floor(next() * 5); n > 0; n--) note += NOTE_PIECES[Math.floor(next() * NOTE_PIECES.length)];
    return { id: String(i + 1), name: `name "${i}"\t,\\x`, note: next() < 0.1 ? null : note, ssn: SSN };
  });
}

/** The data as PostgreSQL writes it. */
function copyText(rows: Row[], spec: CopySpec): string {
  const nul = spec.format === 'csv' ? (spec.nullString ?? '') : '\\N';
  const field = (v: string | null) => (v === null ? nul : encodeField(v, spec));
  const header = spec.header ? ['id', 'name', 'note', 'ssn'].join(spec.delimiter) + '\n' : '';
  return header + rows.map((r) => [r.id, r.name, r.note, r.ssn].map(field).join(spec.delimiter) + '\n').join('');
}

function chunked(data: Buffer, next: () => number): Buffer[] {
  const chunks: Buffer[] = [];
  for (let at = 0; at < data.length; ) {
    const size = next() < 0.3 ? 1 : Math.ceil(next() * 40);
    chunks.push(data.subarray(at, at + size));
    at += size;
  }
  return chunks;
}

/** The CopyData messages' bodies, each checked for its framing. */
function bodies(stream: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < stream.length; ) {
    expect(stream[at]).toBe(0x64);
    const length = stream.readUInt32BE(at + 1);
    out.push(stream.subarray(at + 5, at + 1 + length));
    at += 1 + length;
  }
  return out;
}

function run(spec: CopySpec, chunks: Buffer[]): Buffer {
  const copy = new TextCopyOut(spec, masker, false, 1024 * 1024);
  return Buffer.concat([...chunks.map((c) => copy.push(c)), copy.end()]);
}

describe('TextCopyOut', () => {
  it.each([
    ['text', TEXT],
    ['CSV with a header', CSV],
    ['CSV with its own quote, escape and delimiter', CSV_BACKSLASH],
  ])('when %s data is cut into CopyData anywhere, then the client gets the same masked rows, one per CopyData, that parse as the originals', (_, spec) => {
    const rows = randomRows(11, 60);
    const data = Buffer.from(copyText(rows, spec));
    const expected = Buffer.from(maskCopyContent(data.toString(), spec, masker, false).text);
    const next = prng(5);
    for (let trial = 0; trial < 40; trial++) {
      const out = run(spec, trial === 0 ? [data] : chunked(data, next));
      const messages = bodies(out);
      expect(Buffer.concat(messages).equals(expected)).toBe(true);
      expect(messages).toHaveLength(rows.length + (spec.header ? 1 : 0));
    }
    const text = expected.toString();
    for (const raw of [EMAIL, CARD, SSN]) expect(text).not.toContain(raw);
    // The client parses what it gets: the same rows, the fields that are not masked intact.
    const parsed = copyRows(text, spec).slice(spec.header ? 1 : 0);
    expect(parsed).toHaveLength(rows.length);
    parsed.forEach((row, i) => {
      const values = row.fields.map((f) => (f.isNull ? null : decodeField(text.slice(f.start, f.end), spec)));
      expect(values[0]).toBe(rows[i].id);
      expect(values[1]).toBe(rows[i].name);
      expect(values[3]).toBe('[SECRET_COLUMN]');
      const note = rows[i].note;
      expect(values[2]).toBe(note === null ? null : note.replaceAll(EMAIL, '[EMAIL]').replaceAll(CARD, '[CARD]'));
    });
  });

  it('when several rows come in one CopyData, then each goes out as a CopyData of its own', () => {
    const out = run(TEXT, [Buffer.from(`1\ta\tb\t${SSN}\n2\tc\td\t${SSN}\n`)]);
    expect(bodies(out).map(String)).toEqual(['1\ta\tb\t[SECRET_COLUMN]\n', '2\tc\td\t[SECRET_COLUMN]\n']);
  });

  it('when a row has nothing to mask, then it goes out as the exact bytes it came as, in any client encoding', () => {
    const spec = { ...TEXT, secretFields: [false, false] };
    const latin1 = Buffer.from('1\tM\xfcller\n', 'latin1');
    expect(bodies(run(spec, [latin1]))[0].equals(latin1)).toBe(true);
    const masked = bodies(run(spec, [Buffer.from(`2\tM\xfcller ${EMAIL}\n`, 'latin1')]))[0];
    expect(masked.equals(Buffer.from('2\tM\xfcller [EMAIL]\n', 'latin1'))).toBe(true);
  });

  it('when a row grows past the limit before its end comes, then it is refused, never passed on', () => {
    const copy = new TextCopyOut(TEXT, masker, false, 1024);
    expect(() => copy.push(Buffer.alloc(2048, 'a'))).toThrow(/cannot be held/);
  });

  it('when the data of a query holds an address in base64, then the field is masked whole', () => {
    const spec = { ...TEXT, secretFields: [false, false], fromQuery: true };
    const copy = new TextCopyOut(spec, masker, true, 1024);
    const out = copy.push(Buffer.from(`1\t${Buffer.from(EMAIL).toString('base64')}\n`));
    expect(bodies(out).map(String)).toEqual(['1\t[EMAIL]\n']);
  });
});
