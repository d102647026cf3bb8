// COPY ... TO STDOUT (FORMAT binary) masked on its way to the client, for the copies the masking
// gate lets through (no field is a secret column's). The format is read as in
// recording/binary-copy-rows.ts: the header (signature, flags, extension), per tuple an int16
// field count and per field an int32 length (-1: NULL) and its bytes, and -1 to end. A binary
// value's type is not on the wire (CopyOutResponse gives formats only), so a value cannot carry
// a marker without breaking the client's decoder: a field in which a detector finds anything (its
// bytes read as text, and for `COPY (query)` through its encodings) becomes NULL, as a masked
// binary DataRow value does. Each tuple is held until it is whole and goes out as a CopyData of
// its own, the header with the first, as PostgreSQL sends them.
import type { Masker } from '../../masking/masker.ts';
import { maskEncoded } from '../recording/encoded-values.ts';
import { copyData, CopyRowTooLarge, NOTHING, type CopyOutStream } from './copy-data.ts';
import { BinaryCopyStep as Step, SIGNATURE_BYTES } from '../recording/binary-copy-format.ts';

/** The binary data did not follow the format: it cannot be masked, so it cannot go on. */
export class InvalidBinaryCopy extends Error {
  override name = 'InvalidBinaryCopy';
}

export class BinaryCopyOut implements CopyOutStream {
  private step = Step.Signature;
  private skip = SIGNATURE_BYTES;
  private readonly int = Buffer.alloc(4);
  private intFilled = 0;
  private fieldsLeft = 0;
  /** The bytes of the unit (header, tuple, trailer) being read. */
  private unit: Buffer[] = [];
  private unitBytes = 0;
  /** The header waits to go out with the first tuple. */
  private header: Buffer | null = null;

  constructor(
    /** Whether field i is masked whatever it holds (null: every field). */
    private readonly secretFields: boolean[] | null,
    private readonly masker: Masker,
    private readonly lookThrough: boolean,
    private readonly maxRowBytes: number,
  ) {}

  push(data: Buffer): Buffer {
    const out: Buffer[] = [];
    let at = 0;
    let unitStart = 0;
    while (at < data.length) {
      if (this.step === Step.Done) throw new InvalidBinaryCopy('binary COPY data after its end marker');
      let completed: 'header' | 'tuple' | 'trailer' | null;
      if (this.step === Step.Signature || this.step === Step.Extension || this.step === Step.Field) {
        const n = Math.min(this.skip, data.length - at);
        this.skip -= n;
        at += n;
        completed = this.skip === 0 ? this.skipped() : null;
      } else {
        const size = this.step === Step.FieldCount ? 2 : 4;
        const n = Math.min(size - this.intFilled, data.length - at);
        data.copy(this.int, this.intFilled, at, at + n);
        this.intFilled += n;
        at += n;
        if (this.intFilled < size) continue;
        this.intFilled = 0;
        completed = this.read(size === 2 ? this.int.readInt16BE(0) : this.int.readInt32BE(0));
      }
      if (completed === null) continue;
      const bytes = this.take(data.subarray(unitStart, at));
      unitStart = at;
      if (completed === 'header') this.header = bytes;
      else out.push(this.emit(completed === 'tuple' ? this.maskTuple(bytes) : bytes));
    }
    if (unitStart < data.length) this.hold(data.subarray(unitStart));
    return out.length === 0 ? NOTHING : Buffer.concat(out);
  }

  /** Data that ended inside a tuple is not valid: what is held of it is dropped. */
  end(): Buffer {
    this.unit = [];
    this.unitBytes = 0;
    return this.header ? this.emit(NOTHING) : NOTHING;
  }

  private emit(bytes: Buffer): Buffer {
    const body = this.header ? Buffer.concat([this.header, bytes]) : bytes;
    this.header = null;
    return copyData(body);
  }

  private hold(bytes: Buffer): void {
    this.unitBytes += bytes.length;
    if (this.unitBytes > this.maxRowBytes) throw new CopyRowTooLarge(this.maxRowBytes);
    this.unit.push(Buffer.from(bytes));
  }

  private take(rest: Buffer): Buffer {
    const bytes = this.unitBytes > 0 ? Buffer.concat([...this.unit, rest]) : Buffer.from(rest);
    this.unit = [];
    this.unitBytes = 0;
    return bytes;
  }

  private skipped(): 'header' | 'tuple' | null {
    if (this.step === Step.Signature) {
      this.step = Step.Flags;
      return null;
    }
    if (this.step === Step.Extension) {
      this.step = Step.FieldCount;
      return 'header';
    }
    return this.nextField();
  }

  private read(n: number): 'header' | 'tuple' | 'trailer' | null {
    switch (this.step) {
      case Step.Flags:
        this.step = Step.ExtensionLength;
        return null;
      case Step.ExtensionLength:
        if (n < 0) throw new InvalidBinaryCopy(`binary COPY header extension length ${n}`);
        this.skip = n;
        this.step = Step.Extension;
        return n === 0 ? this.skipped() : null;
      case Step.FieldCount:
        if (n === -1) {
          this.step = Step.Done;
          return 'trailer';
        }
        if (n < 0) throw new InvalidBinaryCopy(`binary COPY field count ${n}`);
        this.fieldsLeft = n;
        this.step = n === 0 ? Step.FieldCount : Step.FieldLength;
        return n === 0 ? 'tuple' : null;
      case Step.FieldLength:
        if (n === -1) return this.nextField();
        if (n < 0) throw new InvalidBinaryCopy(`binary COPY field length ${n}`);
        this.skip = n;
        this.step = Step.Field;
        return n === 0 ? this.nextField() : null;
      default:
        return null;
    }
  }

  private nextField(): 'tuple' | null {
    this.fieldsLeft--;
    this.step = this.fieldsLeft > 0 ? Step.FieldLength : Step.FieldCount;
    return this.fieldsLeft > 0 ? null : 'tuple';
  }

  /** A whole tuple with the fields to mask as NULL; the same bytes when none is. */
  private maskTuple(tuple: Buffer): Buffer {
    const count = tuple.readInt16BE(0);
    const parts: Buffer[] = [tuple.subarray(0, 2)];
    let changed = false;
    let at = 2;
    for (let i = 0; i < count; i++) {
      const length = tuple.readInt32BE(at);
      const end = length < 0 ? at + 4 : at + 4 + length;
      if (length >= 0 && this.masks(i, tuple.subarray(at + 4, end))) {
        parts.push(NULL_FIELD);
        changed = true;
      } else parts.push(tuple.subarray(at, end));
      at = end;
    }
    return changed ? Buffer.concat(parts) : tuple;
  }

  private masks(i: number, value: Buffer): boolean {
    if (this.secretFields === null || i >= this.secretFields.length || this.secretFields[i]) return true;
    const text = value.toString('utf8');
    return this.lookThrough ? maskEncoded(this.masker, text, true) !== null : this.masker.maskText(text).counts !== null;
  }
}

const NULL_FIELD = Buffer.from([0xff, 0xff, 0xff, 0xff]);
