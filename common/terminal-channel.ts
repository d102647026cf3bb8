// Which of an SSH session's channels is "the terminal" that a player, the asciicast export and the
// live mirror show, and at what size it opens. One rule for all of them:
//   - the first channel that asked for a shell or a command (ssh.shell, ssh.exec) is the terminal,
//     at its pty's size (0 or no pty: the default 80x24);
//   - without one, the first channel that printed is, at the default size;
//   - only that channel's output and resizes touch the screen (resizes pass on as recorded).
import type { VigilEvent } from './events/index.ts';

export const DEFAULT_TERMINAL_SIZE = { cols: 80, rows: 24 } as const;

export interface TerminalSize {
  cols: number;
  rows: number;
}

/** What one event does to the terminal. */
export type TerminalStep =
  | { type: 'open'; size: TerminalSize; term?: string }
  /** `open`: this output is the first sign of a terminal, which opens at that size before it. */
  | { type: 'output'; text: string; open?: TerminalSize }
  | { type: 'resize'; cols: number; rows: number };

export class TerminalChannel {
  /** The channel shown, once an event chose it. */
  channel: number | null;

  constructor(channel: number | null = null) {
    this.channel = channel;
  }

  /** Reads the session's next event (in seq order); null when it does not touch the terminal. */
  read(e: VigilEvent): TerminalStep | null {
    // A channel known before its start (the player learns it from the timeline) still opens there.
    if ((e.type === 'ssh.shell' || e.type === 'ssh.exec') && (this.channel === null || this.channel === e.data.channel)) {
      this.channel = e.data.channel;
      const pty = e.data.pty;
      const size = { cols: pty?.cols || DEFAULT_TERMINAL_SIZE.cols, rows: pty?.rows || DEFAULT_TERMINAL_SIZE.rows };
      return pty ? { type: 'open', size, term: pty.term } : { type: 'open', size };
    }
    if (e.type === 'term.output') {
      if (this.channel === null) {
        this.channel = e.data.channel;
        return { type: 'output', text: e.data.text, open: { ...DEFAULT_TERMINAL_SIZE } };
      }
      return e.data.channel === this.channel ? { type: 'output', text: e.data.text } : null;
    }
    if (e.type === 'term.resize' && e.data.channel === this.channel) return { type: 'resize', cols: e.data.cols, rows: e.data.rows };
    return null;
  }
}
