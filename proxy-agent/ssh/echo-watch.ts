// Tells, for each character typed at a terminal, whether the terminal showed it back: an answer
// typed where nothing echoes (`read -s`, `stty -echo`, a password prompt of any wording) is then
// recorded as a count of hidden characters, never as what was typed, whatever the prompt said.
//
// A typed character counts as echoed when it comes back in the output (escape sequences removed)
// after it was typed and after the echo of the character typed before it:
// - within `windowMs` of being typed (the echo of a remote terminal takes a round trip);
// - with at most `skip` printable characters shown in between (line editors redraw the rest of
//   the line when one types in its middle, wrap at the margin with " \r", and fish or zsh redraw
//   more); a line at a prompt that asks for a secret allows none;
// - with no line feed in between: output that moved on to the next line is the program's, not
//   the echo (a program's output after a hidden answer could otherwise happen to hold its
//   characters).
// A line counts as echoed only when every character typed on it was (fail closed: one missing
// echo makes the whole line hidden). Characters typed ahead while a program runs are echoed at once
// by the terminal (the kernel echoes what arrives while a program runs), so they are found too;
// ahead-typed lines a line editor reads and echoes only after a long silent command miss their
// window and are recorded hidden, the safe side. Control keys and escape sequences (arrows, Alt-x,
// a terminal's answers to queries) are filtered out before (escape-filter.ts): they echo as
// something else or nothing.

/** A typed line, once each of its characters is known to have been echoed or not. */
export interface DecidedLine {
  text: string;
  /** Printable characters typed on it. */
  typed: number;
  /** How many of them never came back. */
  missed: number;
}

export interface EchoWatchOptions {
  windowMs?: number;
  skip?: number;
  onLine(line: DecidedLine): void;
}

/** How a line is watched: its echo followed, strictly (at a secret prompt), or not at all (taken as echoed). */
export type LineWatch = 'echo' | 'strict' | 'none';

interface PendingLine {
  text: string | null;
  watch: LineWatch;
  typed: number;
  echoed: number;
  missed: number;
  /** Where the search for its echo began (-1: not yet): where the next line's begins if it is hidden. */
  from: number;
}

interface Typed {
  ch: string;
  /** When it was typed, and how much output had been shown by then. */
  at: number;
  shownBefore: number;
  line: PendingLine;
}

const WINDOW_MS = 1000;
const SKIP = 64;
/** Characters of one line followed; past that (a huge paste), the rest count as not echoed. */
const LINE_MAX = 64 * 1024;
/** Characters of output an echo is looked for in, at most (control characters do not count as skipped). */
const SEARCH_MAX = 4096;
const UNDECIDED = -1;
const MISSED = -2;

export class EchoWatch {
  private readonly windowMs: number;
  private readonly skip: number;
  private readonly onLine: (line: DecidedLine) => void;
  private readonly queue: Typed[] = [];
  private head = 0;
  /** Lines not yet reported, oldest first; the last one may still be typed on. */
  private readonly lines: PendingLine[] = [];
  private current: PendingLine | null = null;
  /** Output shown (escapes removed) from the absolute position `base` on. */
  private shownText = '';
  private base = 0;
  /** Absolute position just after the last echo found. */
  private matched = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(opts: EchoWatchOptions) {
    this.windowMs = opts.windowMs ?? WINDOW_MS;
    this.skip = opts.skip ?? SKIP;
    this.onLine = opts.onLine;
  }

  /** A line begins: how to watch it. */
  beginLine(watch: LineWatch): void {
    this.current = { text: null, watch, typed: 0, echoed: 0, missed: 0, from: -1 };
    this.lines.push(this.current);
  }

  /** A printable character typed on the current line. */
  typed(ch: string): void {
    const line = this.current;
    if (!line) return;
    line.typed++;
    if (line.watch === 'none') line.echoed++;
    else if (line.typed > LINE_MAX) line.missed++;
    else this.queue.push({ ch, at: Date.now(), shownBefore: this.base + this.shownText.length, line });
  }

  /** The current line ended (Enter, Ctrl-C, a pause): it is reported once its characters are decided. */
  endLine(text: string): void {
    if (!this.current) this.beginLine('none');
    this.current!.text = text;
    this.current = null;
    this.decide();
  }

  /** What the terminal showed, escape sequences removed. */
  shown(plain: string): void {
    if (!plain) return;
    if (this.head === this.queue.length) {
      // Nothing typed waits for its echo: no search will start before the end of this.
      this.base += this.shownText.length + plain.length;
      this.shownText = '';
      return;
    }
    this.shownText += plain;
    this.decide();
  }

  /** Nothing more will be shown: what has not come back by now never will. */
  close(): void {
    clearTimeout(this.timer);
    this.decide(Infinity);
  }

  private decide(now = Date.now()): void {
    clearTimeout(this.timer);
    while (this.head < this.queue.length) {
      const t = this.queue[this.head];
      const line = t.line;
      if (line.from < 0) line.from = this.matched;
      // A line with a character missing is hidden: its other characters need no search, and the
      // output its echoes were found in goes back to the lines after it (typed ahead, perhaps).
      const at = line.missed > 0 ? MISSED : this.find(t);
      if (at >= 0) {
        line.echoed++;
        this.matched = at + t.ch.length;
      } else if (at === MISSED || now - t.at >= this.windowMs) {
        line.missed++;
        this.matched = line.from;
      } else {
        this.timer = setTimeout(() => this.decide(), t.at + this.windowMs - now);
        this.timer.unref?.();
        break;
      }
      this.head++;
    }
    this.report();
    this.trim();
  }

  /** Where the echo of `t` is in what was shown (absolute), or UNDECIDED / MISSED. */
  private find(t: Typed): number {
    const from = Math.max(this.matched, t.shownBefore, this.base) - this.base;
    const allowed = t.line.watch === 'strict' ? 0 : this.skip;
    const end = Math.min(this.shownText.length, from + SEARCH_MAX);
    let skipped = 0;
    for (let i = from; i < end; i++) {
      if (this.shownText.startsWith(t.ch, i)) return this.base + i;
      const c = this.shownText.charCodeAt(i);
      if (c === 10) return MISSED;
      if (c >= 32 && c !== 127 && ++skipped > allowed) return MISSED;
    }
    // Only control characters, and many of them: an echo does not come after that.
    return end - from >= SEARCH_MAX ? MISSED : UNDECIDED;
  }

  /** Reports the lines, oldest first, that ended and whose characters are all decided. */
  private report(): void {
    while (this.lines.length > 0) {
      const line = this.lines[0];
      if (line.text === null || line.echoed + line.missed < line.typed) return;
      this.lines.shift();
      this.onLine({ text: line.text, typed: line.typed, missed: line.missed });
    }
  }

  /** Forgets the typed characters decided and the output no search can start before any more. */
  private trim(): void {
    if (this.head > 1024 || this.head === this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
    const next = this.queue[this.head];
    // A line partly echoed may still turn out hidden and give its output back (see decide).
    const floor = next && next.line.from >= 0 ? next.line.from : this.matched;
    const keep = Math.max(floor, next ? next.shownBefore : this.base + this.shownText.length);
    if (keep > this.base) {
      this.shownText = this.shownText.slice(keep - this.base);
      this.base = keep;
    }
  }
}
