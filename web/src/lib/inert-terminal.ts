// A recorded terminal drawn by xterm.js, read-only and inert: no keystroke goes anywhere, the
// viewer's window never resizes it, links (OSC 8) do nothing, title and clipboard sequences are
// ignored (no handlers, no addons). Its style elements carry the page's CSP nonce.
// Resets and resizes go through xterm's write queue, in order with the text written before and
// after them: a resize lands between the two outputs it came between, and text still queued from
// before a reset never draws over what comes after it.
import { Terminal } from '@xterm/xterm';
import '@xterm/xterm/css/xterm.css';
import type { KeyframeView } from '../../../common/api-contract.ts';
import { withStyleNonce } from './style-nonce.ts';
import type { TerminalSink } from './terminal-channel.ts';

/** The history the hub's headless terminals keep (server/recordings/terminal/virtual-terminal.ts): replays keep the same. */
const SCROLLBACK = 1000;

/**
 * RIS (a full reset), "erase saved lines", and the colours a recording may have changed (OSC 104
 * palette, 110 to 112 foreground, background, cursor) back to the theme's: a terminal so reset
 * draws what a new one would.
 */
const RESET = '\u001bc\u001b[3J\u001b]104\u0007\u001b]110\u0007\u001b]111\u0007\u001b]112\u0007';

export class InertTerminal implements TerminalSink {
  term: Terminal;
  /** Writes queued to this terminal and not parsed yet (a queued resize has not taken effect). */
  private pending = 0;

  /** `onSize` hears each size as it takes effect. */
  constructor(private readonly container: HTMLElement, private readonly onSize: (cols: number, rows: number) => void = () => undefined) {
    this.term = this.open(80, 24, SCROLLBACK);
  }

  private open(cols: number, rows: number, scrollback: number): Terminal {
    this.pending = 0;
    const term = new Terminal({
      cols: Math.max(2, cols),
      rows: Math.max(2, rows),
      disableStdin: true,
      cursorBlink: false,
      scrollback,
      fontSize: 13,
      linkHandler: { activate: () => undefined, allowNonHttpProtocols: false },
    });
    withStyleNonce(() => term.open(this.container));
    return term;
  }

  // A keyframe is made for a fresh terminal of its size and history. The one on screen, reset,
  // serves when it will have them and has nothing left to draw (a new one costs the page more than
  // anything else in a seek, but drops at once what a fast replay had queued); else a new one.
  restore(k: KeyframeView): void {
    // With nothing pending, every resize queued has taken effect: the terminal's size is current.
    const rows = Math.max(2, k.rows, k.altRows);
    const t = this.term;
    if (this.pending === 0 && t.cols === Math.max(2, k.cols) && t.rows === rows && t.options.scrollback === k.scrollback) {
      this.queue(RESET);
    } else {
      this.term.dispose();
      this.term = this.open(k.cols, rows, k.scrollback);
    }
    this.queue(k.prelude);
    this.resize(k.cols, k.rows);
    this.queue(k.screen);
  }

  reset(): void {
    this.queue(RESET);
  }

  resize(cols: number, rows: number): void {
    this.queue('', () => {
      this.term.resize(Math.max(2, cols), Math.max(2, rows));
      this.onSize(cols, rows);
    });
  }

  write(text: string): void {
    this.queue(text);
  }

  dispose(): void {
    this.term.dispose();
  }

  private queue(text: string, then?: () => void): void {
    const term = this.term;
    this.pending += 1;
    try {
      term.write(text, () => {
        if (term === this.term) this.pending -= 1;
        then?.();
      });
    } catch {
      this.pending -= 1;
      // xterm refuses writes once far too much waits to be drawn: the next reset or keyframe redraws.
    }
  }
}
