// JSON that cannot be read as JSON: a body cut at the recording limit, or one that does not parse
// (JavaScript-ish, several values, a syntax error). Its text is kept as it is, but every
// `"key": value` whose key a column rule names still has its value masked, found by a tolerant
// scan: a string (one cut before its closing quote is masked to the end), a number or bare word,
// an object or array (to its matching bracket, or to the end when it is cut), each becoming
// "[SECRET_COLUMN]" (null, true, false and "" stay). Then the whole text goes through the
// detectors, which also know `"client_secret": "..."` by themselves.
import type { FieldMasker } from './field-masker.ts';

/** `text` masked as JSON-like text. */
export function maskJsonText(text: string, f: FieldMasker): string {
  return f.text(maskSecretKeyValues(text, f));
}

/** Only the values of secret keys masked (the tolerant scan), the detectors not run. */
export function maskSecretKeyValues(text: string, f: FieldMasker): string {
  let out = '';
  let copied = 0;
  let i = 0;
  while (i < text.length) {
    const quote = text.indexOf('"', i);
    if (quote < 0) break;
    const end = stringEnd(text, quote);
    if (end < 0) break;
    let j = skipBlanks(text, end);
    if (text.charCodeAt(j) !== 58 || !f.isSecretName(keyOf(text.slice(quote, end)))) {
      i = end;
      continue;
    }
    j = skipBlanks(text, j + 1);
    const valueEnd = scanValue(text, j);
    if (valueEnd > j && !keeps(text.slice(j, valueEnd))) {
      // A string cut before its closing quote stays open: the text still reads as cut there.
      const open = text.charCodeAt(j) === 34 && stringEnd(text, j) < 0;
      out += text.slice(copied, j) + `"${f.secretField()}${open ? '' : '"'}`;
      copied = valueEnd;
    }
    i = Math.max(valueEnd, j);
  }
  return copied === 0 ? text : out + text.slice(copied);
}

/** Values masking leaves: they hide nothing. */
function keeps(value: string): boolean {
  return value === 'null' || value === 'true' || value === 'false' || value === '""' || /^(\{\s*\}|\[\s*\])$/.test(value);
}

/** Past the closing quote of the string starting at the quote `at`; -1 when the text ends first. */
function stringEnd(text: string, at: number): number {
  for (let i = at + 1; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 92) i++;
    else if (c === 34) return i + 1;
  }
  return -1;
}

/** A key token's name (its escapes read when they are valid). */
function keyOf(token: string): string {
  if (!token.includes('\\')) return token.slice(1, -1);
  try {
    return JSON.parse(token) as string;
  } catch {
    return token.slice(1, -1);
  }
}

/** Where the value starting at `at` ends: a string, a container (to its matching bracket), or a bare word. */
function scanValue(text: string, at: number): number {
  const c = text.charCodeAt(at);
  if (c === 34) {
    const end = stringEnd(text, at);
    return end < 0 ? text.length : end;
  }
  if (c === 123 || c === 91) {
    let depth = 0;
    for (let i = at; i < text.length; i++) {
      const d = text.charCodeAt(i);
      if (d === 34) {
        const end = stringEnd(text, i);
        if (end < 0) return text.length;
        i = end - 1;
      } else if (d === 123 || d === 91) depth++;
      else if ((d === 125 || d === 93) && --depth === 0) return i + 1;
    }
    return text.length;
  }
  let i = at;
  while (i < text.length && !/[\s,}\]]/.test(text[i])) i++;
  return i;
}

function skipBlanks(text: string, at: number): number {
  while (at < text.length && isJsonBlank(text.charCodeAt(at))) at++;
  return at;
}

/** JSON's own whitespace, and any other the text may hold (the scan is tolerant). */
function isJsonBlank(c: number): boolean {
  return c === 32 || c === 10 || c === 13 || c === 9 || (c > 127 && /\s/.test(String.fromCharCode(c)));
}
