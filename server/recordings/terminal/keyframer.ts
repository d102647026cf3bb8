// Keyframes of a recorded SSH terminal, so that a player seeks anywhere at once: it restores one
// keyframe and replays the events after it, never the session from its start.
//
// What a keyframe holds: escape sequences (`screen`, and a rarely used `prelude`) that put a
// fresh xterm.js 6 terminal in exactly the state the recording's terminal had after event `seq`.
// Not only the cells (colours of every kind, underline styles, links, wide and combining
// characters, which rows continue the row above) but every hidden state that decides what the
// next output does: pending wrap, margins, origin mode, saved cursors of both buffers, tab stops,
// charsets, all modes, the current attributes and link, the width of the last printed character
// (REP, combining marks), a half-read escape sequence or surrogate pair, title, palette changes,
// and a few xterm quirks (screen-writer.ts lists them all). Restoring it and replaying the events
// after it gives, at every later point, the same terminal as replaying the session from its start:
// same cells and history, cursor, active buffer and hidden state (terminal-state.ts compares
// them; the tests do on long generated sessions, and byte for byte in @xterm/addon-serialize's
// output).
//
// History: a keyframe keeps `historyRows` lines of scrollback, by default all the terminal holds
// (1000, xterm's default), so a player that seeks shows the same history as one that played from
// the start, and a replay can cross a resize (xterm reflows the history when the width changes;
// only the whole history reflows the same). With fewer lines, older ones are blank lines taking
// the same room (scrolling, trimming and DECRC, which keeps an absolute line, behave the same),
// and every resize gets a keyframe, since the blank lines would reflow unlike the real ones.
//
// Where keyframes fall: at the first event once `everyBytes` of output, or `everyMs` of recorded
// time with `minBytes` of output, came since the last one; and after a resize where xterm keeps
// state no keyframe can carry (tab stops of the session's own past the margin, which xterm brings
// back when the terminal widens, and the like: see resize()). Each keyframe is checked before it is
// handed out (a terminal restored from it must equal the keyframer's). The few states no sequence
// can recreate (the cursor past the last column of an empty cell, a line the alternate screen
// kept longer than the screen after narrowing...) do not last: the keyframe waits for a later
// event. A keyframe that cannot wait (at a resize, or after waiting MAX_WAIT times `everyBytes`)
// is made as near as it can be and says what it leaves out in `approximate`; the next resize then
// gets a keyframe, since what it leaves out only shows through one.
//
// Restart: a Keyframer created `from` a stored keyframe (same policy) goes on as the one that
// made it would have: the screen gives it the state, and `hidden` what xterm keeps that no
// sequence recreates (hidden-state.ts). Resume from the last exact keyframe (one without
// `approximate`). Two things it cannot have, which change only where a click on a link goes and
// how a later keyframe draws that: when xterm forgets a link (it tracks the rows the link was
// printed on, a restore registers it on the rows that show it); and, with `historyRows` below the
// scrollback, the history older than that (blank lines, which reflow unlike the real ones at a
// change of width, changing the old history and its line count in later keyframes).
//
// The player uses the same terminal: @xterm/xterm 6.0.0 (the headless build here has the same
// core), default options (no unicode11 addon: character widths are xterm's defaults). For a
// keyframe it creates the terminal `cols` x max(rows, altRows) with `scrollback`, writes `prelude`,
// resizes it to `cols` x `rows` (after the write has been parsed), writes `screen`; then writes
// the outputs and applies the resizes of the terminal channel (terminal-channel.ts) after `seq`.
// restore() below is that recipe.
import { Buffer } from 'node:buffer';
import type { VigilEvent } from '../../../common/events/index.ts';
import { applyHidden, captureHidden, type HiddenState } from './hidden-state.ts';
import { drawScreen } from './screen-writer.ts';
import { DEFAULT_TERMINAL_SIZE, TerminalChannel, type TerminalStep } from './terminal-channel.ts';
import { compareTerminals } from './terminal-state.ts';
import { TERMINAL_SCROLLBACK, VirtualTerminal, clampSize } from './virtual-terminal.ts';

