// State xterm keeps that no escape sequence recreates and that only a later resize brings back
// into view: tab stops past the right margin, combined strings past the end of lines (left there
// by a reflow), and the alternate buffer's saved cursor past its margin or below its screen. A
// keyframe cannot give these to a player, and need not (at a resize that would bring them back
// the keyframer checks the seek, and makes a keyframe if it went wrong); but a Keyframer restarted
// from a keyframe must hold them to go on as the first one would have. So a keyframe carries them
// as data, and a restarted Keyframer puts them back (players ignore them).
import type { VirtualTerminal, XtermBuffer } from './virtual-terminal.ts';

export interface HiddenState {
  /** Tab stops at or past the right margin: normal buffer, alternate buffer. */
  tabs?: [number[], number[]];
  /** Combined strings past the end of normal-buffer lines: [line, column, string]. */
  strings?: [number, number, string][];
  /** The alternate buffer's saved cursor, when it is past the margin or below the screen. */
  altSaved?: [number, number];
}

/** What `vt` holds of it (undefined when nothing). */
export function captureHidden(vt: VirtualTerminal): HiddenState | undefined {
  const { normal, alt } = vt.core._bufferService.buffers;
  const hidden: HiddenState = {};
  const beyond = (b: XtermBuffer) => Object.keys(b.tabs).map(Number).filter((x) => x >= vt.cols && b.tabs[x]).sort((p, q) => p - q);
  const tabs: [number[], number[]] = [beyond(normal), beyond(alt)];
  if (tabs[0].length || tabs[1].length) hidden.tabs = tabs;
  const strings: [number, number, string][] = [];
  for (let i = 0; i < normal.lines.length; i++) {
    const line = normal.lines.get(i)!;
    for (const key in line._combined) if (Number(key) >= line.length) strings.push([i, Number(key), line._combined[Number(key)]]);
  }
  if (strings.length) hidden.strings = strings;
  if (alt.savedX >= vt.cols || alt.savedY - alt.ybase >= vt.rows) hidden.altSaved = [alt.savedX, alt.savedY];
  return Object.keys(hidden).length ? hidden : undefined;
}

/** Puts it back into `vt` (restored from the keyframe that carried it). */
export function applyHidden(vt: VirtualTerminal, hidden: HiddenState | undefined): void {
  if (!hidden) return;
  const { normal, alt } = vt.core._bufferService.buffers;
  if (hidden.tabs) {
    for (const x of hidden.tabs[0]) normal.tabs[x] = true;
    for (const x of hidden.tabs[1]) alt.tabs[x] = true;
  }
  for (const [i, x, text] of hidden.strings ?? []) {
    const line = normal.lines.get(i);
    if (line) line._combined[x] = text;
  }
  if (hidden.altSaved) [alt.savedX, alt.savedY] = hidden.altSaved;
}
