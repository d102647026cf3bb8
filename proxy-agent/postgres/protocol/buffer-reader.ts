// A cursor over one message. Parsers reuse a single reader per connection (reset per message) so
// the hot path allocates nothing but the values it returns. Every read is bounds-checked against
// `end`: a body that lies about its contents fails with a ProtocolError, never a RangeError or a
// read into the next message.
import { ProtocolError } from './errors.ts';

export class BufferReader {
  private buffer: Buffer;
  private offset: number;
  private end: number;

  constructor(buffer: Buffer = Buffer.alloc(0), offset = 0, end = buffer.length) {
    this.buffer = buffer;
    this.offset = offset;
    this.end = end;
  }

  /** Points the reader at buffer[offset, end). */
  reset(buffer: Buffer, offset = 0, end = buffer.length): this {
    this.buffer = buffer;
    this.offset = offset;
    this.end = end;
    return this;
  }

  remaining(): number {
    return this.end - this.offset;
  }

  /** Current position inside the buffer (for callers that slice the underlying bytes). */
  position(): number {
    return this.offset;
  }

  byte(): number {
    this.need(1);
    return this.buffer[this.offset++];
  }

  int16(): number {
    this.need(2);
    const value = this.buffer.readInt16BE(this.offset);
    this.offset += 2;
    return value;
  }

  /** Counts on the wire are Int16 in the docs but unsigned in the server (up to 65535 parameters). */
  uint16(): number {
    this.need(2);
    const value = this.buffer.readUInt16BE(this.offset);
    this.offset += 2;
    return value;
  }

  int32(): number {
    this.need(4);
    const value = this.buffer.readInt32BE(this.offset);
    this.offset += 4;
    return value;
  }

  uint32(): number {
    this.need(4);
    const value = this.buffer.readUInt32BE(this.offset);
    this.offset += 4;
    return value;
  }

  /** A NUL-terminated UTF-8 string; the terminator is consumed, not returned. */
  cstring(): string {
    const start = this.offset;
    const nul = this.buffer.indexOf(0, start);
    if (nul === -1 || nul >= this.end) {
      throw new ProtocolError(`unterminated string at offset ${start}`);
    }
    this.offset = nul + 1;
    return this.buffer.toString('utf8', start, nul);
  }

  string(length: number): string {
    this.need(length);
    const start = this.offset;
    this.offset += length;
    return this.buffer.toString('utf8', start, this.offset);
  }

  /** A view into the underlying buffer (no copy). */
  bytes(length: number): Buffer {
    this.need(length);
    const start = this.offset;
    this.offset += length;
    return this.buffer.subarray(start, this.offset);
  }

  private need(length: number): void {
    if (length < 0 || this.offset + length > this.end) {
      throw new ProtocolError(
        `read of ${length} bytes at offset ${this.offset} runs past the end of the message (${this.end - this.offset} left)`,
      );
    }
  }
}
