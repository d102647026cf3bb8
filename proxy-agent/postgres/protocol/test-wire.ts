// Builds wire bytes by hand for the unit tests, independently of BufferWriter, so that a bug in
// the writer cannot hide the same bug in a parser.
export { prng } from '../../../common/prng.ts';

export const i16 = (n: number): Buffer => {
  const b = Buffer.alloc(2);
  b.writeInt16BE(n);
  return b;
};

export const i32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
};

export const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};

export const cstr = (s: string): Buffer => Buffer.concat([Buffer.from(s, 'utf8'), Buffer.from([0])]);

export const byte = (c: string | number): Buffer => Buffer.from([typeof c === 'string' ? c.charCodeAt(0) : c]);

/** A coded message: [code][int32 length][body]. */
export function coded(code: string, ...body: Buffer[]): Buffer {
  const payload = Buffer.concat(body);
  return Buffer.concat([byte(code), i32(payload.length + 4), payload]);
}

/** A startup-style packet: [int32 length][body]. */
export function uncoded(...body: Buffer[]): Buffer {
  const payload = Buffer.concat(body);
  return Buffer.concat([i32(payload.length + 4), payload]);
}

/** A length-prefixed value as in Bind, FunctionCall and DataRow; null is -1. */
export const value = (v: Buffer | string | null): Buffer => {
  if (v === null) return i32(-1);
  const bytes = typeof v === 'string' ? Buffer.from(v, 'utf8') : v;
  return Buffer.concat([i32(bytes.length), bytes]);
};

