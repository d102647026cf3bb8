// Binary COPY TO STDOUT data masked for the client as it streams: whatever CopyData boundaries it
// comes in, a value a detector finds something in becomes NULL, and the client gets one CopyData
// per tuple (the header with the first, the end marker alone), as PostgreSQL sends them.
import { describe, expect, it } from 'vitest';
import { defaultMasker } from '../../masking/test-support.ts';
import { i16, i32, prng } from '../protocol/test-wire.ts';
import { BinaryCopyOut } from './binary-copy-out.ts';

const masker = defaultMasker();
const EMAIL = 'grace.hopper@navy.example.com';
const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');
const HEADER = Buffer.concat([SIGNATURE, i32(0), i32(2), Buffer.from([7, 7])]);
const TRAILER = i16(-1);
const field = (bytes: Buffer | string | null) => (bytes === null ? i32(-1) : Buffer.concat([i32(Buffer.byteLength(bytes)), Buffer.from(bytes)]));
const tuple = (...fields: (Buffer | string | null)[]) => Buffer.concat([i16(fields.length), ...fields.map(field)]);

const TUPLES = [
  tuple(i32(1), 'plain note', null),
  tuple(i32(2), `mail ${EMAIL} now`, Buffer.from([0, 1, 2, 0xff])),
  tuple(),
  tuple(i32(4), '', 'x'.repeat(300)),
];
const DATA = Buffer.concat([HEADER, ...TUPLES, TRAILER]);
const MASKED = [TUPLES[0], tuple(i32(2), null, Buffer.from([0, 1, 2, 0xff])), TUPLES[2], TUPLES[3]];

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

function run(chunks: Buffer[], secretFields: boolean[] | null = [false, false, false]): Buffer[] {
  const copy = new BinaryCopyOut(secretFields, masker, false, 1024 * 1024);
  return bodies(Buffer.concat([...chunks.map((c) => copy.push(c)), copy.end()]));
}

describe('BinaryCopyOut', () => {
  it('when the data is cut into CopyData anywhere, then a value holding an address becomes NULL and each tuple goes out alone', () => {
    const expected = [Buffer.concat([HEADER, MASKED[0]]), ...MASKED.slice(1), TRAILER];
    const next = prng(3);
    for (let trial = 0; trial < 200; trial++) {
      const chunks: Buffer[] = [];
      for (let at = 0; at < DATA.length; ) {
        const size = trial === 0 ? DATA.length : next() < 0.4 ? 1 : Math.ceil(next() * 30);
        chunks.push(DATA.subarray(at, at + size));
        at += size;
      }
      expect(run(chunks)).toEqual(expected);
    }
  });

  it('when a field is a secret column\'s, or the columns are not known, then its values become NULL', () => {
    const out = run([DATA], [false, false, true]);
    expect(out[1]).toEqual(tuple(i32(2), null, null));
    const unknown = run([DATA], null);
    expect(unknown[0]).toEqual(Buffer.concat([HEADER, tuple(null, null, null)]));
  });

  it('when the data breaks the format, then it is refused rather than passed on', () => {
    const copy = new BinaryCopyOut([false], masker, false, 1024);
    expect(() => copy.push(Buffer.concat([HEADER, i16(1), i32(-5)]))).toThrow(/field length -5/);
  });

  it('when a tuple grows past the limit before it is whole, then it is refused rather than passed on', () => {
    const copy = new BinaryCopyOut([false], masker, false, 1024);
    expect(() => copy.push(Buffer.concat([HEADER, i16(1), i32(4096), Buffer.alloc(2048)]))).toThrow(/cannot be held/);
  });
});