export interface Keyframe {
  /** The last event whose effect the screen shows. */
  seq: number;
  /** That event's time. */
  time: string;
  /** The SSH channel shown (the session's terminal). */
  channel: number;
  cols: number;
  rows: number;
  /** Scrollback capacity of the terminal the screen is drawn for. */
  scrollback: number;
  /**
   * Rows to create that terminal with before resizing it to `rows`: more than `rows` when the
   * terminal lost rows while its alternate screen was not shown (xterm keeps that buffer's room
   * for the larger size; it shows when a program then scrolls there).
   */
  altRows: number;
  /** Written before that resize: the saved cursor of the alternate screen when it is not shown ('' mostly). */
  prelude: string;
  /** Escape sequences that redraw the terminal, with its hidden state, in a fresh xterm of cols x rows. */
  screen: string;
  /** Bytes (UTF-8) of terminal output from the session start up to seq (for the policy). */
  outputBytes: number;
  /**
   * Set on the rare keyframe that could not wait for a state it reproduces exactly: what it
   * leaves out (the screen shown is still right; see the header). Absent on exact keyframes.
   */
  approximate?: string;
  /** For a Keyframer restarted from this keyframe, what no sequence carries (hidden-state.ts); players ignore it. */
  hidden?: HiddenState;
}

export interface KeyframePolicy {
  /** A keyframe once this much output (UTF-8 bytes) came since the last one... */
  everyBytes: number;
  /** ...or this much recorded time passed, whichever first... */
  everyMs: number;
  /** ...with at least this much output (replaying less takes no time; a keyframe would weigh more than it saves). */
  minBytes: number;
  /** Lines of scrollback a keyframe keeps (older ones become blank lines). */
  historyRows: number;
}

/**
 * A keyframe holds the whole history (about 100 KiB for 1000 lines of coloured logs), so one per
 * MiB of output: measured on 30 MB of logs, 16 MB/s at ingest (xterm alone: 22) and keyframes
 * about 10% of the output, against 6 MB/s and 40% with one per 256 KiB. A seek replays at most
 * a MiB (tens of milliseconds in xterm.js).
 */
export const DEFAULT_KEYFRAME_POLICY: KeyframePolicy = { everyBytes: 1024 * 1024, everyMs: 60_000, minBytes: 64 * 1024, historyRows: TERMINAL_SCROLLBACK };

/** After a keyframe had to wait, the next try comes after this much output or recorded time. */
const RETRY_BYTES = 4096;
const RETRY_MS = 1000;
/**
 * A keyframe waits at most this many times `everyBytes` for a state it can reproduce (a program
 * that stays in such a state would make every seek replay everything after the last keyframe);
 * then it is made as near as it can be, and counted in `stats.inexact`.
 */
const MAX_WAIT = 4;
/** feed() lets the event loop run this often on long batches. */
const YIELD_EVERY_MS = 20;

export interface KeyframerStats {
  keyframes: number;
  /** Keyframes made at a resize (only with `historyRows` below the scrollback). */
  resizes: number;
  /** Times a due keyframe waited for a later event (its state could not be reproduced exactly). */
  deferred: number;
  /** Keyframes made although not exact (a resize, or waiting too long): what differs is in `lastProblem`. */
  inexact: number;
  /** Why the last keyframe waited or was inexact. */
  lastProblem: string | null;
}

export class Keyframer {
  private readonly policy: KeyframePolicy;
  private readonly terminal: TerminalChannel;
  private vt: VirtualTerminal | null = null;
  private lastSeq = 0;
  private outputBytes = 0;
  /** The last keyframe (or the terminal's opening): where the policy counts from. */
  private since = { timeMs: 0, outputBytes: 0 };
  /** After a keyframe waited: not before these. */
  private retry: { outputBytes: number; timeMs: number } | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  /** The last keyframe was approximate. */
  private approximate = false;
  readonly stats: KeyframerStats = { keyframes: 0, resizes: 0, deferred: 0, inexact: 0, lastProblem: null };

  constructor(policy: Partial<KeyframePolicy> = {}, from?: Keyframe) {
    this.policy = { ...DEFAULT_KEYFRAME_POLICY, ...policy };
    this.terminal = new TerminalChannel(from?.channel ?? null);
    if (from) {
      this.vt = restore(from);
      applyHidden(this.vt, from.hidden);
      this.lastSeq = from.seq;
      this.outputBytes = from.outputBytes;
      this.since = { timeMs: Date.parse(from.time), outputBytes: from.outputBytes };
      this.approximate = !!from.approximate;
    }
  }

