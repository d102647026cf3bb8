// Reads a message too large to hold whole as its bytes go by, and builds a bounded stand-in of it:
// the same message with every long value (a Bind parameter, a DataRow cell, a query's text) cut to
// its first bytes, and for each value cut its real size and SHA-256. The stand-in keeps the real
// layout (lengths and counts match what it holds), so the ordinary parsers read it; what was cut
// is listed by value position (MessageCut.values).
//
// A layout is the message body as a list of fields. Values are numbered in the order they occur:
// every CString, Value, each value of a Values list and Rest count; fixed fields do not.
import crypto from 'node:crypto';
import { BufferWriter } from './buffer-writer.ts';
import { ProtocolError, describeCode } from './errors.ts';

export const enum Field {
  Byte,
  Int16,
  Int32,
  /** int16 count, then that many int16 (format codes). */
  Int16List,
  /** int16 count, then that many int32 (parameter type OIDs). */
  Int32List,
  /** int16 count, then that many [int32 length][bytes] (-1: NULL). */
  Values,
  /** One [int32 length][bytes] (-1: NULL). */
  Value,
  CString,
  /** [type byte][CString] pairs up to a zero byte (ErrorResponse, NoticeResponse). */
  Fields,
  /** Everything up to the end of the message. */
  Rest,
}

export interface ValueCut {
  /** The value's real size in bytes. */
  size: number;
  /** Hex SHA-256 of the whole value as it crossed the wire. */
  sha256: string;
}

export interface MessageCut {
  /** The real message's size, code byte included. */
  size: number;
  /** By value position: the values the stand-in holds only the start of. */
  values: (ValueCut | undefined)[];
}

/** The cut of the messages a streamed CopyData is handed on as, one per piece of its body. */
export const PIECE: MessageCut = Object.freeze({ size: 0, values: [] });

export interface CutterLimits {
  /** Bytes kept of each value. */
  keep: number;
  /** Bytes kept of all values together, so a stand-in stays small whatever the value count. */
  budget: number;
}

type Request = { kind: 'int'; size: 1 | 2 | 4 } | { kind: 'bulk'; max: number } | { kind: 'cstring' };
type Walker = Generator<Request, void, number | Buffer>;

const BYTE: Request = { kind: 'int', size: 1 };
const INT16: Request = { kind: 'int', size: 2 };
const INT32: Request = { kind: 'int', size: 4 };
const CSTRING: Request = { kind: 'cstring' };

export class MessageCutter {
  private readonly out = new BufferWriter(1024);
  private readonly values: (ValueCut | undefined)[] = [];
  private readonly walker: Walker;
  private request: Request | null;
  /** Body bytes not yet written. */
  private remaining: number;
  private kept = 0;
  private ordinal = 0;
  private readonly int = Buffer.alloc(4);
  private intFilled = 0;

  constructor(
    private readonly code: number,
    private readonly size: number,
    private readonly layout: readonly Field[],
    private readonly limits: CutterLimits,
  ) {
    this.remaining = size - 5;
    this.walker = this.walk();
    this.request = this.resume(undefined);
  }

  /** The next body bytes (the 5 header bytes excluded), in order. */
  write(bytes: Buffer): void {
    let at = 0;
    while (at < bytes.length) {
      const request = this.request;
      if (request === null) throw this.error(`${this.remaining} unexpected bytes at the end`);
      let taken: number;
      if (request.kind === 'int') {
        taken = Math.min(request.size - this.intFilled, bytes.length - at);
        bytes.copy(this.int, this.intFilled, at, at + taken);
        this.intFilled += taken;
        this.remaining -= taken;
        at += taken;
        if (this.intFilled < request.size) continue;
        this.intFilled = 0;
        const n = request.size === 1 ? this.int[0] : request.size === 2 ? this.int.readInt16BE(0) : this.int.readInt32BE(0);
        this.request = this.resume(n);
        continue;
      }
      let end: number;
      if (request.kind === 'bulk') end = at + Math.min(request.max, bytes.length - at);
      else {
        const nul = bytes.indexOf(0, at);
        end = nul === -1 ? bytes.length : nul + 1;
      }
      taken = end - at;
      this.remaining -= taken;
      const piece = bytes.subarray(at, end);
      at = end;
      this.request = this.resume(piece);
    }
  }

