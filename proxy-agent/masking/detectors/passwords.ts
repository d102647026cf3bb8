// Passwords inside larger text: connection URIs and key/value strings (CONN_PASSWORD), and the
// literal of CREATE/ALTER ROLE ... PASSWORD (ROLE_PASSWORD). Only the password itself is masked,
// so the URI, the connection string or the SQL statement keeps its shape.
import { T_CONN, T_ROLE } from '../triggers.ts';
import type { SpanSink } from '../spans.ts';
import { type Detector, eachMatch } from './detector.ts';

/** Characters that end a URI written in text (passwords in URIs may contain almost anything else). */
const isUriStop = (c: number) => c <= 32 || c === 34 || c === 39 || c === 96 || c === 60 || c === 62;
const URI_MAX = 2048;

// key=value / key: value with "password" or "passwd" in the key (libpq, env files, JSON, YAML):
// a quoted value (backslash escapes; '' inside SQL quotes) closed on the same line, or a bare value
// up to a delimiter, on the same line as the key. A quote that is not closed is not a value: in a
// terminal, `read -p "Password: "` would otherwise take everything after it.
const KEY_VALUE = /passw(?:or)?d["']?[ \t]{0,8}[:=][ \t]{0,8}(?:'((?:[^'\\\n]|\\[\s\S]|'')*)(?=')|"((?:[^"\\\n]|\\[\s\S])*)(?=")|([^\s'",;&)}\]]+))/gi;

export const connPassword: Detector = {
  name: 'CONN_PASSWORD',
  trigger: T_CONN,
  find(text, out) {
    uriPasswords(text, out);
    eachMatch(KEY_VALUE, text, (m) => {
      const value = m[1] ?? m[2] ?? m[3];
      const start = m.index + m[0].length - value.length;
      out.add(start, start + value.length);
    });
  },
};

/**
 * scheme://user:PASSWORD@host... The userinfo ends at the last '@' of the URI, so a password with
 * a raw '@' or '/' is still masked whole (over-masking beats leaking a tail of it).
 */
function uriPasswords(text: string, out: SpanSink): void {
  let from = 0;
  for (let sep = text.indexOf('://', from); sep >= 0; sep = text.indexOf('://', from)) {
    const start = sep + 3;
    let end = start;
    const limit = Math.min(text.length, start + URI_MAX);
    while (end < limit && !isUriStop(text.charCodeAt(end))) end++;
    from = end > start ? end : start; // resume after this URI: linear even on "://://://..."
    let at = end - 1;
    while (at >= start && text.charCodeAt(at) !== 64) at--; // last '@', never looking before the URI
    if (at < start) continue;
    const colon = text.indexOf(':', start);
    if (colon < 0 || colon >= at) continue;
    out.add(colon + 1, at);
  }
}

// PASSWORD followed by a string literal: '...', E'...', or $tag$...$tag$. Any statement that
// carries a password literal this way (CREATE/ALTER ROLE/USER, USER MAPPING OPTIONS) is covered.
const ROLE_KEYWORD = /(?<![\w$])password\s+(?=[eE]'|'|\$(?:[A-Za-z_]\w*)?\$)/gi;
const DOLLAR_TAG = /\$(?:[A-Za-z_]\w*)?\$/y;

export const rolePassword: Detector = {
  name: 'ROLE_PASSWORD',
  trigger: T_ROLE,
  find(text, out) {
    eachMatch(ROLE_KEYWORD, text, (m) => {
      const [start, end] = literalContent(text, m.index + m[0].length);
      out.add(start, end);
      ROLE_KEYWORD.lastIndex = Math.max(ROLE_KEYWORD.lastIndex, end);
    });
  },
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
