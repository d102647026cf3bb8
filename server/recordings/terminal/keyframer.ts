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
// and a few xterm quirks (screen-writer.ts lists them all).
//
// What holds, at every event of a session: restoring the last keyframe at or before it and
// replaying the events after it (replayFrom) gives
//  - from an exact keyframe (no `approximate`), the terminal played from the start: same cells
//    and history, cursor, active buffer and hidden state (terminal-state.ts compareTerminals),
//    and so byte for byte the same @xterm/addon-serialize output. (Past a resize it was checked
//    across, the combined strings xterm keeps for overwritten cells may differ: only the reflow
//    of a change of width reads them, and the seek is checked again there.)
//  - from an approximate one, the same screen (compareScreens: size, buffer shown, cursor, each
//    row's cells up to the right margin with their attributes); its hidden state, and so its
//    serialize() output, may differ.
// The keyframer makes sure of it. Each keyframe is checked when made (a terminal restored from it
// must equal the keyframer's or, approximate, show the same screen); and beside its own terminal
// it keeps what a seek from its last keyframe gets wherever that could go wrong (from an
// approximate keyframe, at every event; from an exact one, at the resizes where xterm brings back
// state no keyframe carries), to make a keyframe where it would stop holding. The tests check it
// on long generated sessions, at every keyframe and between them. It holds but for the terminals
// no sequence can draw (see Limits below).
//
// History: a keyframe keeps `historyRows` lines of scrollback, by default all the terminal holds
// (1000, xterm's default), so a player that seeks shows the same history as one that played from
// the start, and a replay can cross a resize (xterm reflows the history when the width changes;
// only the whole history reflows the same). With fewer lines, older ones are blank lines taking
// the same room (scrolling, trimming and DECRC, which keeps an absolute line, behave the same),
// which reflow unlike the real ones: every resize is then checked, as below.
//
// Where keyframes fall:
//  - Due: at the first event once `everyBytes` of output, or `everyMs` of recorded time with
//    `minBytes` of output, came since the last keyframe, when it is exact (a terminal restored
//    from it equals the keyframer's). The states no sequence recreates (the cursor past the last
//    column of an empty cell, a line the alternate screen kept longer than the screen after
//    narrowing, a charset in use that is neither the designated one nor the saved one...) make it
//    wait for a later event, twice as long each time: a program can stay in one for long, seeks
//    then replay more. Only a keyframe that draws a link xterm dropped as a link to nowhere (all
//    else equal) is made after waiting MAX_WAIT times `everyBytes`, approximate.
//  - At a resize where xterm keeps state no keyframe carries (tab stops past the margin, combined
//    strings left past the end of lines, the alternate screen's saved cursor below it: see
//    resize()), which a replay across it may not get right: the seek is compared with the
//    terminal, hidden state included, and a keyframe made only if it differs. Until then the seek
//    from an exact keyframe is the keyframer's own terminal, so its events are only held; as
//    replaying them costs more than a keyframe, the first such resize tries an exact keyframe
//    before. Once replayed, the seek is compared at every resize.
//  - Where the seek from an approximate keyframe stops showing the right screen (it is replayed
//    beside the terminal, its screen compared after each event): a resize or a deletion showed
//    the part of a long line it left out, a charset it could not set printed... The keyframe made
//    there is exact, or approximate showing the right screen.
//
// Limits. A few terminals are beyond any sequence in the recipe below: a wide character cut by
// the right margin on a line the alternate screen kept longer than the screen, the alternate
// buffer scrolled past its lines (an xterm quirk after a resize)... Where the seek goes wrong and
// the keyframe there could not show the screen right either:
//  - the seek from an exact keyframe that differs only in state neither shown nor serialized (tab
//    stops, a saved cursor...) is kept, checked on its screen after every event as an approximate
//    keyframe's is, and on its serialize() output at each resize (`stats.degraded`);
//  - else seeks show a wrong screen until a later try, made as a due keyframe that waits, gives a
//    keyframe that shows it right (`stats.lost`). So do states whose defect shows at every event:
//    after MAX_CHAIN approximate keyframes in a row, the next tries wait the same way.
// In the generated sessions of the tests, nothing is lost.
//
// Restart: a Keyframer created `from` a stored keyframe (same policy) goes on as the one that
// made it would have: the screen gives it the state, and `hidden` what xterm keeps that no
// sequence recreates (hidden-state.ts). Resume from the last exact keyframe (one without
// `approximate`): the seek from it is the terminal itself, so the checks decide the same. Two
// things it cannot have, which change only where a click on a link goes and how a later keyframe
// draws that: when xterm forgets a link (it tracks the rows the link was printed on, a restore
// registers it on the rows that show it); and, with `historyRows` below the scrollback, the
// history older than that (blank lines, which reflow unlike the real ones at a change of width,
// changing the old history and its line count in later keyframes).
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
import { DEFAULT_TERMINAL_SIZE, TerminalChannel, type TerminalStep } from '../../../common/terminal-channel.ts';
import { compareScreens, compareTerminals } from './terminal-state.ts';
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
   * Set on the rare keyframe that could not be exact: what it leaves out. A seek from it shows the
   * right screen, there and up to the next keyframe (the keyframer checks it), but its hidden
   * state, and so its serialize() output, may differ (see the header). Absent on exact keyframes.
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

