// SASLprep (RFC 4013) of a SCRAM password, as far as Node allows without a Unicode table package.
// It matters only for non-ASCII passwords: PostgreSQL (server and libpq alike) leaves an ASCII
// password as is, and uses the raw password whenever SASLprep would reject it. This follows the
// same rules:
// - ASCII: unchanged (even with control characters, like PostgreSQL's pg_saslprep).
// - Mapping: non-ASCII spaces (RFC 3454 C.1.2) to U+0020, "commonly mapped to nothing" (B.1)
//   removed; then NFKC with String.prototype.normalize.
// - Prohibited characters (C.2.1 to C.9), unassigned code points or nothing left after mapping:
//   the raw password is used.
// Limits: Node's NFKC and its \p{Cn} (unassigned) follow Node's Unicode version, not Unicode 3.2
// as RFC 3454 does; the bidirectional check (RFC 3454 section 6) is not done, because JavaScript
// regular expressions cannot test Bidi_Class. A password affected by those differences (rare
// scripts, code points assigned after Unicode 3.2, mixed right-to-left text) may hash differently
// from the server's, and the login fails rather than succeeding wrongly.

const ASCII_ONLY = /^[\x00-\x7f]*$/;
// C.1.2, then B.1; U+200B is in both and, as in PostgreSQL, is mapped to a space.
const NON_ASCII_SPACE = /[\u00a0\u1680\u2000-\u200b\u202f\u205f\u3000]/g;
const MAPPED_TO_NOTHING = /[\u00ad\u034f\u1806\u180b-\u180d\u200c\u200d\u2060\ufe00-\ufe0f\ufeff]/g;
const PROHIBITED = new RegExp(
  [
    '[\\u0000-\\u001f\\u007f]', // C.2.1 ASCII control
    '[\\u0080-\\u009f\\u06dd\\u070f\\u180e\\u200c\\u200d\\u2028\\u2029\\u2060-\\u2063\\u206a-\\u206f\\ufeff\\ufff9-\\ufffc]', // C.2.2
    '[\\u{1d173}-\\u{1d17a}]', // C.2.2 (musical symbols)
    '[\\ue000-\\uf8ff\\u{f0000}-\\u{ffffd}\\u{100000}-\\u{10fffd}]', // C.3 private use
    '[\\ufdd0-\\ufdef]|\\p{Noncharacter_Code_Point}', // C.4 non-characters
    '[\\ud800-\\udfff]', // C.5 surrogates (lone ones; pairs are read as code points with the u flag)
    '[\\ufff9-\\ufffd]', // C.6 inappropriate for plain text
    '[\\u2ff0-\\u2ffb]', // C.7 inappropriate for canonical representation
    '[\\u0340\\u0341\\u200e\\u200f\\u202a-\\u202e\\u206a-\\u206f]', // C.8 display properties
    '[\\u{e0001}\\u{e0020}-\\u{e007f}]', // C.9 tagging
    '\\p{Cn}', // A.1 unassigned (in Node's Unicode version)
  ].join('|'),
  'u',
);

export function saslprep(password: string): string {
  if (ASCII_ONLY.test(password)) return password;
  const mapped = password.replace(NON_ASCII_SPACE, ' ').replace(MAPPED_TO_NOTHING, '');
  // PostgreSQL's pg_saslprep checks the mapped string (before normalization); so do we.
  if (mapped === '' || PROHIBITED.test(mapped)) return password;
  return mapped.normalize('NFKC');
}
