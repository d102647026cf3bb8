// What each event of an SSH session does to the terminal drawn in the page, by the rule the hub's
// keyframes, exports and live mirror follow (common/terminal-channel.ts): the terminal's output is
// written, its resizes replayed; typed input is not drawn (the terminal echoes what it shows),
// other channels (sftp, a second exec) are not drawn. Shared by the live view (TerminalPane) and
// the player. DOM-free.
import type { KeyframeView } from '../../../common/api-contract.ts';
import type { VigilEvent } from '../../../common/events/schema.ts';
import { TerminalChannel as TerminalRule } from '../../../common/terminal-channel.ts';

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
  readonly #rule: TerminalRule;

  constructor(channel: number | null = null) {
    this.#rule = new TerminalRule(channel);
  }

  /** The channel shown, once an event chose it. */
  get channel(): number | null {
    return this.#rule.channel;
  }

  /**
   * What this event does to the terminal, or null (another channel, or nothing drawn). A terminal
   * opens by taking its size; one that first shows itself by printing is already at its size
   * (a new terminal, or a keyframe's).
   */
  opOf(e: VigilEvent): TerminalOp | null {
    const step = this.#rule.read(e);
    if (!step) return null;
    if (step.type === 'open') return { op: 'resize', ...step.size };
    if (step.type === 'output') return { op: 'write', text: step.text };
    return { op: 'resize', cols: step.cols, rows: step.rows };
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
