// Generic secrets known by the name they are assigned to: `API_KEY=...`, `"client_secret": "..."`,
// `token: ...` in YAML, `--token=...`, and base64 values of YAML/JSON (`kubectl get secret -o yaml`).
// The engine calls these at every ':' and '=' of a text, so they reject in a few character reads
// when the key before the operator cannot name a secret (`10:00:00`, `status=200`).
//
// Keys ending in "password" or "passwd" are CONN_PASSWORD's (any value); the shorter password
// keys it does not read (`DB_PASS`, `MYSQL_PWD`, `SSHPASS`, `REDISCLI_AUTH`) are here.
import { isUtf8 } from 'node:buffer';

const MAX_BLANKS = 8;
const MAX_KEY = 64;
const MAX_BARE = 512;
const MAX_QUOTED = 1024;

/**
 * The last three letters of every key this module reads: its own first check, and the key
 * endings the engine's prefilter can register (AssignmentHook.keys).
 */
export const SECRET_KEY_ENDINGS: readonly string[] = ['ret', 'key', 'ken', 'ase', 'als', 'ial', 'ass', 'pwd', 'uth'];

/** Key endings (lower case, without '_', '-', '.') that always name a secret. */
const SECRET_KEYS = [
  'secret', 'secretkey', 'secretkeybase', 'privatekey', 'apikey', 'accesskey', 'accountkey', 'authkey', 'hmackey',
  'signingkey', 'encryptionkey', 'masterkey', 'passphrase', 'authtoken', 'accesstoken', 'refreshtoken', 'apitoken',
  'bearertoken', 'secrettoken', 'privatetoken',
];
/** Password keys CONN_PASSWORD does not read; "pass" and "pwd" count only as words (see passwordWord). */
const PASSWORD_KEYS = ['sshpass', 'rediscliauth'];
/** Key endings also used for values that are no secret (counts, names, paths): masked only when random. */
const RANDOM_KEYS = ['token', 'credential', 'credentials', 'sessionkey'];

/** What a key says of its value: nothing, a secret if it looks random, always a secret, a password. */
type KeyKind = 'none' | 'random' | 'secret' | 'password';

const code3 = (a: number, b: number, c: number) => (a << 16) | (b << 8) | c;
const ENDING_CODES = new Set(SECRET_KEY_ENDINGS.map((e) => code3(e.charCodeAt(0), e.charCodeAt(1), e.charCodeAt(2))));

const isLetter = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
const isDigit = (c: number) => c >= 48 && c <= 57;
const isBlank = (c: number) => c === 32 || c === 9;
/** [A-Za-z0-9_.-] */
const isKeyChar = (c: number) => isLetter(c) || isDigit(c) || c === 95 || c === 45 || c === 46;
/** What ends a bare value: whitespace , ; & ) } ] quotes < > and a backslash. */
const isBareStop = (c: number) =>
  c <= 32 || c === 44 || c === 59 || c === 38 || c === 41 || c === 125 || c === 93 || c === 34 || c === 39 || c === 96 || c === 60 || c === 62 || c === 92;

/** For the '=' or ':' at `at` in `text`: the [start, end) of a secret value assigned there, or null. */
export function secretAssignmentAt(text: string, at: number): [number, number] | null {
  const keyEnd = keyEndBefore(text, at);
  if (keyEnd < 3) return null;
  const a = text.charCodeAt(keyEnd - 3);
  const b = text.charCodeAt(keyEnd - 2);
  const c = text.charCodeAt(keyEnd - 1);
  if (!isLetter(a) || !isLetter(b) || !isLetter(c) || !ENDING_CODES.has(code3(a | 32, b | 32, c | 32))) return null;
  let keyStart = keyEnd;
  const limit = Math.max(0, keyEnd - MAX_KEY);
  while (keyStart > limit && isKeyChar(text.charCodeAt(keyStart - 1))) keyStart--;
  const kind = keyKind(text.slice(keyStart, keyEnd));
  if (kind === 'none') return null;
  const span = valueAt(text, at);
  if (span === null) return null;
  const [start, end, quoted] = span;
  return isSecretValue(kind, text.slice(start, end), quoted) ? [start, end] : null;
}

/** Where the key before the operator at `at` ends (after blanks and a closing quote, `\"` too); -1 if `at` is no operator. */
function keyEndBefore(text: string, at: number): number {
  const op = text.charCodeAt(at);
  if (op !== 58 && op !== 61) return -1;
  let end = at;
  for (let blanks = 0; blanks < MAX_BLANKS && end > 0 && isBlank(text.charCodeAt(end - 1)); blanks++) end--;
  const q = text.charCodeAt(end - 1);
  if (q === 34 || q === 39) {
    end--;
    if (text.charCodeAt(end - 1) === 92) end--;
  }
  return end;
}

