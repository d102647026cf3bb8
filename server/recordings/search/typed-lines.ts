// The lines a person typed on one terminal channel, rebuilt from term.input as a line editor
// (readline's default keys) would: printable keys insert at the cursor, BS/DEL erase, arrows and
// Home/End move, Ctrl-U/K/W kill, Enter ends the line, Ctrl-C abandons it. What the terminal sends
// on its own (cursor position reports, focus events, bracketed-paste markers) is an escape
// sequence and never text.
//
// What cannot be known from the keys alone is left out rather than guessed: a line recalled from
// history (Up/Down, Ctrl-P/N/R) or completed by Tab shows only on the screen, so the output
// chunks have it; here history keys drop the line being edited and Tab inserts nothing. `hidden`
// input (a password typed at a prompt that did not echo) has no characters at all.
import { z } from 'zod';
import { newVtScanState, scanVt, VtScanState, type VtSequenceKind, type VtSink } from './vt-scanner.ts';

/** Longer lines (a paste without newlines) are cut into lines of this many characters. */
export const MAX_LINE_CHARS = 4096;

const Mark = z.object({ seq: z.number().int().positive(), part: z.number().int().nonnegative() });

export const TypedLinesState = z.object({
  scan: VtScanState,
  /** The line being typed: its text, the cursor in it, and the event it began in. */
  line: Mark.extend({
    time: z.string(),
    text: z.string().max(MAX_LINE_CHARS),
    cursor: z.number().int().nonnegative(),
  }).nullable(),
  /** The last line begun, to number lines begun in the same event. */
  last: Mark.nullable(),
});
export type TypedLinesState = z.infer<typeof TypedLinesState>;

export const newTypedLinesState = (): TypedLinesState => ({ scan: newVtScanState(), line: null, last: null });

export interface TypedLine {
  /** The event the line began in, and its place among lines begun in that event. */
  seq: number;
  part: number;
  time: string;
  text: string;
}

const CTRL = (letter: string) => letter.charCodeAt(0) - 0x40;
const KEY = {
  home: CTRL('A'), left: CTRL('B'), interrupt: CTRL('C'), deleteForward: CTRL('D'), end: CTRL('E'),
  right: CTRL('F'), backspace: CTRL('H'), tab: CTRL('I'), lineFeed: CTRL('J'), killToEnd: CTRL('K'),
  enter: CTRL('M'), historyNext: CTRL('N'), historyPrevious: CTRL('P'), historySearch: CTRL('R'),
  killToStart: CTRL('U'), killWord: CTRL('W'), del: 0x7f,
} as const;

/** `~` sequences by their number (CSI n ~): Home, Delete, End as xterm and the VTs send them. */
const TILDE_KEYS: Record<string, 'home' | 'end' | 'delete'> = { 1: 'home', 7: 'home', 3: 'delete', 4: 'end', 8: 'end' };

export class TypedLines implements VtSink {
  readonly state: TypedLinesState;
  #seq = 0;
  #time = '';
  #out: TypedLine[] = [];

  constructor(state: TypedLinesState = newTypedLinesState()) {
    this.state = state;
  }

  /** Feeds one term.input text; appends the lines it ends to out. */
  push(text: string, seq: number, time: string, out: TypedLine[]): void {
    this.#seq = seq;
    this.#time = time;
    this.#out = out;
    scanVt(this.state.scan, text, this);
  }

  /** A line typed without echo (only its length was recorded): what was being edited is unknown now. */
  hidden(): void {
    this.state.line = null;
  }

  /** The channel or session ended: a line typed but not entered is still a line typed. */
  end(out: TypedLine[]): void {
    this.#out = out;
    this.#finish();
    this.state.scan = newVtScanState();
  }

  text(run: string): void {
    let rest = run;
    while (rest.length > 0) {
      const line = this.#line();
      const room = MAX_LINE_CHARS - line.text.length;
      const piece = rest.length <= room ? rest : rest.slice(0, cutAt(rest, room));
      if (piece.length === 0) { // only a surrogate pair's half would fit
        this.#finish();
        continue;
      }
      line.text = line.text.slice(0, line.cursor) + piece + line.text.slice(line.cursor);
      line.cursor += piece.length;
      rest = rest.slice(piece.length);
      if (line.text.length >= MAX_LINE_CHARS) this.#finish();
    }
  }