  /** Once every byte is written: the stand-in and what was cut. */
  finish(): { message: Buffer; cut: MessageCut } {
    if (this.request !== null || this.remaining !== 0) throw this.error('the message ends inside its fields');
    return { message: this.out.flush(this.code), cut: { size: this.size, values: this.values } };
  }

  private resume(input: number | Buffer | undefined): Request | null {
    const next = this.walker.next(input as number | Buffer);
    return next.done ? null : next.value;
  }

  private error(what: string): ProtocolError {
    return new ProtocolError(`invalid ${describeCode(this.code)} message: ${what}`);
  }

  private room(): number {
    return Math.max(0, Math.min(this.limits.keep, this.limits.budget - this.kept));
  }

  private *walk(): Walker {
    const out = this.out;
    for (const field of this.layout) {
      switch (field) {
        case Field.Byte:
          out.int8((yield BYTE) as number);
          break;
        case Field.Int16:
          out.int16((yield INT16) as number);
          break;
        case Field.Int32:
          out.int32((yield INT32) as number);
          break;
        case Field.Int16List:
        case Field.Int32List: {
          const count = ((yield INT16) as number) & 0xffff;
          out.int16(count);
          for (let i = 0; i < count; i++) {
            if (field === Field.Int16List) out.int16((yield INT16) as number);
            else out.int32((yield INT32) as number);
          }
          break;
        }
        case Field.Values: {
          const count = ((yield INT16) as number) & 0xffff;
          out.int16(count);
          for (let i = 0; i < count; i++) yield* this.value();
          break;
        }
        case Field.Value:
          yield* this.value();
          break;
        case Field.CString:
          yield* this.cstring();
          break;
        case Field.Fields:
          for (;;) {
            const type = (yield BYTE) as number;
            out.int8(type);
            if (type === 0) break;
            yield* this.cstring();
          }
          break;
        case Field.Rest:
          yield* this.bytes(this.remaining, false);
          break;
      }
    }
  }

  private *value(): Walker {
    const length = (yield INT32) as number;
    if (length === -1) {
      this.out.int32(-1);
      this.ordinal++;
      return;
    }
    if (length < 0 || length > this.remaining) throw this.error(`a value of ${length} bytes does not fit`);
    this.out.int32(Math.min(length, this.room()));
    yield* this.bytes(length, false);
  }

  private *cstring(): Walker {
    yield* this.bytes(Infinity, true);
    this.out.int8(0);
  }

  /** One value's bytes: the start kept, the whole hashed when it does not all fit. */
  private *bytes(length: number, cstring: boolean): Walker {
    const room = this.room();
    // A string's length is known only at its end: it is hashed in case it does not fit.
    const hash = cstring || length > room ? crypto.createHash('sha256') : null;
    let size = 0;
    for (;;) {
      if (!cstring && size === length) break;
      let piece = (yield cstring ? CSTRING : { kind: 'bulk', max: length - size }) as Buffer;
      const ended = cstring && piece[piece.length - 1] === 0;
      if (ended) piece = piece.subarray(0, piece.length - 1);
      const keep = Math.min(piece.length, room - Math.min(room, size));
      if (keep > 0) this.out.bytes(piece.subarray(0, keep));
      hash?.update(piece);
      size += piece.length;
      if (ended) break;
    }
    const kept = Math.min(size, room);
    this.kept += kept;
    if (size > kept) this.values[this.ordinal] = { size, sha256: hash!.digest('hex') };
    this.ordinal++;
  }
}
