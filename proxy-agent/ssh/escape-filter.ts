// Removes terminal escape sequences from a stream of text whose chunks can cut one anywhere: CSI
// (`ESC [ ... final`: cursor moves, colours, arrow keys, bracketed paste marks), OSC, DCS and the
// other strings (up to BEL or ST), SS3 (`ESC O x`: keypad and function keys) and two-character
// escapes (`ESC x`, which is also what Alt-x types). What is left is the text a terminal shows or
// a user types, with the control characters (CR, LF, BS, DEL, Ctrl keys) left in place.

const enum State {
  Ground,
  Escape,
  /** After ESC and intermediates (0x20-0x2f): up to the final character. */
  Intermediate,
  Csi,
  Ss3,
  /** OSC, DCS, SOS, PM, APC: up to BEL or ST. */
  String,
  /** ESC inside a string: the ST's backslash (or anything) ends it. */
  StringEscape,
}

/** A string never terminated stops being one after this many characters (a stray ESC ]). */
const STRING_MAX = 4096;

export class EscapeFilter {
  private state = State.Ground;
  private stringLength = 0;

  /** `text` without the escape sequences in it or begun in an earlier chunk. */
  feed(text: string): string {
    let out = '';
    let i = 0;
    while (i < text.length) {
      if (this.state === State.Ground) {
        // Plain text is copied in runs: only escape sequences are read a character at a time.
        const esc = text.indexOf('\x1b', i);
        if (esc < 0) return i === 0 ? text : out + text.slice(i);
        out += text.slice(i, esc);
        this.state = State.Escape;
        i = esc + 1;
        continue;
      }
      const c = text.charCodeAt(i);
      if (this.step(c)) out += text[i];
      i++;
    }
    return out;
  }

  /** One character inside an escape sequence; true when it is shown (a control character run by the terminal) after all. */
  private step(c: number): boolean {
    switch (this.state) {
      case State.Escape:
        if (c === 0x5b) this.state = State.Csi; // [
        else if (c === 0x5d || c === 0x50 || c === 0x58 || c === 0x5e || c === 0x5f) this.beginString(); // ] P X ^ _
        else if (c === 0x4f) this.state = State.Ss3; // O
        else if (c >= 0x20 && c <= 0x2f) this.state = State.Intermediate;
        else if (c === 0x1b) this.state = State.Escape;
        else {
          this.state = State.Ground;
          // A control character cancels the escape and acts as itself.
          return c < 0x20;
        }
        return false;
      case State.Intermediate:
        if (c < 0x20 || c > 0x2f) this.state = State.Ground;
        return false;
      case State.Csi:
        if (c >= 0x40) this.state = State.Ground; // its final character (or a malformed one)
        else if (c === 0x1b) this.state = State.Escape;
        else return c < 0x20; // a terminal runs C0 controls met inside a CSI
        return false;
      case State.Ss3:
        this.state = c === 0x1b ? State.Escape : State.Ground;
        return false;
      case State.String:
        if (c === 0x07) this.state = State.Ground;
        else if (c === 0x1b) this.state = State.StringEscape;
        else if (++this.stringLength > STRING_MAX) this.state = State.Ground;
        return false;
      default: // StringEscape: the ST's backslash, or anything, ends the string
        this.state = State.Ground;
        return false;
    }
  }

  private beginString(): void {
    this.state = State.String;
    this.stringLength = 0;
  }
}
