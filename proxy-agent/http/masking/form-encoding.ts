// application/x-www-form-urlencoded names and values (query strings and form bodies): decoded as
// browsers and URLSearchParams decode them ('+' is a space, a '%' not followed by two hex digits
// is itself, bytes are UTF-8), and encoded back so the result reads well in a HAR viewer and still
// parses to the same value: markers stay as they are (`token=[SECRET_COLUMN]`), and only what
// would change the parse ('%', '&', '=', '+', '#', blanks, controls, non-ASCII) is escaped.

const UTF8 = new TextDecoder('utf-8');

export function formDecode(raw: string): string {
  const s = raw.includes('+') ? raw.replace(/\+/g, ' ') : raw;
  if (!s.includes('%')) return s;
  const bytes: number[] = [];
  let out = '';
  const drain = () => {
    if (bytes.length === 0) return;
    out += UTF8.decode(Uint8Array.from(bytes));
    bytes.length = 0;
  };
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) === 37 && isHex(s.charCodeAt(i + 1)) && isHex(s.charCodeAt(i + 2))) {
      bytes.push(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      drain();
      out += s[i];
    }
  }
  drain();
  return out;
}

/** Characters written as they are: unreserved, the sub-delimiters but & = +, and : @ / ? [ ]. */
const KEEP = /[A-Za-z0-9\-._~!$'()*,;:@/?[\]]/;

export function formEncode(value: string): string {
  let out = '';
  for (const ch of value) {
    if (ch === ' ') out += '+';
    else if (ch.length === 1 && KEEP.test(ch)) out += ch;
    else for (const b of Buffer.from(ch, 'utf8')) out += '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

function isHex(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}
