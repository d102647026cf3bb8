// Where the rows of COPY data in text or CSV format end, as the bytes go by: CopyData boundaries
// mean nothing, so a row may span several and one may hold several. A row ends at a line feed
// that is not data: in text format, not escaped by a backslash; in CSV, outside quotes (where the
// escape character, the quote itself by default, escapes a quote). The reading is the one
// copy-fields.ts makes of whole content, so cutting the data at these ends and reading each piece
// gives the rows and fields that reading the whole would (a `\r\n` is never cut in two: the cut
// is after its `\n`). Delimiter, quote and escape are one byte each (PostgreSQL requires it).
import type { CopySpec } from '../secret-values/secret-values.ts';

const LF = 0x0a;
const BACKSLASH = 0x5c;

const enum State {
  Out,
  /** Text format: the byte after a backslash is data. */
  Escaped,
  /** CSV: inside quotes. */
  Quoted,
  /** CSV, escape = quote: a quote inside quotes; the next byte says whether it ends them ("" does not). */
  QuoteInQuotes,
  /** CSV, escape != quote: an escape inside quotes; a quote or escape after it is data. */
  EscapeInQuotes,
}

export class CopyRowEnds {
  private state = State.Out;
  private readonly csv: boolean;
  private readonly quote: number;
  private readonly escape: number;

  constructor(spec: Pick<CopySpec, 'format' | 'quote' | 'escape'>) {
    this.csv = spec.format === 'csv';
    this.quote = spec.quote.charCodeAt(0);
    this.escape = spec.escape.charCodeAt(0);
  }

  /** The offsets just past each row end in `data`, in order; the place in a row is kept for the next call. */
  push(data: Buffer): number[] {
    const ends: number[] = [];
    for (let i = 0; i < data.length; i++) if (this.step(data[i])) ends.push(i + 1);
    return ends;
  }

  /** Reads one byte; true when it ends a row. */
  private step(b: number): boolean {
    switch (this.state) {
      case State.Out:
        if (this.csv ? b === this.quote : b === BACKSLASH) this.state = this.csv ? State.Quoted : State.Escaped;
        return b === LF;
      case State.Escaped:
        this.state = State.Out;
        return false;
      case State.Quoted:
        if (this.escape !== this.quote && b === this.escape) this.state = State.EscapeInQuotes;
        else if (b === this.quote) this.state = this.escape === this.quote ? State.QuoteInQuotes : State.Out;
        return false;
      case State.QuoteInQuotes:
        if (b === this.quote) {
          this.state = State.Quoted;
          return false;
        }
        this.state = State.Out;
        return this.step(b);
      case State.EscapeInQuotes:
        this.state = State.Quoted;
        return b === this.quote || b === this.escape ? false : this.step(b);
    }
  }
}
