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

/** RIS (a full reset, scrollback too) then "erase saved lines". */
const RESET = '\u001bc\u001b[3J';

export class InertTerminal implements TerminalSink {
  term: Terminal;

  /** `onSize` hears each size as it takes effect. */
  constructor(private readonly container: HTMLElement, private readonly onSize: (cols: number, rows: number) => void = () => undefined) {
    this.term = this.open(80, 24, SCROLLBACK);
  }

  private open(cols: number, rows: number, scrollback: number): Terminal {
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

  // A keyframe is made for a fresh terminal: one is made (a reset keeps state that a new one lacks).
  restore(k: KeyframeView): void {
    this.term.dispose();
    this.term = this.open(k.cols, Math.max(k.rows, k.altRows), k.scrollback);
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
    try {
      this.term.write(text, then);
    } catch {
      // xterm refuses writes once far too much waits to be drawn: the next reset or keyframe redraws.
    }
  }
}