/**
 * After a keyframe had to wait, the next try comes after this much output or recorded time,
 * twice as much after each further wait, up to the policy's own interval (a program can stay for
 * hours in a state no keyframe reproduces, and each try draws the whole terminal).
 */
const RETRY_BYTES = 4096;
const RETRY_MS = 1000;
/**
 * A due keyframe that draws something no comparison sees (a link xterm dropped, drawn as a link to
 * nowhere) waits at most this many times `everyBytes` for an exact state; then it is made, with
 * `approximate` saying what it draws differently.
 */
const MAX_WAIT = 4;
/**
 * Approximate keyframes made one after the other because the seek from the last one went wrong:
 * past this many (a state whose defect shows at every event would want one per event), the next
 * tries wait as a due keyframe does.
 */
const MAX_CHAIN = 8;
/**
 * The seek from an exact keyframe is replayed beside the keyframer's terminal only once a resize
 * needs checking; until then its events are held, up to this many times `everyBytes`.
 */
const HOLD_WAIT = 4;
/** feed() lets the event loop run this often on long batches. */
const YIELD_EVERY_MS = 20;

export interface KeyframerStats {
  keyframes: number;
  /** Keyframes made at a resize. */
  resizes: number;
  /** Times a keyframe waited for a later event (its state could not be reproduced exactly). */
  deferred: number;
  /** Keyframes made although not exact: what differs is in `lastProblem`. */
  inexact: number;
  /** Resizes where the seek from an exact keyframe was compared with the terminal and found right (no keyframe needed). */
  crossed: number;
  /** Keyframes made because the seek from the last one went wrong (its state after a resize, or the screen of an approximate one). */
  diverged: number;
  /**
   * Resizes after which the seek from an exact keyframe differed in state (not in what it shows
   * or serializes) and no keyframe could show the screen: from there it is checked on its screen.
   */
  degraded: number;
  /**
   * Times the seek went wrong and no keyframe could set it right (a screen no sequence draws, or
   * too many in a row): seeks show a wrong screen until a later try makes one. See the header.
   */
  lost: number;
  /** Why the last keyframe waited or was inexact. */
  lastProblem: string | null;
}

/** A keyframe drawn, with the terminal a player restores from it. */
interface Draft {
  keyframe: Keyframe;
  check: TerminalReplay;
  /** What the writer could not carry, else what differs in the restored terminal: null when exact. */
  problem: string | null;
  /** The restored terminal equals the keyframer's (what the writer could not carry, the comparison lets pass). */
  follows: boolean;
  /** The restored terminal shows what the keyframer's shows. */
  showsRight: boolean;
}