function keyKind(key: string): KeyKind {
  const lower = key.toLowerCase();
  const bare = lower.replace(/[-_.]/g, '');
  if (SECRET_KEYS.some((k) => bare.endsWith(k))) return 'secret';
  if (PASSWORD_KEYS.some((k) => bare.endsWith(k)) || passwordWord(key, lower, 'pass') || passwordWord(key, lower, 'pwd')) return 'password';
  // A command-line flag (--token=...) names what it takes: no token count or token name there.
  if (RANDOM_KEYS.some((k) => bare.endsWith(k))) return lower.startsWith('--') ? 'secret' : 'random';
  return 'none';
}

/**
 * Whether the key ends in the word `word`: the whole key, or after a separator or a camel-case
 * hump (DB_PASS, dbPass, mysql-pwd), so not "bypass" or "compass". A key that is only PWD or ends
 * in OLDPWD is the shell's working directory.
 */
function passwordWord(key: string, lower: string, word: string): boolean {
  if (!lower.endsWith(word)) return false;
  const at = key.length - word.length;
  if (at === 0) return word !== 'pwd';
  const before = key.charCodeAt(at - 1);
  if (before === 95 || before === 45 || before === 46) return true;
  const first = key.charCodeAt(at);
  return first >= 65 && first <= 90 && !(before >= 65 && before <= 90);
}

/**
 * The value after the operator at `at`: [start, end, quoted]. A quoted value ('...', "...", or
 * \"...\" inside a JSON string) must close on the same line; a bare one runs to a delimiter.
 */
function valueAt(text: string, at: number): [number, number, boolean] | null {
  let i = at + 1;
  const next = text.charCodeAt(i);
  if (text.charCodeAt(at) === 58) {
    if (next === 58) return null; // Token::Secret
    if (next === 61) i++; // :=
  } else {
    if (next === 61) return null; // ==
    if (next === 62) i++; // =>
  }
  for (let blanks = 0; blanks < MAX_BLANKS && isBlank(text.charCodeAt(i)); blanks++) i++;
  let q = text.charCodeAt(i);
  const escaped = q === 92 && text.charCodeAt(i + 1) === 34;
  if (escaped) q = text.charCodeAt(++i);
  if (q === 34 || q === 39 || q === 96) {
    const start = i + 1;
    const limit = Math.min(text.length, start + MAX_QUOTED);
    for (let j = start; j < limit; j++) {
      const c = text.charCodeAt(j);
      if (c === 10 || c === 13) return null;
      if (escaped) {
        if (c === 92 && text.charCodeAt(j + 1) === q) return j > start ? [start, j, true] : null;
      } else if (c === 92 && q !== 39) j++;
      else if (c === q) return j > start ? [start, j, true] : null;
    }
    return null;
  }
  const start = i;
  const limit = Math.min(text.length, start + MAX_BARE + 1);
  while (i < limit && !isBareStop(text.charCodeAt(i))) i++;
  if (i - start > MAX_BARE) return null;
  let end = i;
  if (end > start && text.charCodeAt(end - 1) === 46) end--; // the full stop of a sentence
  return end > start ? [start, end, false] : null;
}

function isSecretValue(kind: KeyKind, value: string, quoted: boolean): boolean {
  if (isPlaceholder(value)) return false;
  if (looksRandom(value)) return true;
  if (!quoted && isCode(value)) return false;
  if (kind === 'secret') return value.length >= 8;
  if (kind === 'password') return value.length >= 4;
  return false;
}

/**
 * A bare value that is code, not data: a call or an index (a bare value stops at the quote inside
 * `os.environ["KEY"]`), or a dotted reference (process.env.API_KEY, config.secret).
 */
function isCode(value: string): boolean {
  return value.includes('(') || value.includes('[') || /^[A-Za-z_$][\w$]{0,63}(?:\.[A-Za-z_$][\w$]{0,63}){1,8}[!?]?$/.test(value);
}

const PLACEHOLDERS = new Set([
  'changeme', 'change_me', 'change-me', 'changeit', 'redacted', 'filtered', 'masked', 'hidden', 'secret', 'password', 'passwd',
  'token', 'null', 'nil', 'none', 'undefined', 'true', 'false', 'yes', 'no', 'empty', 'example', 'placeholder', 'todo', 'tbd',
  'dummy', 'test', 'string', 'str', 'value', 'val', 'text', 'key', 'pass', 'required', 'optional', 'notset', 'not_set', 'unset',
]);

/**
 * A value that stands for a secret without being one: a reference to a variable or template
 * ($VAR, ${VAR}, $(cmd), {{ var }}, %s), a marker (<redacted>, [FILTERED], ***), a type or a
 * keyword (null, true, string), an upper-case metavariable from help text (TOKEN, API_KEY), or
 * "your_..." from documentation.
 */