  /** Reads the session's next events (in seq order; ones already read are skipped): the keyframes they make. */
  feed(events: readonly VigilEvent[]): Promise<Keyframe[]> {
    const run = this.queue.then(() => this.run(events));
    this.queue = run.catch(() => undefined);
    return run;
  }

  dispose(): void {
    this.vt?.dispose();
    this.vt = null;
  }

  private async run(events: readonly VigilEvent[]): Promise<Keyframe[]> {
    const out: Keyframe[] = [];
    let slice = Date.now();
    for (const e of events) {
      if (e.seq <= this.lastSeq) continue;
      this.lastSeq = e.seq;
      const step = this.terminal.read(e);
      if (!step) continue;
      const timeMs = Date.parse(e.time);
      if (step.type === 'resize') {
        if (this.resize(this.vt!, step.cols, step.rows)) this.take(e, timeMs, true, out);
      } else {
        if (!this.vt) this.since = { timeMs, outputBytes: this.outputBytes };
        this.vt = apply(this.vt, step);
        if (step.type === 'output') {
          this.outputBytes += Buffer.byteLength(step.text, 'utf8');
          if (this.due(timeMs)) this.take(e, timeMs, false, out);
        }
      }
      if (Date.now() - slice > YIELD_EVERY_MS) {
        await new Promise((resolve) => setImmediate(resolve));
        slice = Date.now();
      }
    }
    return out;
  }

  /**
   * Resizes the terminal: true when a replay must not cross this resize, so a keyframe goes right
   * after it. A replay from a keyframe holding the whole history crosses a resize exactly, unless
   * xterm kept something no keyframe carries and the resize brings it back: tab stops past the
   * margin (a widening puts them back, and with the session's own stops they differ from the
   * defaults), the alternate buffer's saved cursor past the margin or below the screen (kept as
   * it was when the terminal shrank), combined strings past the end of lines (the reflow of a
   * change of width copies them into cells), or what the last, approximate, keyframe left out.
   */
  private resize(vt: VirtualTerminal, cols: number, rows: number): boolean {
    const before = { cols: vt.cols, rows: vt.rows };
    const alt = vt.core._bufferService.buffers.alt;
    const altSaved = { x: vt.activeBuffer === 'normal' ? alt.savedX : 0, y: alt.savedY - alt.ybase };
    const stringsPastEnds = clampSize(cols) !== before.cols && hasStringsPastLineEnds(vt);
    // Only a resize that changes the size does anything (xterm ignores the others).
    if (!vt.resize(cols, rows)) return false;
    const wider = vt.cols > before.cols && (!hasDefaultTabStops(vt) || altSaved.x >= before.cols);
    const taller = vt.rows > before.rows && altSaved.y >= before.rows;
    return this.policy.historyRows < vt.scrollback || stringsPastEnds || wider || taller || this.approximate;
  }

  private due(timeMs: number): boolean {
    const bytes = this.outputBytes - this.since.outputBytes;
    if (bytes < this.policy.everyBytes && (timeMs - this.since.timeMs < this.policy.everyMs || bytes < this.policy.minBytes)) return false;
    return !this.retry || this.outputBytes >= this.retry.outputBytes || timeMs >= this.retry.timeMs;
  }

  private take(e: VigilEvent, timeMs: number, forced: boolean, out: Keyframe[]): void {
    const vt = this.vt!;
    const { prelude, screen, problems } = drawScreen(vt, this.policy.historyRows);
    const keyframe: Keyframe = {
      seq: e.seq,
      time: e.time,
      channel: this.terminal.channel!,
      cols: vt.cols,
      rows: vt.rows,
      scrollback: vt.scrollback,
      altRows: vt.altRows,
      prelude,
      screen,
      outputBytes: this.outputBytes,
    };
    const hidden = captureHidden(vt);
    if (hidden) keyframe.hidden = hidden;
    let problem: string | null = problems[0] ?? null;
    if (!problem) {
      const check = restore(keyframe);
      problem = compareTerminals(vt, check, { rows: this.policy.historyRows + vt.rows });
      check.dispose();
    }
    if (problem) {
      this.stats.lastProblem = `seq ${e.seq}: ${problem}`;
      if (!forced && this.outputBytes - this.since.outputBytes < MAX_WAIT * this.policy.everyBytes) {
        this.stats.deferred++;
        this.retry = { outputBytes: this.outputBytes + RETRY_BYTES, timeMs: timeMs + RETRY_MS };
        return;
      }
      this.stats.inexact++;
      keyframe.approximate = problem;
    }
    out.push(keyframe);
    this.approximate = !!keyframe.approximate;
    this.stats.keyframes++;
    if (forced) this.stats.resizes++;
    this.since = { timeMs, outputBytes: this.outputBytes };
    this.retry = null;
  }
}