/** Why a keyframe is tried: the policy, a resize a replay may not cross, a seek gone wrong (or still wrong). */
type Reason = 'due' | 'resize' | 'diverged' | 'repair';

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
  /** Waits since the last exact keyframe (the next one is twice as long). */
  private waits = 0;
  /** Approximate keyframes since the last exact one. */
  private chain = 0;
  /** What a seek after the last keyframe gets (null before the first: a seek then plays from the start). */
  private seek: SeekCheck | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  readonly stats: KeyframerStats = { keyframes: 0, resizes: 0, deferred: 0, inexact: 0, crossed: 0, diverged: 0, degraded: 0, lost: 0, lastProblem: null };

  constructor(policy: Partial<KeyframePolicy> = {}, from?: Keyframe) {
    this.policy = { ...DEFAULT_KEYFRAME_POLICY, ...policy };
    this.terminal = new TerminalChannel(from?.channel ?? null);
    if (from) {
      this.vt = restore(from);
      applyHidden(this.vt, from.hidden);
      this.lastSeq = from.seq;
      this.outputBytes = from.outputBytes;
      this.since = { timeMs: Date.parse(from.time), outputBytes: from.outputBytes };
      this.seek = new SeekCheck(from, from.approximate === undefined ? 'state' : 'screen', this.policy, from.approximate === undefined);
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
    this.seek?.dispose();
    this.seek = null;
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
      this.seek?.read(e);
      if (step.type === 'resize') this.resized(e, timeMs, step.cols, step.rows, out);
      else {
        if (!this.vt) this.since = { timeMs, outputBytes: this.outputBytes };
        this.vt = apply(this.vt, step);
        if (step.type === 'output') this.outputBytes += Buffer.byteLength(step.text, 'utf8');
        if (this.seek?.mode === 'screen' && !this.seek.showsRight(this.vt)) this.take(e, timeMs, 'diverged', out);
        else if (step.type === 'output' && this.due(timeMs)) this.take(e, timeMs, this.seek?.mode === 'lost' ? 'repair' : 'due', out);
      }
      if (Date.now() - slice > YIELD_EVERY_MS) {
        await new Promise((resolve) => setImmediate(resolve));
        slice = Date.now();
      }
    }
    return out;
  }

  /**
   * After a resize: a keyframe when the seek from the last one is not right across it. Where
   * xterm keeps state no keyframe carries (see resize()), the seek from an exact keyframe is
   * replayed and compared with the terminal (once replayed, at every resize after), and only when
   * it differs is a keyframe made. The first time, an exact keyframe is tried first: it costs less
   * than replaying the seek. The seek from an approximate keyframe is checked on its screen, as
   * after any event, and there too an exact keyframe is tried first (to be exact again).
   */
  private resized(e: VigilEvent, timeMs: number, cols: number, rows: number, out: Keyframe[]): void {
    const vt = this.vt!;
    const uncertain = this.resize(vt, cols, rows);
    if (uncertain === null) return;
    const seek = this.seek;
    if (uncertain && !seek?.replaying && this.take(e, timeMs, 'resize', out)) return;
    if (!seek || seek.mode === 'lost') return; // Before any keyframe a seek plays from the start: the same terminal.
    if (seek.mode === 'screen') {
      if (uncertain && this.take(e, timeMs, 'resize', out)) return;
      if (!seek.showsRight(vt) || (seek.exact && !seek.serializesRight(vt))) this.take(e, timeMs, 'diverged', out);
      return;
    }
    if (!uncertain && !seek.replaying) return;
    if (seek.differs(vt, this.policy.historyRows + vt.rows)) this.take(e, timeMs, 'diverged', out);
    else this.stats.crossed++;
  }

  /**
   * Resizes the terminal: null when the size did not change (xterm ignores such a resize), true
   * when a replay from an exact keyframe may not cross it. It crosses exactly when the keyframe
   * holds the whole history, unless xterm kept something no keyframe carries and the resize
   * brings it back: tab stops past the margin (a widening puts them back, and with the session's
   * own stops they differ from the defaults), the alternate buffer's saved cursor past the margin
   * or below the screen (kept as it was when the terminal shrank), combined strings past the end
   * of lines (the reflow of a change of width copies them into cells).
   */
  private resize(vt: VirtualTerminal, cols: number, rows: number): boolean | null {
    const before = { cols: vt.cols, rows: vt.rows };
    const alt = vt.core._bufferService.buffers.alt;
    const altSaved = { x: vt.activeBuffer === 'normal' ? alt.savedX : 0, y: alt.savedY - alt.ybase };
    const stringsPastEnds = clampSize(cols) !== before.cols && hasStringsPastLineEnds(vt);
    if (!vt.resize(cols, rows)) return null;
    const wider = vt.cols > before.cols && (!hasDefaultTabStops(vt) || altSaved.x >= before.cols);
    const taller = vt.rows > before.rows && altSaved.y >= before.rows;
    return this.policy.historyRows < vt.scrollback || stringsPastEnds || wider || taller;
  }

  private due(timeMs: number): boolean {
    const retried = !this.retry || this.outputBytes >= this.retry.outputBytes || timeMs >= this.retry.timeMs;
    if (this.seek?.mode === 'lost') return retried;
    const bytes = this.outputBytes - this.since.outputBytes;
    if (bytes < this.policy.everyBytes && (timeMs - this.since.timeMs < this.policy.everyMs || bytes < this.policy.minBytes)) return false;
    return retried;
  }

  /**
   * Tries a keyframe at e: true when made. An exact one always is. Else: one that draws only a
   * link differently (it `follows`) at a resize, or once a due one waited MAX_WAIT; one that
   * shows the screen right when the seek went wrong (MAX_CHAIN in a row at most). A due one waits
   * for a later event, one at a resize leaves it to the seek's check. When the seek went wrong and
   * no keyframe can set it right, it is lost until a later try (as a due keyframe waits).
   */
  private take(e: VigilEvent, timeMs: number, reason: Reason, out: Keyframe[]): boolean {
    const { keyframe, check, problem, follows, showsRight } = this.draft(e);
    if (problem) {
      this.stats.lastProblem = `seq ${e.seq}: ${problem}`;
      const waited = this.outputBytes - this.since.outputBytes >= MAX_WAIT * this.policy.everyBytes;
      const made = follows
        ? reason !== 'due' || waited
        : showsRight && (reason === 'repair' || (reason === 'diverged' && this.chain < MAX_CHAIN));
      if (!made) {
        check.dispose();
        if (reason === 'due' || reason === 'repair') this.wait(timeMs);
        else if (reason === 'diverged') this.lose(timeMs);
        return false;
      }
      this.stats.inexact++;
      keyframe.approximate = problem;
    }
    out.push(keyframe);
    this.stats.keyframes++;
    if (reason === 'diverged') this.stats.diverged++;
    if (e.type === 'term.resize') this.stats.resizes++;
    this.since = { timeMs, outputBytes: this.outputBytes };
    this.retry = null;
    if (follows) {
      this.waits = 0;
      this.chain = 0;
    } else this.chain++;
    this.seek?.dispose();
    // From an exact keyframe (or one that follows) the seek is the keyframer's terminal until a
    // resize: its replay waits until one needs checking. From an approximate one it runs now.
    this.seek = new SeekCheck(keyframe, follows ? 'state' : 'screen', this.policy, problem === null, follows ? null : check);
    if (follows) check.dispose();
    return true;
  }

  /**
   * The seek went wrong and no keyframe here sets it right. The seek from an exact keyframe whose
   * state went wrong at a resize may still show the same screen and serialize to the same bytes
   * (what differs is hidden: tab stops, a saved cursor...): it is then checked on its screen after
   * every event, as an approximate keyframe's, and serialized again at each resize. Else it is
   * lost, and tries come as for a due keyframe that waits.
   */
  private lose(timeMs: number): void {
    const seek = this.seek!;
    const vt = this.vt!;
    if (seek.mode === 'state' && seek.showsRight(vt) && seek.serializesRight(vt)) {
      seek.mode = 'screen';
      this.stats.degraded++;
      return;
    }
    seek.lose();
    this.stats.lost++;
    this.wait(timeMs);
  }

  private draft(e: VigilEvent): Draft {
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
    const check = new TerminalReplay(keyframe);
    const diff = compareTerminals(vt, check.screen!, { rows: this.policy.historyRows + vt.rows });
    return {
      keyframe,
      check,
      problem: problems[0] ?? diff,
      follows: diff === null,
      showsRight: diff === null || compareScreens(vt, check.screen!) === null,
    };
  }

  private wait(timeMs: number): void {
    this.stats.deferred++;
    const factor = 2 ** Math.min(this.waits++, 20);
    const bytes = Math.min(RETRY_BYTES * factor, Math.max(RETRY_BYTES, this.policy.everyBytes));
    const ms = Math.min(RETRY_MS * factor, Math.max(RETRY_MS, this.policy.everyMs));
    this.retry = { outputBytes: this.outputBytes + bytes, timeMs: timeMs + ms };
  }
}