export function isPlaceholder(value: string): boolean {
  const first = value.charCodeAt(0);
  // $ % < [ (a bare value ends before its closing ']'), {{ #{ **
  if (value.length === 0 || first === 36 || first === 37 || first === 60 || first === 91) return true;
  if (value.startsWith('{{') || value.startsWith('#{') || value.startsWith('**')) return true;
  if (/^(.)\1*$/.test(value) || /^[A-Z]{1,32}(?:[_-][A-Z]{1,32}){0,8}$/.test(value) || /^your[_-]/i.test(value)) return true;
  return PLACEHOLDERS.has(value.toLowerCase());
}

/** Shannon entropy of `value` in bits per character. */
export function shannonEntropy(value: string): number {
  const counts = new Map<number, number>();
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    counts.set(c, (counts.get(c) ?? 0) + 1);
  }
  let bits = 0;
  for (const n of counts.values()) {
    const p = n / value.length;
    bits -= p * Math.log2(p);
  }
  return bits;
}

/** One segment of an identifier: a word (lower, UPPER, Capitalized or camelCase) with up to 2 digits, or a short number. */
const WORD = /^(?:(?:[A-Z]?[a-z]{1,64}(?:[A-Z][a-z]{1,64}){0,16}|[A-Z]{1,64})\d{0,2}|\d{1,4})$/;

/**
 * Whether a value looks like a generated secret rather than a word, a name, a number or a date:
 * - 16 to 512 printable ASCII characters without blanks (shorter generated secrets are too rare
 *   to be worth the false positives; the keys that always name a secret do not need this);
 * - at least one letter and one digit (hex, base32, base62 and base64 secrets of 16+ characters
 *   practically always have both; names, words and numbers do not);
 * - not an identifier: words joined by . _ - / : (process.env.GITHUB_TOKEN, my-service-v2);
 * - at least 3 bits of Shannon entropy per character (a random 16-character hex string has about
 *   3.5, base62 about 3.8; dates and repeated patterns stay below 3).
 */
export function looksRandom(value: string): boolean {
  const n = value.length;
  if (n < 16 || n > 512) return false;
  let letters = 0;
  let digits = 0;
  for (let i = 0; i < n; i++) {
    const c = value.charCodeAt(i);
    if (c <= 32 || c >= 127) return false;
    if (isDigit(c)) digits++;
    else if (isLetter(c)) letters++;
  }
  if (letters === 0 || digits === 0) return false;
  if (value.split(/[._\-/:]/).every((segment) => WORD.test(segment))) return false;
  return shannonEntropy(value) >= 3;
}

const isBase64Char = (c: number) => isLetter(c) || isDigit(c) || c === 43 || c === 47;

/**
 * For a `key: <value>` where value is base64 of >= 16 chars: the decoded text (utf8) when it
 * decodes cleanly to mostly printable text, else null. The engine runs its detectors on it and
 * masks the whole value when anything is found.
 *
 * "Cleanly": standard base64 with its padding (a length that is a multiple of 4), valid UTF-8,
 * and no control character but tab and line breaks. Random hex or words of 16+ letters are
 * valid base64 too, but decode to bytes that fail these checks.
 */
export function decodedBase64ValueAt(text: string, at: number): { start: number; end: number; decoded: string } | null {
  const keyEnd = keyEndBefore(text, at);
  if (keyEnd < 1 || !isKeyChar(text.charCodeAt(keyEnd - 1))) return null;
  let i = at + 1;
  for (let blanks = 0; blanks < MAX_BLANKS && isBlank(text.charCodeAt(i)); blanks++) i++;
  const quote = text.charCodeAt(i);
  const quoted = quote === 34 || quote === 39;
  if (quoted) i++;
  const start = i;
  while (i < text.length && isBase64Char(text.charCodeAt(i))) i++;
  for (let pad = 0; pad < 2 && text.charCodeAt(i) === 61; pad++) i++;
  const end = i;
  if (end - start < 16 || (end - start) % 4 !== 0) return null;
  if (quoted ? text.charCodeAt(end) !== quote : end < text.length && !isBareStop(text.charCodeAt(end))) return null;
  // Checked, not thrown: most candidates (a MIME type, a path of 16 letters) are not UTF-8, and an
  // exception per candidate cost a tenth of an HTTP exchange's masking.
  const bytes = Buffer.from(text.slice(start, end), 'base64');
  if (!isUtf8(bytes)) return null;
  const decoded = bytes.toString('utf8');
  for (let k = 0; k < decoded.length; k++) {
    const c = decoded.charCodeAt(k);
    if ((c < 32 && c !== 9 && c !== 10 && c !== 13) || c === 127) return null;
  }
  return { start, end, decoded };
}
