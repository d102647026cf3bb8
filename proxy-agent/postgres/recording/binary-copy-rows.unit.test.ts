import { describe, expect, it } from 'vitest';
import { BinaryCopyRows } from './binary-copy-rows.ts';
import { i16, i32 } from '../protocol/test-wire.ts';

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');
const field = (bytes: Buffer | null) => (bytes === null ? i32(-1) : Buffer.concat([i32(bytes.length), bytes]));

/** Four rows: two fields, a NULL among them, an empty value, a row without fields. */
const data = Buffer.concat([
  SIGNATURE, i32(0), i32(4), Buffer.from([1, 2, 3, 4]),
  i16(2), field(i32(42)), field(Buffer.from('forty-two')),
  i16(2), field(null), field(Buffer.from('x'.repeat(300))),
  i16(1), field(Buffer.alloc(0)),
  i16(0),
  i16(-1),
]);

function count(chunks: Buffer[]): BinaryCopyRows {
  const counter = new BinaryCopyRows();
  for (const chunk of chunks) counter.push(chunk);
  return counter;
}

describe('BinaryCopyRows', () => {
  it('when the data comes in one piece, then every row is counted once and the trailer is not a row', () => {
    expect(count([data])).toMatchObject({ rows: 4, invalid: false });
  });

  it('when the data is split at every offset, then the count is the same', () => {
    for (let k = 0; k <= data.length; k++) {
      expect(count([data.subarray(0, k), data.subarray(k)]).rows, `split at ${k}`).toBe(4);
    }
  });

  it('when the data is split into three pieces anywhere, then the count is the same', () => {
    for (let i = 0; i <= data.length; i += 3) {
      for (let j = i; j <= data.length; j += 5) {
        expect(count([data.subarray(0, i), data.subarray(i, j), data.subarray(j)]).rows).toBe(4);
      }
    }
  });

  it('when bytes come one at a time, then the count is the same', () => {
    const chunks: Buffer[] = [];
    for (let k = 0; k < data.length; k++) chunks.push(data.subarray(k, k + 1));
    expect(count(chunks).rows).toBe(4);
  });

  it('when the data stops half way, then the rows begun so far are counted', () => {
    const half = data.subarray(0, SIGNATURE.length + 12 + (2 + 8 + 13) + 2 + 3);
    expect(count([half]).rows).toBe(2);
  });

  it('when a length is impossible, then counting stops and the data is marked invalid', () => {
    const bad = Buffer.concat([SIGNATURE, i32(0), i32(0), i16(1), i32(-7), i16(1), field(i32(1))]);
    expect(count([bad])).toMatchObject({ rows: 1, invalid: true });
  });
});
