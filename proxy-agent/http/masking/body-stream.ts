// A streamed body (server-sent events, ndjson) masked piece by piece as it passes, read line by
// line:
// - a line that is one complete JSON object or array (an ndjson line; an SSE `data:` field's
//   value) is masked field by field (json.ts) and emitted at once;
// - every other line (SSE `event:`, `id:`, comments, text data, a JSON value spread over several
//   `data:` lines) goes through the engine's StreamMasker, which holds back what a secret
//   spanning lines or pieces may still need (a PEM key printed over many data lines). A JSON line
//   first flushes it, so the output keeps the stream's order; while it holds an open multi-line
//   secret, JSON lines go through it as text too. A line that starts like JSON but does not parse
//   (cut where the stream ended, or malformed) has its secret keys' values masked by the tolerant
//   scan (json-text.ts), counted when read, then goes through it as text.
// A line only counts once its '\n' has arrived (a '\r' before it is kept): a piece ending inside
// a line keeps that line back. A line longer than `maxLine` is given to the StreamMasker as it
// comes (it masks across any cut). Bytes are decoded as UTF-8 across pieces (a character split
// between two pieces is whole); invalid bytes become U+FFFD (a stream cannot turn binary midway).
import type { Masker, MaskResult } from '../../masking/masker.ts';
import { StreamMasker, type StreamMaskerOptions } from '../../masking/stream-masker.ts';
import { bodyKind, parseMediaType } from './content-type.ts';
import { FieldMasker } from './field-masker.ts';
import { maskJson } from './json.ts';
import { maskSecretKeyValues } from './json-text.ts';

export type StreamKind = 'sse' | 'ndjson';

/** Whether a Content-Type is a stream this masker reads (text/event-stream, ndjson), and which. */
export function streamKind(contentType: string | undefined): StreamKind | null {
  if (contentType === undefined) return null;
  const kind = bodyKind(parseMediaType(contentType));
  return kind === 'sse' || kind === 'ndjson' ? kind : null;
}

/**
 * Characters of a line kept back waiting for its end. Past it the line goes to the StreamMasker as
 * it comes: only the detectors read it then, not the column rules of its JSON keys.
 */
export const MAX_LINE = 1024 * 1024;

export interface BodyStreamMaskerOptions extends StreamMaskerOptions {
  masker: Masker;
  kind: StreamKind;
  /** Longest line read as a whole (default MAX_LINE). */
  maxLine?: number;
}

export class BodyStreamMasker {
  private readonly kind: StreamKind;
  private readonly maxLine: number;
  private readonly fields: FieldMasker;
  private readonly text: StreamMasker;
  private readonly decoder = new TextDecoder('utf-8');
  /** The line under way (no '\n' yet). */
  private line = '';
  /** The line under way is too long to wait for: it goes to the StreamMasker as it comes. */
  private longLine = false;

  constructor(opts: BodyStreamMaskerOptions) {
    const { masker, kind, maxLine = MAX_LINE, ...streamOpts } = opts;
    this.kind = kind;
    this.maxLine = maxLine;
    this.fields = new FieldMasker(masker);
    this.text = new StreamMasker(masker, streamOpts);
  }

  /** Masked text that can be recorded now (possibly empty). Pieces are all bytes or all strings. */
  push(chunk: Buffer | string): MaskResult {
    const text = typeof chunk === 'string' ? chunk : this.decoder.decode(chunk, { stream: true });
    return this.take(this.read(text, false));
  }

  /** On a pause: what the StreamMasker holds is emitted (but an open multi-line secret); the line under way stays. */
  flush(): MaskResult {
    return this.take(this.emitText(this.text.flush()));
  }

  /** The stream ended: everything, the last line even without its '\n'. */
  end(): MaskResult {
    let out = this.read(this.decoder.decode(), true);
    // The last line without its '\n' (a long line's rest went to the StreamMasker in read).
    if (this.line.length > 0) out += this.readLine(this.line);
    this.line = '';
    this.longLine = false;
    return this.take(out + this.emitText(this.text.end()));
  }

  /** When what the StreamMasker holds must be masked as it stands (call flush then); null when it holds no open secret. */
  heldUntil(): number | null {
    return this.text.heldUntil();
  }

  private read(text: string, final: boolean): string {
    let out = '';
    let from = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', from)) {
      const piece = text.slice(from, nl + 1);
      from = nl + 1;
      if (this.longLine) {
        out += this.emitText(this.text.push(piece));
        this.longLine = false;
        continue;
      }
      const line = this.line + piece;
      this.line = '';
      out += this.readLine(line);
    }
    const rest = text.slice(from);
    if (this.longLine) return out + this.emitText(this.text.push(rest));
    this.line += rest;
    if (!final && this.line.length > this.maxLine) {
      out += this.emitText(this.text.push(this.line));
      this.line = '';
      this.longLine = true;
    }
    return out;
  }

  /** One line (with its line break, if any): field by field when it holds one JSON value, else as text. */
  private readLine(line: string): string {
    const json = this.jsonPart(line);
    if (json === null) return this.emitText(this.text.push(line));
    const flushed = this.emitText(this.text.flush());
    const value = line.slice(json.start, json.end);
    if (this.text.heldUntil() === null) {
      const masked = maskJson(value, this.fields);
      if (masked !== null) return flushed + line.slice(0, json.start) + masked + line.slice(json.end);
    }
    const keysMasked = maskSecretKeyValues(value, this.fields);
    return flushed + this.emitText(this.text.push(line.slice(0, json.start) + keysMasked + line.slice(json.end)));
  }

  /** Where the JSON value of a line would be (an ndjson line, an SSE data field, starting with '{' or '['), or null. */
  private jsonPart(line: string): { start: number; end: number } | null {
    let end = line.length;
    if (line.charCodeAt(end - 1) === 10) end--;
    if (line.charCodeAt(end - 1) === 13) end--;
    let start = 0;
    if (this.kind === 'sse') {
      if (!line.startsWith('data:')) return null;
      start = line.charCodeAt(5) === 32 ? 6 : 5;
    } else {
      while (line.charCodeAt(start) === 32 || line.charCodeAt(start) === 9) start++;
    }
    const first = line.charCodeAt(start);
    return first === 123 || first === 91 ? { start, end } : null;
  }

  /** The StreamMasker's text, its counts kept with the fields' until `take`. */
  private emitText(r: MaskResult): string {
    this.fields.add(r.counts);
    return r.text;
  }

  private take(text: string): MaskResult {
    return { text, counts: this.fields.take() };
  }
}