/**
 * What a seek after a keyframe gets (the keyframe restored as a player restores it, then the
 * session's events after it), and how far it is known to be right:
 *  - `state`: from an exact keyframe, the keyframer's terminal but for state only a resize shows
 *    (see Keyframer.resize()); its events are held, and replayed once a resize needs checking
 *    (or too many are held), then compared with the terminal at every resize;
 *  - `screen`: from an approximate keyframe, replayed as the events come, its screen checked
 *    after each;
 *  - `lost`: wrong, until a keyframe sets it right.
 */
class SeekCheck {
  private held: VigilEvent[] = [];
  private heldBytes = 0;
  private readonly holdBytes: number;
  private replay: TerminalReplay | null;

  constructor(
    private readonly keyframe: Keyframe,
    public mode: 'state' | 'screen' | 'lost',
    policy: KeyframePolicy,
    /** The keyframe is exact (a seek from it must serialize as the session does). */
    readonly exact: boolean,
    replay: TerminalReplay | null = null,
  ) {
    this.holdBytes = HOLD_WAIT * policy.everyBytes;
    this.replay = replay ?? (mode === 'screen' ? new TerminalReplay(keyframe) : null);
  }

  /** Whether the seek is replayed already (it then is at every event until the next keyframe). */
  get replaying(): boolean {
    return this.replay !== null;
  }

