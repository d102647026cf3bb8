// COPY ... TO STDOUT in text or CSV format masked on its way to the client. The server's CopyData
// boundaries mean nothing to the data (a row may span several, one may hold several), so the
// bytes are cut at row ends (copy-row-ends.ts), each whole row is masked field by field
// (recording/copy-content.ts: secret columns, detectors, encodings) and goes out as one CopyData
// of its own, as PostgreSQL sends them. A row that did not change goes out as the exact bytes it
// came as. A row is held until its end has come, up to a limit.
import { isUtf8 } from 'node:buffer';
import type { Masker } from '../../masking/masker.ts';
import { maskCopyContent } from '../recording/copy-content.ts';
import type { CopySpec } from '../secret-values/secret-values.ts';
import { CopyRowEnds } from './copy-row-ends.ts';
import { copyData, CopyRowTooLarge, NOTHING, type CopyOutStream } from './copy-data.ts';

export class TextCopyOut implements CopyOutStream {
  private readonly ends: CopyRowEnds;
  private held: Buffer[] = [];
  private heldBytes = 0;
  private first = true;
  /** The spec for rows after the first: only the first can be the header. */
  private readonly rest: CopySpec;

  constructor(
    private readonly spec: CopySpec,
    private readonly masker: Masker,
    private readonly lookThrough: boolean,
    private readonly maxRowBytes: number,
  ) {
    this.ends = new CopyRowEnds(spec);
    this.rest = { ...spec, header: false };
  }

  push(data: Buffer): Buffer {
    const ends = this.ends.push(data);
    const out: Buffer[] = [];
    let start = 0;
    for (const end of ends) {
      const piece = data.subarray(start, end);
      out.push(this.maskRow(this.heldBytes > 0 ? this.take(piece) : piece));
      start = end;
    }
    if (start < data.length) this.hold(data.subarray(start));
    return out.length === 0 ? NOTHING : out.length === 1 ? out[0] : Buffer.concat(out);
  }

  end(): Buffer {
    return this.heldBytes > 0 ? this.maskRow(this.take(NOTHING)) : NOTHING;
  }

  /** The held start of a row with its rest. */
  private take(rest: Buffer): Buffer {
    const row = Buffer.concat([...this.held, rest]);
    this.held = [];
    this.heldBytes = 0;
    return row;
  }

  /** A copy: the chunk a piece came in is not ours to keep. */
  private hold(bytes: Buffer): void {
    this.heldBytes += bytes.length;
    if (this.heldBytes > this.maxRowBytes) throw new CopyRowTooLarge(this.maxRowBytes);
    this.held.push(Buffer.from(bytes));
  }

  /**
   * One row (rarely more: a lone \r ends one too) as the CopyData to send. Data in another
   * client_encoding than UTF-8 is read byte for byte (latin1), so that what is not masked goes
   * out as the bytes it came as.
   */
  private maskRow(row: Buffer): Buffer {
    const encoding = isUtf8(row) ? 'utf8' : 'latin1';
    const text = row.toString(encoding);
    const spec = this.first ? this.spec : this.rest;
    this.first = false;
    const masked = maskCopyContent(text, spec, this.masker, this.lookThrough).text;
    return copyData(masked === text ? row : Buffer.from(masked, encoding));
  }
}
