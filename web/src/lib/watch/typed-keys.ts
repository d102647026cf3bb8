// What a user typed at a terminal (term.input text), read as keys a reviewer recognises: Enter is
// ⏎, arrows are arrows, Ctrl-C is ^C, printable text stays text. What the user's terminal answers
// by itself to the programs' queries (cursor position, device attributes, focus, colours: the
// user typed none of it) is left out. A sequence cut between two events is read whole: the reader
// keeps the start of an unfinished one for the next event.

export type KeyToken =
  | { kind: 'text'; text: string }
  /** A key: `label` is shown (⏎, ↑, ^C), `name` is what a screen reader says (Enter, Up, Ctrl-C). */
  | { kind: 'key'; label: string; name: string; ends?: boolean }
  /** A bracketed paste's start or end (what was pasted is between them, as text and keys). */
  | { kind: 'paste'; label: string; name: string };

const ENTER: KeyToken = { kind: 'key', label: '⏎', name: 'Enter', ends: true };
const ESC = '\x1b';
/** An unfinished sequence held for the next event is at most this long (then it was not one). */
const PENDING_MAX = 512;

const ARROWS: Record<string, [string, string]> = { A: ['↑', 'Up'], B: ['↓', 'Down'], C: ['→', 'Right'], D: ['←', 'Left'], H: ['Home', 'Home'], F: ['End', 'End'] };
const SS3_KEYS: Record<string, [string, string]> = { ...ARROWS, P: ['F1', 'F1'], Q: ['F2', 'F2'], R: ['F3', 'F3'], S: ['F4', 'F4'] };
/** `ESC [ n ~` keys. */
const TILDE_KEYS: Record<string, [string, string]> = {
  1: ['Home', 'Home'], 2: ['Ins', 'Insert'], 3: ['⌦', 'Delete'], 4: ['End', 'End'], 5: ['PgUp', 'Page Up'], 6: ['PgDn', 'Page Down'],
  7: ['Home', 'Home'], 8: ['End', 'End'], 15: ['F5', 'F5'], 17: ['F6', 'F6'], 18: ['F7', 'F7'], 19: ['F8', 'F8'], 20: ['F9', 'F9'],
  21: ['F10', 'F10'], 23: ['F11', 'F11'], 24: ['F12', 'F12'],
};
/** xterm's modifier parameter (`ESC [ 1 ; 5 C` is Ctrl-Right) as a prefix. */
const MODIFIERS: Record<string, [string, string]> = {
  2: ['⇧', 'Shift-'], 3: ['⌥', 'Alt-'], 4: ['⇧⌥', 'Shift-Alt-'], 5: ['^', 'Ctrl-'], 6: ['⇧^', 'Shift-Ctrl-'], 7: ['⌥^', 'Alt-Ctrl-'], 8: ['⇧⌥^', 'Shift-Alt-Ctrl-'],
};

const key = (label: string, name: string, ends = false): KeyToken => (ends ? { kind: 'key', label, name, ends } : { kind: 'key', label, name });

/** A control character (below 0x20, or DEL) as a key. */
function controlKey(code: number): KeyToken {
  if (code === 0x0d || code === 0x0a) return ENTER;
  if (code === 0x09) return key('⇥', 'Tab');
  if (code === 0x7f || code === 0x08) return key('⌫', 'Backspace');
  if (code === 0x1b) return key('⎋', 'Escape');
  const letter = String.fromCharCode(code + 0x40); // 0x03 is ^C, 0x00 is ^@, 0x1f is ^_
  // Ctrl-C and Ctrl-D end what was typed on the line (as the agent records it).
  return key(`^${letter}`, `Ctrl-${letter}`, code === 0x03 || code === 0x04);
}

type Read = { tokens: KeyToken[]; next: number } | 'unfinished';

/** Reads the keys out of term.input text, event after event (one reader per terminal channel). */
export class KeyReader {
  #pending = '';
  /** Inside a bracketed paste: its Enter keys are pasted text, not the end of a typed line. */
  pasting = false;

  read(input: string): KeyToken[] {
    const text = this.#pending + input;
    this.#pending = '';
    const out: KeyToken[] = [];
    let i = 0;
    while (i < text.length) {
      const code = text.charCodeAt(i);
      if (code === 0x1b) {
        const seq = this.#escape(text, i);
        if (seq === 'unfinished') {
          const rest = text.slice(i);
          // Held for the next event, unless it cannot be the start of one sequence any more.
          if (rest.length <= PENDING_MAX) this.#pending = rest;
          break;
        }
        out.push(...seq.tokens);
        i = seq.next;
      } else if (code < 0x20 || code === 0x7f) {
        // \r\n is one Enter.
        if (code === 0x0d && text.charCodeAt(i + 1) === 0x0a) i++;
        const k = controlKey(code);
        out.push(this.pasting && k.kind === 'key' && k.ends ? { ...k, ends: undefined } : k);
        i++;
      } else {
        let j = i + 1;
        while (j < text.length) {
          const c = text.charCodeAt(j);
          if (c < 0x20 || c === 0x7f) break;
          j++;
        }
        out.push({ kind: 'text', text: text.slice(i, j) });
        i = j;
      }
    }
    return merged(out);
  }

