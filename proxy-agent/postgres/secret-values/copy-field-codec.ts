// A COPY field's value from its text as the data holds it, and back, following PostgreSQL's own
// reading and writing of the formats (copyfromparse.c, copyto.c): in text, a backslash escapes
// the next character (\n, \t, octal \123, hex \x4f...); in CSV, quotes hold delimiters, quotes and
// line ends, and the escape character (by default the quote, doubled) escapes a quote or itself.
// The detectors read the value, not its escapes: `a\tgrace@x.com` holds an address after a tab.
// A masked value is written back so that the client still parses the field as one value.
import type { CopySpec } from './secret-values.ts';

type Format = Pick<CopySpec, 'format' | 'delimiter' | 'quote' | 'escape' | 'nullString'>;

const TEXT_ESCAPES: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };
const TEXT_WRITES: Record<string, string> = { '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\v': '\\v', '\\': '\\\\' };
const OCTAL = /[0-7]/;
const HEX = /[0-9a-fA-F]/;

/** The value of a non-NULL field from its raw text. */
export function decodeField(raw: string, format: Format): string {
  return format.format === 'csv' ? decodeCsv(raw, format) : decodeText(raw);
}

/** The raw text of a value, such that decodeField reads it back and it is not read as NULL. */
export function encodeField(value: string, format: Format): string {
  return format.format === 'csv' ? encodeCsv(value, format) : encodeText(value, format.delimiter);
}

function decodeText(raw: string): string {
  if (!raw.includes('\\')) return raw;
  let out = '';
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (c !== '\\' || i + 1 >= raw.length) {
      out += c;
      continue;
    }
    const n = raw[++i];
    if (OCTAL.test(n)) {
      let code = 0;
      let digits = 0;
      for (; digits < 3 && i < raw.length && OCTAL.test(raw[i]); digits++, i++) code = code * 8 + Number(raw[i]);
      i--;
      out += String.fromCharCode(code & 0xff);
    } else if (n === 'x' && HEX.test(raw[i + 1] ?? '')) {
      const digits = HEX.test(raw[i + 2] ?? '') ? 2 : 1;
      out += String.fromCharCode(parseInt(raw.slice(i + 1, i + 1 + digits), 16));
      i += digits;
    } else out += TEXT_ESCAPES[n] ?? n;
  }
  return out;
}

function encodeText(value: string, delimiter: string): string {
  let out = '';
  for (const c of value) out += TEXT_WRITES[c] ?? (c === delimiter ? `\\${c}` : c);
  return out;
}

function decodeCsv(raw: string, { quote, escape }: Format): string {
  if (!raw.includes(quote)) return raw;
  let out = '';
  let inQuote = false;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    const next = raw[i + 1];
    if (inQuote && c === escape && (next === quote || (next === escape && escape !== quote))) {
      out += next;
      i++;
    } else if (c === quote) inQuote = !inQuote;
    else out += c;
  }
  return out;
}

/** Quoted when it holds the delimiter, a quote, a line end or equals the NULL string, as PostgreSQL quotes. */
function encodeCsv(value: string, { delimiter, quote, escape, nullString }: Format): string {
  const needsQuotes =
    value === (nullString ?? '') || value.includes(delimiter) || value.includes(quote) || value.includes('\n') || value.includes('\r') || value === '\\.';
  if (!needsQuotes) return value;
  let out = quote;
  for (const c of value) out += c === quote || c === escape ? escape + c : c;
  return out + quote;
}
