// A growable writer for one message at a time. The first 5 bytes are kept free for the header so
// flush() fills in [code][int32 length] without moving the body; startup-style packets (no code
// byte) start one byte later.

const HEADER = 5;

export class BufferWriter {
  private buffer: Buffer;
  private offset = HEADER;

  constructor(private readonly initialSize = 256) {
    this.buffer = Buffer.allocUnsafe(initialSize);
  }

  int8(value: number): this {
    this.ensure(1);
    this.buffer.writeUInt8(value & 0xff, this.offset);
    this.offset += 1;
    return this;
  }

  int16(value: number): this {
    this.ensure(2);
    this.buffer.writeUInt16BE(value & 0xffff, this.offset);
    this.offset += 2;
    return this;
  }

  int32(value: number): this {
    this.ensure(4);
    this.buffer.writeUInt32BE(value >>> 0, this.offset);
    this.offset += 4;
    return this;
  }

  /** UTF-8 bytes followed by a NUL. */
  cstring(value: string): this {
    const length = Buffer.byteLength(value);
    this.ensure(length + 1);
    this.buffer.write(value, this.offset, 'utf8');
    this.offset += length;
    this.buffer[this.offset++] = 0;
    return this;
  }

  /** UTF-8 bytes, no terminator. */
  string(value: string): this {
    const length = Buffer.byteLength(value);
    this.ensure(length);
    this.buffer.write(value, this.offset, 'utf8');
    this.offset += length;
    return this;
  }

  bytes(value: Uint8Array): this {
    this.ensure(value.length);
    this.buffer.set(value, this.offset);
    this.offset += value.length;
    return this;
  }

  /**
   * Returns the finished message: [code][int32 length incl. itself][body], or [int32 length][body]
   * when code is undefined. The writer starts over on a fresh buffer, so the result stays valid.
   */
  flush(code?: number): Buffer {
    const start = code === undefined ? 1 : 0;
    if (code !== undefined) this.buffer[0] = code;
    this.buffer.writeUInt32BE(this.offset - 1, 1);
    const result = this.buffer.subarray(start, this.offset);
    this.buffer = Buffer.allocUnsafe(this.initialSize);
    this.offset = HEADER;
    return result;
  }

  private ensure(extra: number): void {
    const needed = this.offset + extra;
    if (needed <= this.buffer.length) return;
    let size = this.buffer.length * 2;
    while (size < needed) size *= 2;
    const grown = Buffer.allocUnsafe(size);
    this.buffer.copy(grown, 0, 0, this.offset);
    this.buffer = grown;
  }
}
