// The scanner's view of a SQL string: the parse tree only gives where a constant starts, the tokens
// give where it ends. Everything here counts in UTF-8 bytes, as libpg-query does, until
// toUtf16Spans() converts the final spans for the JS string.
import type { ScanToken } from 'libpg-query';

/** [start, end) in UTF-8 bytes of the SQL string. */
export type ByteSpan = [number, number];

/**
 * How a literal token begins: a quoted string (with E, B, X or U& prefix), a dollar quote ($$ or
 * $tag$, unlike a $1 parameter) or a number. Read from the text because the scanner's token names
 * are UNKNOWN for several literal kinds (U&'..', B'..', X'..').
 */
const LITERAL_START = /^(?:[eEbBxX]?'|[uU]&'|\$(?:[A-Za-z_\u0080-\uffff][\w\u0080-\uffff]*)?\$|\.?\d)/;
const NUMBER_START = /^\.?\d/;
const BOOLEAN = /^(?:true|false)$/i;
const NAME = /^(?:[A-Za-z_\u0080-\uffff][\w$\u0080-\uffff]*|"(?:[^"]|"")*")$/;
/** Tokens that end the search for an option's value: the next option or the end of the list. */
const OPTION_END = new Set([',', ')', ';']);

export class SqlTokens {
  constructor(private readonly tokens: readonly ScanToken[]) {}

  /**
   * The whole literal of a constant whose parse-tree location is `byte`: a negative number from its
   * minus sign, a U&'..' string with its UESCAPE clause, TRUE/FALSE. Undefined when no literal
   * starts there (a location the tree made up).
   */
  constantAt(byte: number): ByteSpan | undefined {
    const i = this.indexAt(byte);
    if (i < 0) return undefined;
    const token = this.tokens[i];
    if (token.text === '-') {
      const next = this.next(i);
      return next >= 0 && NUMBER_START.test(this.tokens[next].text) ? [token.start, this.tokens[next].end] : undefined;
    }
    if (LITERAL_START.test(token.text)) return this.literalExtent(i);
    return BOOLEAN.test(token.text) ? [token.start, token.end] : undefined;
  }

  /**
   * The first literal within `maxTokens` tokens from the one at or after `byte`, stopping at the end
   * of an option list item: the value of `password 'x'` or `ENCRYPTED PASSWORD 'x'`, whose parse
   * node keeps the value but no location of it.
   */
  literalAfter(byte: number, maxTokens: number): ByteSpan | undefined {
    let i = this.firstAtOrAfter(byte);
    for (let seen = 0; i >= 0 && seen < maxTokens; i = this.next(i), seen++) {
      const text = this.tokens[i].text;
      if (LITERAL_START.test(text)) return this.literalExtent(i);
      if (OPTION_END.has(text)) return undefined;
    }
    return undefined;
  }

  /** The literal following the keyword `keyword` within [from, to) bytes (CONNECTION '...'). */
  literalAfterKeyword(keyword: string, from: number, to: number): ByteSpan | undefined {
    for (let i = this.firstAtOrAfter(from); i >= 0 && this.tokens[i].start < to; i = this.next(i)) {
      if (this.tokens[i].text.toLowerCase() === keyword) {
        const value = this.next(i);
        return value >= 0 && LITERAL_START.test(this.tokens[value].text) ? this.literalExtent(value) : undefined;
      }
    }
    return undefined;
  }

  /** Every string, number and bit-string literal (for the fallback when the parser refuses). */
  allLiterals(): ByteSpan[] {
    const spans: ByteSpan[] = [];
    for (let i = 0; i < this.tokens.length; i++) {
      if (LITERAL_START.test(this.tokens[i].text)) spans.push(this.literalExtent(i));
    }
    return spans;
  }

  /** The numbers of the $n parameter tokens. */
  parameterNumbers(): number[] {
    return this.tokens.filter((t) => /^\$\d+$/.test(t.text)).map((t) => Number(t.text.slice(1)));
  }

  /** Identifier and keyword tokens as names: unquoted ones lower-cased, quoted ones unquoted. */
  names(): string[] {
    return this.tokens
      .map((t) => t.text)
      .filter((text) => NAME.test(text))
      .map((text) => (text.startsWith('"') ? text.slice(1, -1).replace(/""/g, '"') : text.toLowerCase()));
  }

  /** A U&'..' string runs on through `UESCAPE '!'`; other literals are one token. */
  private literalExtent(i: number): ByteSpan {
    const token = this.tokens[i];
    if (/^[uU]&/.test(token.text)) {
      const keyword = this.next(i);
      const escape = keyword >= 0 ? this.next(keyword) : -1;
      if (escape >= 0 && this.tokens[keyword].text.toLowerCase() === 'uescape') return [token.start, this.tokens[escape].end];
    }
    return [token.start, token.end];
  }

  /** The index of the token starting exactly at `byte`, or -1. */
  private indexAt(byte: number): number {
    const i = this.firstAtOrAfter(byte);
    return i >= 0 && this.tokens[i].start === byte ? i : -1;
  }

  /** Binary search: the first token starting at or after `byte`, or -1. */
  private firstAtOrAfter(byte: number): number {
    let low = 0;
    let high = this.tokens.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.tokens[mid].start < byte) low = mid + 1;
      else high = mid;
    }
    return low < this.tokens.length ? low : -1;
  }

  /** The next token after i that is not a comment, or -1. */
  private next(i: number): number {
    for (let j = i + 1; j < this.tokens.length; j++) {
      const text = this.tokens[j].text;
      if (!text.startsWith('--') && !text.startsWith('/*')) return j;
    }
    return -1;
  }
}

