// Passwords inside larger text: connection URIs and key/value strings (CONN_PASSWORD), and the
// literal of CREATE/ALTER ROLE ... PASSWORD (ROLE_PASSWORD). Only the password itself is masked,
// so the URI, the connection string or the SQL statement keeps its shape.
import type { SpanSink } from '../spans.ts';
import { type Detector, matchAt, standsForValue } from './detector.ts';

/** Characters that end a URI written in text (passwords in URIs may contain almost anything else). */
const isUriStop = (c: number) => c <= 32 || c === 34 || c === 39 || c === 96 || c === 60 || c === 62;
const URI_MAX = 2048;

// key=value / key: value with "password" or "passwd" ending the key (libpq, env files, JSON, YAML):
// a quoted value (backslash escapes; '' inside SQL quotes) closed on the same line, or a bare value
// up to a delimiter, on the same line as the key. A quote that is not closed is not a value: in a
// terminal, `read -p "Password: "` would otherwise take everything after it. Run after the operator.
const VALUE = /[ \t]{0,8}(?:'((?:[^'\\\n]|\\[\s\S]|'')*)(?=')|"((?:[^"\\\n]|\\[\s\S])*)(?=")|([^\s'",;&)}\]]+))/y;

// A YAML block scalar: the value is on the lines below (`password: |` then the indented line).
const BLOCK_SCALAR = /[ \t]{0,8}[|>][-+]?[0-9]?[ \t]*\r?\n([ \t]+)(\S[^\r\n]*)/y;

function keyValueAt(text: string, at: number, _keyEnd: number, out: SpanSink): void {
  let from = at + 1;
  const next = text.charCodeAt(from);
  if (next === 62 || (next === 61 && text.charCodeAt(at) === 58)) from++; // `=>`, `:=`
  else if (next === 61) return; // `==` compares
  const block = matchAt(BLOCK_SCALAR, text, from);
  if (block) {
    const end = from + block[0].length;
    out.add(end - block[2].length, end);
    return;
  }
  const m = matchAt(VALUE, text, from);
  if (m === null) return;
  const value = m[1] ?? m[2] ?? m[3];
  if (standsForValue(value)) return;
  const end = from + m[0].length;
  out.add(end - value.length, end);
}

/** Where the URI read last ends, so "://://..." is read once, not once per "://". */
const URI_END = Symbol('uri end');

/**
 * scheme://user:PASSWORD@host... at the "//" of "://". The userinfo ends at the last '@' of the
 * URI, so a password with a raw '@' or '/' is still masked whole (over-masking beats leaking a
 * tail of it).
 */
function uriPasswordAt(text: string, slashes: number, out: SpanSink): void {
  const sep = slashes - 1;
  if (text.charCodeAt(sep) !== 58 || sep < (out.mark(URI_END) ?? 0)) return;
  const start = sep + 3;
  let end = start;
  const limit = Math.min(text.length, start + URI_MAX);
  while (end < limit && !isUriStop(text.charCodeAt(end))) end++;
  out.setMark(URI_END, end);
  let at = end - 1;
  while (at >= start && text.charCodeAt(at) !== 64) at--; // last '@', never looking before the URI
  if (at < start) return;
  const colon = text.indexOf(':', start);
  if (colon < 0 || colon >= at) return;
  out.add(colon + 1, at);
}

export const connPassword: Detector = {
  name: 'CONN_PASSWORD',
  prefixes: [{ prefix: '//', at: uriPasswordAt }],
  assignments: [{ keys: ['password', 'passwd'], at: keyValueAt }],
};

// PASSWORD followed by a string literal: '...', E'...', or $tag$...$tag$. Any statement that
// carries a password literal this way (CREATE/ALTER ROLE/USER, USER MAPPING OPTIONS) is covered.
const ROLE_KEYWORD = /password\s+(?=[eE]'|'|\$(?:[A-Za-z_]\w*)?\$)/iy;
const DOLLAR_TAG = /\$(?:[A-Za-z_]\w*)?\$/y;

export const rolePassword: Detector = {
  name: 'ROLE_PASSWORD',
  prefixes: [{
    prefix: 'password',
    ignoreCase: true,
    at(text, at, out) {
      const before = at > 0 ? text.charCodeAt(at - 1) : -1;
      if (before === 95 || before === 36) return; // [\w$]
      const m = matchAt(ROLE_KEYWORD, text, at);
      if (m === null) return;
      const [start, end] = literalContent(text, at + m[0].length);
      out.add(start, end);
    },
  }],
};

/**
 * [start, end) of the content of the SQL string literal at `at`. An unterminated literal runs to
 * the end of the text (the statement was cut off; its tail is still the password).
 */
export function literalContent(text: string, at: number): [number, number] {
  const c = text.charCodeAt(at);
  if (c === 36) {
    DOLLAR_TAG.lastIndex = at;
    DOLLAR_TAG.test(text);
    const tag = text.slice(at, DOLLAR_TAG.lastIndex);
    const start = at + tag.length;
    const close = text.indexOf(tag, start);
    return [start, close < 0 ? text.length : close];
  }
  const escapes = c === 69 || c === 101; // E'...': backslash escapes
  const start = at + (escapes ? 2 : 1);
  for (let i = start; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (escapes && ch === 92) i++;
    else if (ch === 39) {
      if (text.charCodeAt(i + 1) === 39) i++; // '' is a quote inside the literal
      else return [start, i];
    }
  }
  return [start, text.length];
}
