// A recorded terminal as asciicast v2 (what `asciinema play` and its web player take): a header
// line with the terminal's size and start time, then one [seconds, code, data] line per output
// ("o") and resize ("r"), timed from the session's start. One terminal per file: the session's
// first channel that showed output or asked for a pty. Typed input is in the JSON export (where
// hidden password answers are marked), not here: players show what the screen showed.
import type { VigilEvent } from '../../../common/events/index.ts';
import { DEFAULT_TERMINAL_SIZE, TerminalChannel } from '../../../common/terminal-channel.ts';

export class AsciicastWriter {
  private startMs: number | null = null;
  private readonly terminal = new TerminalChannel();
  private size: { cols: number; rows: number } = DEFAULT_TERMINAL_SIZE;
  private term: string | undefined;
  private headerWritten = false;
  /** Lines held until the header (which needs the size) can be written. */
  private held: string[] = [];

  constructor(private readonly title: string) {}

  /** The lines (without newlines) this event adds, in order. */
  push(e: VigilEvent): string[] {
    const t = Date.parse(e.time);
    if (e.type === 'session.start') {
      this.startMs = t;
      return [];
    }
    this.startMs ??= t;
    const step = this.terminal.read(e);
    if (step?.type === 'open') {
      this.size = step.size;
      this.term = step.term;
      return this.header();
    }
    if (step?.type === 'output') return this.line(t, 'o', step.text);
    if (step?.type === 'resize') return this.line(t, 'r', `${step.cols}x${step.rows}`);
    return [];
  }

  /** Whatever is still held (a session without any terminal gives a header alone). */
  end(): string[] {
    return this.header();
  }

  private line(t: number, code: 'o' | 'r', data: string): string[] {
    const seconds = Math.max(0, (t - (this.startMs ?? t)) / 1000);
    const text = JSON.stringify([Number(seconds.toFixed(3)), code, data]);
    if (!this.headerWritten) {
      this.held.push(text);
      // Output before any channel said its size: the default size it is.
      return code === 'o' && this.terminal.channel !== null ? this.header() : [];
    }
    return [text];
  }

  private header(): string[] {
    if (this.headerWritten) return [];
    this.headerWritten = true;
    const header = {
      version: 2,
      width: this.size.cols,
      height: this.size.rows,
      timestamp: Math.floor((this.startMs ?? Date.now()) / 1000),
      ...(this.term ? { env: { TERM: this.term } } : {}),
      title: this.title,
    };
    const lines = [JSON.stringify(header), ...this.held];
    this.held = [];
    return lines;
  }
}
