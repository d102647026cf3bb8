// The rest of a private key after a stream masked it as it stood (stream-masker.ts: held past its
// bounds, its END line not arrived). What follows is dropped as long as it can still be that key,
// base64 lines up to and including its END line (terminal control characters and escape
// sequences between them, as a highlighter or a pager prints them, do not end it); the first
// other character (a prompt, a program's output) ends it. So a key printed slower than the bound
// is still never recorded, while a BEGIN line with no key after it (`grep -r 'BEGIN RSA' /etc`)
// costs the recording what was held, not the rest of the session.

const END = /-----END (?:[A-Z0-9]+ ){0,3}PRIVATE KEY(?: BLOCK)?-----/y;
const END_START = '-----END ';
/** A prefix of an END line still under way: its label and dashes not complete. */
const END_REST = /^[A-Z0-9 ]{0,48}-{0,4}$/;

/** Base64 (PEM and PGP armour, "=" padding and checksum) and line breaks. */
const isKeyChar = (c: number) =>
  (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 43 || c === 47 || c === 61 || c === 10 || c === 13;

export interface KeyRest {
  /** How far from `from` the text is (still) the key's. */
  end: number;
  /** The key ended at `end` (its END line, or text that cannot be in a key); else more of it may follow. */
  done: boolean;
}

/** Where the rest of a key that continues at `from` ends in `text`. */
export function keyRestEnd(text: string, from: number): KeyRest {
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (isKeyChar(c)) continue;
    if (c === 27) {
      const end = escapeEnd(text, i);
      if (end < 0) return { end: i, done: false }; // the sequence is cut: wait for its end
      i = end - 1;
      continue;
    }
    if (c < 32 && c !== 9) continue;
    END.lastIndex = i;
    if (END.test(text)) return { end: END.lastIndex, done: true };
    if (isEndUnderWay(text.slice(i))) return { end: i, done: false };
    // A key's lines are base64 from end to end: a line with anything else in it ("2026-01-05 ...")
    // is not the key's, from its first character on.
    return { end: Math.max(from, text.lastIndexOf('\n', i - 1) + 1), done: true };
  }
  return { end: text.length, done: false };
}

/** End of the escape sequence at `at` (CSI, or ESC and one character), or -1 when it is cut off. */
function escapeEnd(text: string, at: number): number {
  if (at + 1 >= text.length) return -1;
  if (text.charCodeAt(at + 1) !== 91) return at + 2; // [
  for (let i = at + 2; i < text.length && i < at + 64; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x40 && c <= 0x7e) return i + 1;
  }
  return text.length - at < 64 ? -1 : at + 1;
}

/** Where the last line of `text` begins when it can be the start of a key's next line (or -1). */
export function keyLineUnderWay(text: string, from: number): number {
  const at = text.lastIndexOf('\n') + 1;
  if (at <= from) return -1;
  const rest = keyRestEnd(text, at);
  return !rest.done ? at : -1;
}

function isEndUnderWay(rest: string): boolean {
  if (rest.length <= END_START.length) return END_START.startsWith(rest);
  return rest.startsWith(END_START) && END_REST.test(rest.slice(END_START.length));
}
