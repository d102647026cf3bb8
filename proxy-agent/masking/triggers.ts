// One pass over a text that decides which detectors could possibly match. Most result cells
// ("42", "alice", "2024-01-05 10:00:00+00") set no bit and leave the masker without running a
// single regex; a set bit only means "run that detector", never "mask".
//
// The checks are shapes a detector cannot match without: a '@' for EMAIL, a 13-19 digit run or
// 4-digit groups for CARD, NNN-NN- for SSN, two capitals before digits for IBAN, and short
// keyword pieces ("ssw" of password, "bearer") tested only on one of their rarer letters.

export const T_EMAIL = 1 << 0;
export const T_CARD = 1 << 1;
export const T_SSN = 1 << 2;
export const T_IBAN = 1 << 3;
export const T_PHONE = 1 << 4;
export const T_JWT = 1 << 5;
export const T_BEARER = 1 << 6;
export const T_CLOUD = 1 << 7;
export const T_PEM = 1 << 8;
export const T_CONN = 1 << 9;
export const T_ROLE = 1 << 10;

// What the hot loop does per character: 0 (most letters, spaces, punctuation) costs one table
// load; anything else names the check to run. Keyword checks sit on their rarest letter.
const K_DIGIT = 1;
const K_AT = 2;
const K_COLON = 3;
const K_J = 4;
const K_DASH = 5;
const K_UNDERSCORE = 6;
const K_A = 7;
const K_Z = 8;
const K_W = 9;
const K_B = 10;
const K_C = 11;
const CLASS = new Uint8Array(128);
for (let c = 48; c <= 57; c++) CLASS[c] = K_DIGIT;
const setClass = (chars: string, k: number) => { for (const ch of chars) CLASS[ch.charCodeAt(0)] = k; };
setClass('@', K_AT);
setClass(':', K_COLON);
setClass('J', K_J);
setClass('-', K_DASH);
setClass('_', K_UNDERSCORE);
setClass('A', K_A);
setClass('zZ', K_Z);
setClass('wW', K_W);
setClass('bB', K_B);
setClass('cC', K_C);

const isDigit = (c: number) => c >= 48 && c <= 57;
const isUpper = (c: number) => c >= 65 && c <= 90;
const isAlnum = (c: number) => isDigit(c) || isUpper(c) || (c >= 97 && c <= 122);
/** Lower-cases ASCII letters; other codes map to values no letter test accepts. */
const fold = (c: number) => c | 0x20;

