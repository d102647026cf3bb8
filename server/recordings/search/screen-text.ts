// What one terminal channel showed, as plain text in chunks a search can index and a player can
// jump to. Escape sequences and controls are dropped (cursor moves that start a new line or skip
// columns become a newline or a space, so words drawn apart stay apart), CR and LF end lines, runs
// of blank lines fold into one, and BS erases (the echo of a typed backspace is `\b \b`).
//
// A chunk starts at the event its first character came from and closes when it reaches about
// CHUNK_CHARS (at a space or newline when there is one), or when output resumes after a pause of
// more than CHUNK_GAP_MS at a word boundary. Boundaries depend only on the events, so the same
// events always give the same chunks (re-indexing writes nothing new).
import { z } from 'zod';
import { cutAt } from './typed-lines.ts';
import { newVtScanState, scanVt, VtScanState, type VtSequenceKind, type VtSink } from './vt-scanner.ts';

export const CHUNK_CHARS = 4096;
export const CHUNK_GAP_MS = 2000;

const Mark = z.object({ seq: z.number().int().positive(), part: z.number().int().nonnegative() });

export const ScreenTextState = z.object({
  scan: z.object({ stdout: VtScanState, stderr: VtScanState }),
  chunk: Mark.extend({
    time: z.string(),
    /** The time of the last output in the chunk, to see a pause. */
    lastTime: z.string(),
    text: z.string().max(CHUNK_CHARS * 9),
  }).nullable(),
  /** The last chunk begun, to number chunks begun in the same event. */
  last: Mark.nullable(),
});
export type ScreenTextState = z.infer<typeof ScreenTextState>;

export const newScreenTextState = (): ScreenTextState => ({
  scan: { stdout: newVtScanState(), stderr: newVtScanState() },
  chunk: null,
  last: null,
});

export interface ScreenChunk {
  seq: number;
  part: number;
  time: string;
  text: string;
}

const NEWLINE_FINALS = new Set(['H', 'f', 'd', 'A', 'B', 'E', 'F']);
const SPACE_FINALS = new Set(['C', 'G']);
const isSpace = (c: string | undefined) => c === ' ' || c === '\t' || c === '\n';

export class ScreenText implements VtSink {
  readonly state: ScreenTextState;
  #seq = 0;
  #time = '';
  /** The shortest the chunk got during this event: text past it came from this event. */
  #floor = 0;

  constructor(state: ScreenTextState = newScreenTextState()) {
    this.state = state;
  }

  /** Feeds one term.output text; appends the chunks it closes to out. */
  push(text: string, stream: 'stdout' | 'stderr', seq: number, time: string, out: ScreenChunk[]): void {
    const open = this.state.chunk;
    if (open && Date.parse(time) - Date.parse(open.lastTime) > CHUNK_GAP_MS && (isSpace(open.text.at(-1)) || /^[\s\x1b]/.test(text))) {
      this.flush(out);
    }
    this.#seq = seq;
    this.#time = time;
    this.#floor = this.state.chunk?.text.length ?? 0;
    scanVt(this.state.scan[stream], text, this);
    while (this.state.chunk && this.state.chunk.text.length > CHUNK_CHARS) this.#cut(out);
    if (this.state.chunk) this.state.chunk.lastTime = time;
  }

  /** Closes the open chunk (the channel or session ended, or the caller wants it searchable now). */
  flush(out: ScreenChunk[]): void {
    const chunk = this.state.chunk;
    this.state.chunk = null;
    if (!chunk) return;
    const text = chunk.text.trim();
    if (text) out.push({ seq: chunk.seq, part: chunk.part, time: chunk.time, text });
  }

  text(run: string): void {
    this.#chunk().text += run;
  }

  control(code: number): void {
    if (code === 0x0a || code === 0x0d) this.#newline();
    else if (code === 0x09) this.#space('\t');
    else if (code === 0x08) this.#backspace();
    // BEL, NUL and the rest show nothing.
  }

  sequence(kind: VtSequenceKind, _params: string, final: string): void {
    if (kind !== 'csi') return;
    if (NEWLINE_FINALS.has(final)) this.#newline();
    else if (SPACE_FINALS.has(final)) this.#space(' ');
  }

  #chunk(): NonNullable<ScreenTextState['chunk']> {
    if (this.state.chunk) return this.state.chunk;
    const last = this.state.last;
    const part = last?.seq === this.#seq ? last.part + 1 : 0;
    this.state.last = { seq: this.#seq, part };
    this.state.chunk = { seq: this.#seq, part, time: this.#time, lastTime: this.#time, text: '' };
    return this.state.chunk;
  }

  #newline(): void {
    const chunk = this.state.chunk;
    if (!chunk || chunk.text.length === 0) return;
    let end = chunk.text.length;
    while (end > 0 && (chunk.text[end - 1] === ' ' || chunk.text[end - 1] === '\t')) end--;
    if (end < chunk.text.length) this.#truncate(chunk, end);
    if (chunk.text.length > 0 && !chunk.text.endsWith('\n')) chunk.text += '\n';
  }

  #space(c: string): void {
    const chunk = this.state.chunk;
    if (chunk && chunk.text.length > 0 && !isSpace(chunk.text.at(-1))) chunk.text += c;
  }

  #backspace(): void {
    const chunk = this.state.chunk;
    if (!chunk || chunk.text.length === 0 || chunk.text.endsWith('\n')) return;
    const c = chunk.text.charCodeAt(chunk.text.length - 1);
    const n = c >= 0xdc00 && c <= 0xdfff && chunk.text.length >= 2 ? 2 : 1;
    this.#truncate(chunk, chunk.text.length - n);
  }

  #truncate(chunk: NonNullable<ScreenTextState['chunk']>, end: number): void {
    chunk.text = chunk.text.slice(0, end);
    if (end < this.#floor) this.#floor = end;
  }

  /**
   * Closes the chunk at about CHUNK_CHARS and opens the next with the rest. The cut is never
   * before what this event added, so the rest always begins in this event (its seq is exact).
   */
  #cut(out: ScreenChunk[]): void {
    const chunk = this.state.chunk!;
    const text = chunk.text;
    let at: number;
    if (this.#floor >= (CHUNK_CHARS * 3) / 4) at = this.#floor;
    else {
      const from = Math.max(this.#floor, CHUNK_CHARS / 2);
      const space = Math.max(text.lastIndexOf('\n', CHUNK_CHARS), text.lastIndexOf(' ', CHUNK_CHARS));
      at = space >= from ? space + 1 : cutAt(text, CHUNK_CHARS);
      if (at <= 0) at = CHUNK_CHARS;
    }
    this.state.chunk = { ...chunk, text: text.slice(0, at) };
    this.flush(out);
    this.#floor = 0;
    const rest = text.slice(at);
    if (rest.length > 0) this.#chunk().text = rest;
  }
}