  /** The sequence that starts with the ESC at `at`. */
  #escape(text: string, at: number): Read {
    const next = text[at + 1];
    // ESC at the end of what was typed: the Escape key (a sequence comes in one write).
    if (next === undefined) return { tokens: [controlKey(0x1b)], next: at + 1 };
    if (next === '[') return this.#csi(text, at);
    if (next === 'O') {
      const final = text[at + 2];
      if (final === undefined) return 'unfinished';
      const [label, name] = final === 'M' ? ['⏎', 'Enter'] : (SS3_KEYS[final] ?? [final, `keypad ${final}`]);
      return { tokens: [final === 'M' ? ENTER : key(label, name)], next: at + 3 };
    }
    // OSC, DCS, SOS, PM, APC: strings the terminal sends (colour answers, version reports), up to BEL or ST.
    if (next === ']' || next === 'P' || next === 'X' || next === '^' || next === '_') {
      for (let k = at + 2; k < text.length; k++) {
        if (text[k] === '\x07') return { tokens: [], next: k + 1 };
        if (text[k] === ESC && text[k + 1] === '\\') return { tokens: [], next: k + 2 };
        if (text[k] === ESC && k + 1 >= text.length) return 'unfinished';
      }
      return 'unfinished';
    }
    if (next === ESC) return { tokens: [controlKey(0x1b)], next: at + 1 };
    // ESC then a key: that key with Alt (Meta).
    const code = next.charCodeAt(0);
    if (code < 0x20 || code === 0x7f) {
      const k = controlKey(code);
      return { tokens: [k.kind === 'key' ? key(`⌥${k.label}`, `Alt-${k.name}`) : k], next: at + 2 };
    }
    const ch = String.fromCodePoint(text.codePointAt(at + 1)!);
    return { tokens: [key(`⌥${ch}`, `Alt-${ch}`)], next: at + 1 + ch.length };
  }

  /** `ESC [ params intermediates final`: a key, a paste mark, or the terminal's answer (dropped). */
  #csi(text: string, at: number): Read {
    let k = at + 2;
    // X10 mouse report: ESC [ M and three bytes.
    if (text[k] === 'M') return text.length >= k + 4 ? { tokens: [], next: k + 4 } : 'unfinished';
    let params = '';
    while (k < text.length && /[0-9;:<=>?]/.test(text[k])) params += text[k++];
    let inter = '';
    while (k < text.length && /[ -/]/.test(text[k])) inter += text[k++];
    if (k >= text.length) return 'unfinished';
    const final = text[k];
    const next = k + 1;
    const code = final.charCodeAt(0);
    if (code < 0x40 || code > 0x7e) {
      // Not a sequence after all: show what was there.
      return { tokens: [key('⎋[', 'Escape [')], next: at + 2 };
    }
    const answer = terminalAnswer(params, inter, final);
    if (answer) return { tokens: [], next };
    if (final === '~' && params === '200') {
      this.pasting = true;
      return { tokens: [{ kind: 'paste', label: 'paste', name: 'paste begins' }], next };
    }
    if (final === '~' && params === '201') {
      this.pasting = false;
      return { tokens: [{ kind: 'paste', label: 'paste end', name: 'paste ends' }], next };
    }
    const [number, modifier] = params.split(';');
    const [modLabel, modName] = MODIFIERS[modifier ?? ''] ?? ['', ''];
    if (final === '~' && TILDE_KEYS[number]) {
      const [label, name] = TILDE_KEYS[number];
      return { tokens: [key(`${modLabel}${label}`, `${modName}${name}`)], next };
    }
    if (ARROWS[final] || (params.startsWith('1;') && SS3_KEYS[final])) {
      const [label, name] = SS3_KEYS[final];
      return { tokens: [key(`${modLabel}${label}`, `${modName}${name}`)], next };
    }
    if (final === 'Z') return { tokens: [key('⇧⇥', 'Shift-Tab')], next };
    // Some other sequence: shown as it is, so nothing typed goes unseen.
    const raw = `⎋[${params}${inter}${final}`;
    return { tokens: [key(raw, `escape sequence ${raw.slice(1)}`)], next };
  }
}

/**
 * Whether a CSI sequence is the user's terminal answering a program, not a key: a cursor position
 * report (`ESC[12;5R`), device attributes (`ESC[?64;1c`, `ESC[>0;276;0c`), focus in/out (`ESC[I`,
 * `ESC[O`), a status or mode report (`ESC[0n`, `ESC[?1;2$y`), window reports (`ESC[8;24;80t`), an
 * SGR mouse report (`ESC[<0;10;5M`), a keyboard-protocol answer (`ESC[?1u`). (Shift-F3 in some
 * terminals is also `ESC[1;2R`: it is read as the report it far more often is.)
 */
function terminalAnswer(params: string, inter: string, final: string): boolean {
  if (final === 'R' && /^\d+;\d+$/.test(params)) return true;
  if (final === 'c' && /^[?>=]/.test(params)) return true;
  if ((final === 'I' || final === 'O') && params === '' && inter === '') return true;
  if (final === 'n' && /^\??\d+$/.test(params)) return true;
  if (final === 'y' && inter === '$') return true;
  if (final === 't' && /^\d+(;\d+)*$/.test(params)) return true;
  if ((final === 'M' || final === 'm') && params.startsWith('<')) return true;
  if (final === 'u' && params.startsWith('?')) return true;
  return false;
}

/** Adjacent text runs as one. */
function merged(tokens: KeyToken[]): KeyToken[] {
  const out: KeyToken[] = [];
  for (const t of tokens) {
    const last = out[out.length - 1];
    if (t.kind === 'text' && last?.kind === 'text') out[out.length - 1] = { kind: 'text', text: last.text + t.text };
    else out.push(t);
  }
  return out;
}

/**
 * A row's tokens as shown: text that is only spaces, standing alone between keys or at the row's
 * ends, is the space key (␣ each), which would otherwise be an invisible (empty-looking) row.
 */
export function shownKeys(tokens: readonly KeyToken[]): KeyToken[] {
  return tokens.map((t) => (t.kind === 'text' && /^ +$/.test(t.text) ? key('␣'.repeat(t.text.length), t.text.length === 1 ? 'Space' : `Space ×${t.text.length}`) : t));
}