export function scanTriggers(text: string): number {
  let flags = 0;
  const n = text.length;
  let prevRunStart = -1;
  let prevRunEnd = -2;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c >= 128) continue;
    let k = CLASS[c];
    if (k === 0) continue;
    if (k === K_DIGIT) {
      const s = i;
      while (++i < n && isDigit(text.charCodeAt(i)));
      flags |= digitRun(text, s, i, prevRunStart, prevRunEnd);
      prevRunStart = s;
      prevRunEnd = i;
      if (i === n) break;
      const next = text.charCodeAt(i);
      k = next < 128 ? CLASS[next] : 0;
      if (k === 0) continue;
    }
    switch (k) {
      case K_AT:
        flags |= T_EMAIL;
        break;
      case K_COLON: // "://"
        if (text.charCodeAt(i + 1) === 47 && text.charCodeAt(i + 2) === 47) flags |= T_CONN;
        break;
      case K_J: // "eyJ"
        if (text.charCodeAt(i - 1) === 121 && text.charCodeAt(i - 2) === 101) flags |= T_JWT;
        break;
      case K_DASH: { // the dash of "xoxb-", or a PEM armour line
        if (text.charCodeAt(i - 2) === 120 && text.charCodeAt(i - 3) === 111 && text.charCodeAt(i - 4) === 120) flags |= T_CLOUD;
        let j = i + 1;
        while (j < n && text.charCodeAt(j) === 45) j++;
        if (j - i >= 5) flags |= T_PEM;
        i = j - 1;
        break;
      }
      case K_UNDERSCORE: { // ghp_, github_pat_, sk_live_, rk_live_
        const p1 = text.charCodeAt(i - 1);
        const p2 = text.charCodeAt(i - 2);
        if ((p2 === 104 && text.charCodeAt(i - 3) === 103) || (p1 === 98 && p2 === 117) || (p1 === 107 && (p2 === 115 || p2 === 114))) flags |= T_CLOUD;
        break;
      }
      case K_A: // the last A of AKIA / ASIA
        if (text.charCodeAt(i - 1) === 73 && text.charCodeAt(i - 3) === 65) {
          const p2 = text.charCodeAt(i - 2);
          if (p2 === 75 || p2 === 83) flags |= T_CLOUD;
        }
        break;
      case K_Z: { // AIza; "riz" of authorization
        const p1 = text.charCodeAt(i - 1);
        if (text.charCodeAt(i) === 122 && p1 === 73 && text.charCodeAt(i - 2) === 65) flags |= T_CLOUD;
        if (fold(p1) === 105 && fold(text.charCodeAt(i - 2)) === 114) flags |= T_BEARER;
        break;
      }
      case K_W: // "ssw" of password / passwd
        if (fold(text.charCodeAt(i - 1)) === 115 && fold(text.charCodeAt(i - 2)) === 115) flags |= T_CONN | T_ROLE;
        break;
      case K_B: // "bearer"
        if (fold(text.charCodeAt(i + 1)) === 101 && fold(text.charCodeAt(i + 2)) === 97 && fold(text.charCodeAt(i + 3)) === 114 && fold(text.charCodeAt(i + 4)) === 101 && fold(text.charCodeAt(i + 5)) === 114) flags |= T_BEARER;
        break;
      case K_C: // "cret" of a labelled secret access key
        if (fold(text.charCodeAt(i + 1)) === 114 && fold(text.charCodeAt(i + 2)) === 101 && fold(text.charCodeAt(i + 3)) === 116) flags |= T_CLOUD;
        break;
    }
  }
  return flags;
}

function digitsAt(text: string, at: number, count: number): boolean {
  for (let i = at; i < at + count; i++) if (!isDigit(text.charCodeAt(i))) return false;
  return true;
}

/** Flags for the digit run [s, e), given the run before it ([ps, pe)). */
function digitRun(text: string, s: number, e: number, ps: number, pe: number): number {
  const len = e - s;
  let flags = 0;
  const before = s > 0 ? text.charCodeAt(s - 1) : -1;
  // Short runs (the parts of dates, times, decimals) matter only after '+' or a capital letter.
  if (len < 3 && before !== 43 && !isUpper(before)) return 0;
  const after = e < text.length ? text.charCodeAt(e) : -1;
  if (len >= 13 && len <= 19) {
    const d0 = text.charCodeAt(s);
    if (d0 >= 50 && d0 <= 54) flags |= T_CARD; // IINs of payment cards start with 2-6
  }
  // Grouped card: 4 digits, one space or dash, then 4 (or 6 for Amex/Diners).
  if ((len === 4 || len === 6) && pe === s - 1 && pe - ps === 4 && (before === 32 || before === 45)) flags |= T_CARD;
  if (len === 3) {
    if (before === 40 && after === 41) flags |= T_PHONE; // (555)
    else if ((after === 45 || after === 46) && !isAlnum(before)) {
      const a1 = text.charCodeAt(e + 1);
      const a2 = text.charCodeAt(e + 2);
      if (after === 45 && isDigit(a1) && isDigit(a2) && text.charCodeAt(e + 3) === 45) flags |= T_SSN;
      if (isDigit(a1) && isDigit(a2) && isDigit(text.charCodeAt(e + 3)) && text.charCodeAt(e + 4) === after && digitsAt(text, e + 5, 4)) flags |= T_PHONE;
    }
  }
  // International phone: '+' right before the digits, and not "10:00:00+00".
  if (before === 43 && (s < 2 || !isAlnum(text.charCodeAt(s - 2)))) flags |= T_PHONE;
  // IBAN: two capitals then the check digits, at a word start.
  if (len >= 2 && s >= 2 && isUpper(before) && isUpper(text.charCodeAt(s - 2)) && (s < 3 || !isAlnum(text.charCodeAt(s - 3)))) flags |= T_IBAN;
  return flags;
}