/**
 * Whether the tab stops are the default ones (xterm keeps stops past the right margin and brings
 * them back when the terminal widens: with stops of its own, a session gets a keyframe there).
 */
function hasDefaultTabStops(vt: VirtualTerminal): boolean {
  const width = vt.core.optionsService.rawOptions.tabStopWidth;
  for (const buffer of [vt.core._bufferService.buffers.normal, vt.core._bufferService.buffers.alt]) {
    for (let x = 0; x < vt.cols; x++) if (!buffer.tabs[x] !== (x % width !== 0)) return false;
  }
  return true;
}

/**
 * Whether some line keeps combined strings past its end. xterm's reflow leaves them there, and
 * the next reflow (at a change of width) copies them back into cells. No sequence recreates them:
 * a session that has them gets a keyframe at its next change of width (replays do not cross it).
 */
function hasStringsPastLineEnds(vt: VirtualTerminal): boolean {
  const { normal } = vt.core._bufferService.buffers;
  for (let i = 0; i < normal.lines.length; i++) {
    const line = normal.lines.get(i)!;
    for (const key in line._combined) if (Number(key) >= line.length) return true;
  }
  return false;
}

/** A terminal in the state of `keyframe`, made as a player makes it. */
export function restore(keyframe: Keyframe): VirtualTerminal {
  const vt = new VirtualTerminal(keyframe.cols, Math.max(keyframe.rows, keyframe.altRows), keyframe.scrollback);
  vt.write(keyframe.prelude);
  vt.resize(keyframe.cols, keyframe.rows);
  vt.write(keyframe.screen);
  return vt;
}

function apply(vt: VirtualTerminal | null, step: TerminalStep): VirtualTerminal {
  if (step.type === 'open') return vt ?? new VirtualTerminal(step.size.cols, step.size.rows);
  if (step.type === 'output') {
    const term = vt ?? new VirtualTerminal(step.open!.cols, step.open!.rows);
    term.write(step.text);
    return term;
  }
  // A resize before any terminal is impossible (it needs the channel, which opens it).
  vt!.resize(step.cols, step.rows);
  return vt!;
}

/** A session's terminal played forward from a keyframe (or the start): the seek path's engine. */
export class TerminalReplay {
  private readonly terminal: TerminalChannel;
  private vt: VirtualTerminal | null;
  /** The last event read. */
  seq: number;

  constructor(keyframe: Keyframe | null = null) {
    this.terminal = new TerminalChannel(keyframe?.channel ?? null);
    this.vt = keyframe ? restore(keyframe) : null;
    this.seq = keyframe?.seq ?? 0;
  }

  /** Reads the next event (seq order; ones at or before the last read are skipped). */
  apply(e: VigilEvent): void {
    if (e.seq <= this.seq) return;
    this.seq = e.seq;
    const step = this.terminal.read(e);
    if (step) this.vt = apply(this.vt, step);
  }

  /** The terminal (null until the session showed one). */
  get screen(): VirtualTerminal | null {
    return this.vt;
  }

  dispose(): void {
    this.vt?.dispose();
  }
}

/**
 * The seek path: the terminal after event `upToSeq`, from the keyframe at or before it (null:
 * from the session's start) and the session's events after that keyframe, in seq order (others
 * are skipped). Before the session showed a terminal, a blank one of the default size. The caller
 * disposes it.
 */
export async function replayFrom(keyframe: Keyframe | null, events: readonly VigilEvent[], upToSeq: number): Promise<VirtualTerminal> {
  if (keyframe && keyframe.seq > upToSeq) throw new RangeError(`keyframe at seq ${keyframe.seq} is after ${upToSeq}`);
  const replay = new TerminalReplay(keyframe);
  for (const e of events) {
    if (e.seq > upToSeq) break;
    replay.apply(e);
  }
  return replay.screen ?? new VirtualTerminal(DEFAULT_TERMINAL_SIZE.cols, DEFAULT_TERMINAL_SIZE.rows);
}
