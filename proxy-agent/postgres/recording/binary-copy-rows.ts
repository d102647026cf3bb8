// Counts the rows of COPY ... (FORMAT binary) as its bytes go by, in either direction (the format:
// binary-copy-format.ts). CopyData boundaries mean nothing: a row, even one of its integers, may
// be split anywhere, so the counter keeps its place between pushes.
// The server's CommandComplete ("COPY n") is the authority when it comes; this count stands in
// when it does not (a COPY that failed half way).
import { BinaryCopyStep as Step, SIGNATURE_BYTES } from './binary-copy-format.ts';

export class BinaryCopyRows {
  rows = 0;
  /** The data did not follow the format (rows counted so far stand). */
  invalid = false;
  private step = Step.Signature;
  /** Bytes still to skip in a skipping step (signature, extension, field data). */
  private skip = SIGNATURE_BYTES;
  private readonly int = Buffer.alloc(4);
  private intFilled = 0;
  private fieldsLeft = 0;

  push(data: Buffer): void {
    let at = 0;
    while (at < data.length && !this.invalid && this.step !== Step.Done) {
      if (this.step === Step.Signature || this.step === Step.Extension || this.step === Step.Field) {
        const n = Math.min(this.skip, data.length - at);
        this.skip -= n;
        at += n;
        if (this.skip === 0) this.skipped();
        continue;
      }
      const size = this.step === Step.FieldCount ? 2 : 4;
      const n = Math.min(size - this.intFilled, data.length - at);
      data.copy(this.int, this.intFilled, at, at + n);
      this.intFilled += n;
      at += n;
      if (this.intFilled < size) continue;
      this.intFilled = 0;
      this.read(size === 2 ? this.int.readInt16BE(0) : this.int.readInt32BE(0));
    }
  }

  private skipped(): void {
    if (this.step === Step.Signature) this.step = Step.Flags;
    else if (this.step === Step.Extension) this.step = Step.FieldCount;
    else this.nextField();
  }

  private read(n: number): void {
    switch (this.step) {
      case Step.Flags:
        this.step = Step.ExtensionLength;
        return;
      case Step.ExtensionLength:
        if (n < 0) return this.fail();
        this.skip = n;
        this.step = Step.Extension;
        if (n === 0) this.skipped();
        return;
      case Step.FieldCount:
        if (n === -1) {
          this.step = Step.Done;
          return;
        }
        if (n < 0) return this.fail();
        this.rows++;
        this.fieldsLeft = n;
        this.step = n === 0 ? Step.FieldCount : Step.FieldLength;
        return;
      case Step.FieldLength:
        if (n === -1) return this.nextField();
        if (n < 0) return this.fail();
        this.skip = n;
        this.step = Step.Field;
        if (n === 0) this.nextField();
        return;
    }
  }

  private nextField(): void {
    this.fieldsLeft--;
    this.step = this.fieldsLeft > 0 ? Step.FieldLength : Step.FieldCount;
  }

  private fail(): void {
    this.invalid = true;
  }
}