/** Sorts spans and merges the ones that overlap (the same constant is reached more than once). */
export function mergeSpans(spans: ByteSpan[]): ByteSpan[] {
  const sorted = spans.slice().sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const merged: ByteSpan[] = [];
  for (const span of sorted) {
    const last = merged.at(-1);
    if (last && span[0] < last[1]) last[1] = Math.max(last[1], span[1]);
    else merged.push([span[0], span[1]]);
  }
  return merged;
}

/** Byte spans (sorted, non-overlapping) -> UTF-16 spans of `sql`, in one pass. */
export function toUtf16Spans(sql: string, spans: readonly ByteSpan[]): Array<[number, number]> {
  if (sql.length === Buffer.byteLength(sql, 'utf8')) return spans.map(([s, e]) => [s, e]);
  let unit = 0;
  let byte = 0;
  const advanceTo = (target: number): number => {
    while (byte < target && unit < sql.length) {
      const c = sql.charCodeAt(unit);
      if (c < 0x80) byte += 1;
      else if (c < 0x800) byte += 2;
      else if (c >= 0xd800 && c <= 0xdbff && isLowSurrogate(sql.charCodeAt(unit + 1))) {
        byte += 4;
        unit += 1;
      } else byte += 3; // lone surrogates too: UTF-8 encodes them as U+FFFD
      unit += 1;
    }
    return unit;
  };
  return spans.map(([s, e]) => [advanceTo(s), advanceTo(e)]);
}

function isLowSurrogate(c: number): boolean {
  return c >= 0xdc00 && c <= 0xdfff;
}

/**
 * Last resort when even the scanner refuses the text (an unterminated string): every '...' run in
 * UTF-16 offsets, '' kept inside, \' too after an E prefix; an unterminated run goes to the end.
 */
export function quotedRuns(sql: string): Array<[number, number]> {
  const runs: Array<[number, number]> = [];
  let open = sql.indexOf("'");
  while (open >= 0) {
    const backslashEscapes = open > 0 && (sql[open - 1] === 'E' || sql[open - 1] === 'e');
    let close = open + 1;
    for (;;) {
      close = sql.indexOf("'", close);
      if (close < 0) {
        runs.push([open, sql.length]);
        return runs;
      }
      if (sql[close + 1] === "'") close += 2;
      else if (backslashEscapes && isEscaped(sql, close)) close += 1;
      else break;
    }
    runs.push([open, close + 1]);
    open = sql.indexOf("'", close + 1);
  }
  return runs;
}

/** An odd run of backslashes before `at`. */
function isEscaped(sql: string, at: number): boolean {
  let backslashes = 0;
  for (let i = at - 1; sql[i] === '\\'; i--) backslashes++;
  return backslashes % 2 === 1;
}

/**
 * Every constant of a statement found by hand, without the parser (for statements too long to
 * parse): quoted strings ('...', E'...', $tag$...$tag$) and numbers standing alone, as UTF-16
 * spans, and every $n parameter. Linear; over-masks rather than misses (a quote in a comment
 * opens a string).
 */
export function constantsByHand(sql: string): { literals: Array<[number, number]>; params: number[] } {
  const literals: Array<[number, number]> = [];
  const params = new Set<number>();
  const n = sql.length;
  let i = 0;
  while (i < n) {
    const c = sql.charCodeAt(i);
    if (c === 39) { // '
      const escapes = i > 0 && (sql.charCodeAt(i - 1) | 0x20) === 101; // E'...'
      let j = i + 1;
      for (; j < n; j++) {
        const d = sql.charCodeAt(j);
        if (escapes && d === 92) j++;
        else if (d === 39) {
          if (sql.charCodeAt(j + 1) === 39) j++;
          else break;
        }
      }
      literals.push([escapes ? i - 1 : i, Math.min(j + 1, n)]);
      i = j + 1;
    } else if (c === 36) { // $n or $tag$
      const tag = /^\$(?:[A-Za-z_][A-Za-z_0-9]*)?\$/.exec(sql.slice(i, i + 64));
      const number = /^\$(\d+)/.exec(sql.slice(i, i + 12));
      if (tag && !isIdentifierChar(sql.charCodeAt(i - 1))) {
        const close = sql.indexOf(tag[0], i + tag[0].length);
        const end = close < 0 ? n : close + tag[0].length;
        literals.push([i, end]);
        i = end;
      } else if (number) {
        params.add(Number(number[1]));
        i += number[0].length;
      } else i++;
    } else if (c >= 48 && c <= 57 && !isIdentifierChar(sql.charCodeAt(i - 1)) && sql.charCodeAt(i - 1) !== 36) {
      let j = i;
      while (j < n && isNumberChar(sql.charCodeAt(j))) j++;
      literals.push([i > 0 && sql.charCodeAt(i - 1) === 45 ? i - 1 : i, j]);
      i = j;
    } else i++;
  }
  return { literals, params: [...params] };
}

const isIdentifierChar = (c: number) => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c > 127;
const isNumberChar = (c: number) => (c >= 48 && c <= 57) || c === 46 || c === 101 || c === 69 || c === 95;
