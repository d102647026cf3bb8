// Splits terminal text into what a person reads and what drives the terminal: runs of printable
// characters, C0 controls (CR, LF, BS, ...), and escape sequences (ECMA-48 as xterm parses them:
// CSI `ESC [ params final`, SS3 `ESC O x`, two-character `ESC x`, and the string sequences OSC, DCS,
// SOS, PM and APC up to BEL or ST). A sequence split between two events is still one sequence: the
// scanner's state is carried from call to call, and it is small and plain (it goes into a snapshot).
import { z } from 'zod';

export const VtScanState = z.object({
  /** ground: text; esc: after ESC; inter: ESC and intermediates; csi; ss3: after ESC O;
   * string: inside OSC/DCS/SOS/PM/APC; stringEsc: an ESC inside one (ST is ESC \). */
  mode: z.enum(['ground', 'esc', 'inter', 'csi', 'ss3', 'string', 'stringEsc']),
  /** A CSI's parameter and intermediate characters so far (bounded). */
  params: z.string().max(64),
});
export type VtScanState = z.infer<typeof VtScanState>;

export const newVtScanState = (): VtScanState => ({ mode: 'ground', params: '' });

export type VtSequenceKind = 'csi' | 'ss3' | 'esc';

export interface VtSink {
  /** A run of printable characters (nothing below U+0020, no DEL, no C1 control). */
  text(run: string): void;
  /** A C0 control or DEL (0x7f): CR, LF, BS, TAB, Ctrl-C, ... */
  control(code: number): void;
  /** A complete escape sequence; string sequences (OSC, DCS, ...) are consumed silently. */
  sequence(kind: VtSequenceKind, params: string, final: string): void;
}

const ESC = 0x1b;
const BEL = 0x07;
const CAN = 0x18;
const SUB = 0x1a;
const DEL = 0x7f;
/** C1 controls as Unicode code points (a program that wrote them UTF-8 encoded). */
const C1_CSI = 0x9b;
const C1_ST = 0x9c;
const C1_STRINGS = new Set([0x90, 0x98, 0x9d, 0x9e, 0x9f]); // DCS, SOS, OSC, PM, APC
const MAX_PARAMS = 64;

const isPrintable = (c: number) => c >= 0x20 && c !== DEL && (c < 0x80 || c > 0x9f);

/** Feeds text through the scanner, updating state in place and calling the sink in order. */
export function scanVt(state: VtScanState, input: string, sink: VtSink): void {
  let i = 0;
  const n = input.length;
  while (i < n) {
    if (state.mode === 'ground') {
      // The common case: a run of plain text, handed over as one slice.
      let j = i;
      while (j < n && isPrintable(input.charCodeAt(j))) j++;
      if (j > i) {
        sink.text(input.slice(i, j));
        i = j;
        continue;
      }
      const c = input.charCodeAt(i++);
      if (c === ESC) state.mode = 'esc';
      else if (c === C1_CSI) enter(state, 'csi');
      else if (C1_STRINGS.has(c)) state.mode = 'string';
      else if (c < 0x20 || c === DEL) sink.control(c);
      // Other C1 controls do nothing visible.
      continue;
    }
    const c = input.charCodeAt(i++);
    switch (state.mode) {
      case 'esc':
        if (c === 0x5b) enter(state, 'csi'); // [
        else if (c === 0x4f) state.mode = 'ss3'; // O
        else if (c === 0x5d || c === 0x50 || c === 0x58 || c === 0x5e || c === 0x5f) state.mode = 'string'; // ] P X ^ _
        else if (c >= 0x20 && c <= 0x2f) enter(state, 'inter', String.fromCharCode(c));
        else if (c === ESC) state.mode = 'esc';
        else if (c === CAN || c === SUB) state.mode = 'ground';
        else if (c < 0x20) sink.control(c); // executed inside a sequence, as terminals do
        else {
          state.mode = 'ground';
          if (c < 0x7f) sink.sequence('esc', '', String.fromCharCode(c));
          else i--; // not a sequence after all: the character is text
        }
        break;
      case 'inter':
        if (c >= 0x20 && c <= 0x2f) addParam(state, c);
        else if (c >= 0x30 && c <= 0x7e) {
          const params = state.params;
          reset(state);
          sink.sequence('esc', params, String.fromCharCode(c));
        } else abort(state, c, sink);
        break;
      case 'csi':
        if (c >= 0x20 && c <= 0x3f) addParam(state, c);
        else if (c >= 0x40 && c <= 0x7e) {
          const params = state.params;
          reset(state);
          sink.sequence('csi', params, String.fromCharCode(c));
        } else if (c === ESC) reset(state, 'esc');
        else if (c === CAN || c === SUB) reset(state);
        else if (c < 0x20) sink.control(c);
        else {
          reset(state);
          i--;
        }
        break;
      case 'ss3':
        if (c >= 0x20 && c <= 0x7e) {
          reset(state);
          sink.sequence('ss3', '', String.fromCharCode(c));
        } else abort(state, c, sink);
        break;
      case 'string':
        if (c === BEL || c === C1_ST || c === CAN || c === SUB) state.mode = 'ground';
        else if (c === ESC) state.mode = 'stringEsc';
        break;
      case 'stringEsc':
        // ESC \ is ST; any other ESC x ends the string too and starts a new sequence (xterm).
        if (c === 0x5c) state.mode = 'ground';
        else {
          state.mode = 'esc';
          i--;
        }
        break;
    }
  }
}

function enter(state: VtScanState, mode: VtScanState['mode'], params = ''): void {
  state.mode = mode;
  state.params = params;
}

function reset(state: VtScanState, mode: VtScanState['mode'] = 'ground'): void {
  state.mode = mode;
  state.params = '';
}

function addParam(state: VtScanState, c: number): void {
  if (state.params.length < MAX_PARAMS) state.params += String.fromCharCode(c);
}

/** A character that cannot continue the sequence: the sequence is dropped, the character kept. */
function abort(state: VtScanState, c: number, sink: VtSink): void {
  reset(state);
  if (c === ESC) state.mode = 'esc';
  else if (c < 0x20 || c === DEL) {
    if (c !== CAN && c !== SUB) sink.control(c);
  } else if (isPrintable(c)) sink.text(String.fromCharCode(c));
}