  control(code: number): void {
    const line = this.state.line;
    switch (code) {
      case KEY.enter:
      case KEY.lineFeed:
        this.#finish();
        return;
      case KEY.interrupt:
      case KEY.historyNext:
      case KEY.historyPrevious:
      case KEY.historySearch:
        this.state.line = null;
        return;
    }
    if (!line) return;
    switch (code) {
      case KEY.backspace:
      case KEY.del:
        this.#erase(stepBack(line.text, line.cursor), line.cursor);
        break;
      case KEY.deleteForward:
        this.#erase(line.cursor, stepForward(line.text, line.cursor));
        break;
      case KEY.home:
        line.cursor = 0;
        break;
      case KEY.end:
        line.cursor = line.text.length;
        break;
      case KEY.left:
        line.cursor = stepBack(line.text, line.cursor);
        break;
      case KEY.right:
        line.cursor = stepForward(line.text, line.cursor);
        break;
      case KEY.killToStart:
        this.#erase(0, line.cursor);
        break;
      case KEY.killToEnd:
        this.#erase(line.cursor, line.text.length);
        break;
      case KEY.killWord: {
        let from = line.cursor;
        while (from > 0 && /\s/.test(line.text[from - 1])) from--;
        while (from > 0 && !/\s/.test(line.text[from - 1])) from--;
        this.#erase(from, line.cursor);
        break;
      }
      // Tab (completion) and every other control insert nothing.
    }
  }

  sequence(kind: VtSequenceKind, params: string, final: string): void {
    if (kind === 'esc') return; // Alt-key combinations: word motions we do not follow
    const key = kind === 'csi' && final === '~' ? TILDE_KEYS[params] : final;
    switch (key) {
      case 'A': // Up, Down: history
      case 'B':
        this.state.line = null;
        return;
    }
    const line = this.state.line;
    if (!line) return;
    switch (key) {
      case 'C':
        line.cursor = stepForward(line.text, line.cursor);
        break;
      case 'D':
        line.cursor = stepBack(line.text, line.cursor);
        break;
      case 'H':
      case 'home':
        line.cursor = 0;
        break;
      case 'F':
      case 'end':
        line.cursor = line.text.length;
        break;
      case 'delete':
        this.#erase(line.cursor, stepForward(line.text, line.cursor));
        break;
      // Anything else (a cursor position report ESC[12;40R, focus ESC[I, paste markers
      // ESC[200~ and ESC[201~, function keys) is not typing.
    }
  }

  #line(): NonNullable<TypedLinesState['line']> {
    if (this.state.line) return this.state.line;
    const last = this.state.last;
    const part = last?.seq === this.#seq ? last.part + 1 : 0;
    this.state.last = { seq: this.#seq, part };
    this.state.line = { seq: this.#seq, part, time: this.#time, text: '', cursor: 0 };
    return this.state.line;
  }

  #erase(from: number, to: number): void {
    const line = this.state.line!;
    line.text = line.text.slice(0, from) + line.text.slice(to);
    line.cursor = from;
    // A line erased back to nothing begins again with the next key.
    if (line.text.length === 0) this.state.line = null;
  }

  #finish(): void {
    const line = this.state.line;
    this.state.line = null;
    if (!line) return;
    const text = line.text.trim();
    if (text) this.#out.push({ seq: line.seq, part: line.part, time: line.time, text });
  }
}

/** Where a cut at most `at` characters in leaves surrogate pairs whole. */
export function cutAt(text: string, at: number): number {
  if (at <= 0) return 0;
  if (at >= text.length) return text.length;
  const c = text.charCodeAt(at);
  return c >= 0xdc00 && c <= 0xdfff ? at - 1 : at;
}

function stepBack(text: string, cursor: number): number {
  if (cursor <= 0) return 0;
  const c = text.charCodeAt(cursor - 1);
  return c >= 0xdc00 && c <= 0xdfff && cursor >= 2 ? cursor - 2 : cursor - 1;
}

function stepForward(text: string, cursor: number): number {
  if (cursor >= text.length) return text.length;
  const c = text.charCodeAt(cursor);
  return c >= 0xd800 && c <= 0xdbff && cursor + 2 <= text.length ? cursor + 2 : cursor + 1;
}
