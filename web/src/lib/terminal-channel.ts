// Which of an SSH session's channels is its terminal, and what each event does to that terminal.
// The first shell or exec channel is the terminal (a late start adopts the channel of the first
// output it sees); its output is written, its resizes replayed; typed input is not drawn (the
// terminal echoes what it shows), other channels (sftp, a second exec) are not drawn. Shared by
// the live view (TerminalPane) and the player. DOM-free.
import type { KeyframeView } from '../../../common/api-contract.ts';
import type { VigilEvent } from '../../../common/events/schema.ts';

export type TerminalOp = { op: 'write'; text: string } | { op: 'resize'; cols: number; rows: number };

/** What draws a terminal: xterm.js in the page (lib/inert-terminal.ts), a fake in tests. */
export interface TerminalSink {
  /** A blank terminal, as if new (the size stays until the next resize). */
  reset(): void;
  /**
   * A new terminal in the state of a keyframe (the hub's recipe, KeyframeView): created
   * cols x max(rows, altRows) with its scrollback, the prelude written, resized to cols x rows,
   * the screen written.
   */
  restore(keyframe: KeyframeView): void;
  resize(cols: number, rows: number): void;
  write(text: string): void;
}

export class TerminalChannel {
  constructor(public channel: number | null = null) {}

  /** What this event does to the terminal, or null (another channel, or nothing drawn). */
  opOf(e: VigilEvent): TerminalOp | null {
    if (e.type === 'ssh.shell' || e.type === 'ssh.exec') {
      if (this.channel === null) this.channel = e.data.channel;
      return e.data.channel === this.channel && e.data.pty ? { op: 'resize', cols: e.data.pty.cols, rows: e.data.pty.rows } : null;
    }
    if (e.type === 'term.output' && (this.channel ?? e.data.channel) === e.data.channel) {
      this.channel = e.data.channel;
      return { op: 'write', text: e.data.text };
    }
    if (e.type === 'term.resize' && e.data.channel === this.channel) return { op: 'resize', cols: e.data.cols, rows: e.data.rows };
    return null;
  }

  /** Draws the event on the sink; returns whether it drew anything. */
  draw(e: VigilEvent, sink: TerminalSink): boolean {
    const op = this.opOf(e);
    if (!op) return false;
    if (op.op === 'write') sink.write(op.text);
    else sink.resize(op.cols, op.rows);
    return true;
  }
}

/** Whether an event makes the session a terminal session. */
export const isTerminalEvent = (e: VigilEvent): boolean => e.type === 'ssh.shell' || e.type === 'ssh.exec' || e.type === 'term.output';