  /** The session's next event that touches the terminal. */
  read(e: VigilEvent): void {
    if (this.mode === 'lost') return;
    if (this.replay) {
      this.replay.apply(e);
      return;
    }
    this.held.push(e);
    if (e.type === 'term.output') this.heldBytes += e.data.text.length;
    if (this.heldBytes > this.holdBytes) this.screen();
  }

  /** Shows what `vt` shows (compareScreens). */
  showsRight(vt: VirtualTerminal): boolean {
    return compareScreens(vt, this.screen()) === null;
  }

  /** Serializes (@xterm/addon-serialize, the whole history) to what `vt` does. */
  serializesRight(vt: VirtualTerminal): boolean {
    return this.screen().serialize(vt.scrollback) === vt.serialize(vt.scrollback);
  }

  /**
   * What differs from `vt` in the last `rows` lines and all the rest of the state but the
   * combined strings overwritten cells keep (only a change of width reads them, and the seek is
   * compared again there); null when nothing.
   */
  differs(vt: VirtualTerminal, rows: number): string | null {
    return compareTerminals(vt, this.screen(), { rows, staleStrings: false });
  }

  /** Wrong from here: nothing more to replay or check. */
  lose(): void {
    this.dispose();
    this.mode = 'lost';
  }

  dispose(): void {
    this.replay?.dispose();
    this.replay = null;
    this.held = [];
  }

  private screen(): VirtualTerminal {
    if (!this.replay) {
      this.replay = new TerminalReplay(this.keyframe);
      for (const e of this.held) this.replay.apply(e);
      this.held = [];
    }
    return this.replay.screen!;
  }
}

/**
 * Whether the tab stops are the default ones (xterm keeps stops past the right margin and brings
 * them back when the terminal widens: with stops of its own, a session's seek is checked there).
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
 * a session that has them gets its seek checked at its next change of width.
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
