// Secrets that span lines and may still be open at the end of what a stream has shown: a PEM
// private key whose END line has not arrived (a key printed line by line, with pauses), a SQL
// string literal after PASSWORD that is not closed yet, a YAML block scalar after a password key
// whose value line is still to come. A stream (stream-masker.ts) holds such a secret back, whole,
// until it closes or a bound is passed: emitting the part shown so far would either show it in
// clear (nothing matches yet) or cut the match so that its continuation is no longer recognised.
import type { Masker } from './masker.ts';
import type { Span } from './spans.ts';

export interface OpenSecret {
  /** Where it begins (in the already-emitted context too, when a bound cut it earlier). */
  start: number;
  /**
   * The rule it is masked under when held too long, for one no detector matches yet (a BEGIN line
   * not complete, `password: |` before its value); null when a span covers it.
   */
  rule: string | null;
}

/** The longest BEGIN line held as the start of a key (the detector's labels are short). */
const HEADER_MAX = 64;
const BEGIN = '-----BEGIN ';
/** A BEGIN line under way: what follows "-----BEGIN " can still become "... PRIVATE KEY-----". */
const HEADER_REST = /^(?:(?:[A-Z0-9]+ ){0,5}[A-Z0-9]*|(?:[A-Z0-9]+ ){0,3}PRIVATE KEY(?: BLOCK)?-{1,4})$/;
/** PASSWORD and the opening of a string literal ('...', E'...', $tag$...), just before a match. */
const LITERAL_OPENED = /password\s+(?:[eE]?'|\$(?:[A-Za-z_]\w*)?\$)$/i;
/** A PEM block whose END line is complete. */
const PEM_CLOSED = /-----END [A-Z0-9 ]{1,64}-----$/;
/** `password: |` (or `>`, `|-`...) at the end, its value line not begun: CONN_PASSWORD's block scalar. */
const BLOCK_OPENER = /pass(?:word|wd)["']?[ \t]{0,8}(?::=|=>|[:=])[ \t]{0,8}([|>][-+]?[0-9]?[ \t]*(?:\r?\n[ \t]*)?)$/i;

export class OpenSecrets {
  /** Rule names of the openers no span covers yet, when their detector is enabled. */
  private readonly keyRule: string | null;
  private readonly blockRule: string | null;

  constructor(masker: Masker) {
    this.keyRule = ruleOf(masker, `${BEGIN}PRIVATE KEY-----\nx`);
    this.blockRule = ruleOf(masker, 'password: |\n  x');
  }

  /** The multi-line secret still open at the end of `text` (given its spans), or null. */
  find(text: string, spans: readonly Span[]): OpenSecret | null {
    const last = spans.at(-1);
    if (last && last.end >= text.length && spansLines(text, last)) return { start: last.start, rule: null };
    if (this.keyRule !== null) {
      const header = headerStart(text);
      if (header >= 0) return { start: header, rule: this.keyRule };
    }
    if (this.blockRule !== null) {
      const m = BLOCK_OPENER.exec(text.length > 128 ? text.slice(-128) : text);
      if (m) return { start: text.length - m[1].length, rule: this.blockRule };
    }
    return null;
  }
}

/** Whether the match at `start` is a PEM block (its rest can be told by its shape: key-rest.ts). */
export function opensKey(text: string, start: number): boolean {
  return text.startsWith(BEGIN, start);
}

/**
 * Whether a match reaching the end can still grow past the line it is on: it holds a line break
 * already, it is a PEM block, or it is the content of a string literal after PASSWORD not closed
 * yet (ROLE_PASSWORD reads such a literal to its end, across lines).
 */
function spansLines(text: string, span: Span): boolean {
  // A PEM block grows until its END line; once that is whole the block is closed, even when
  // nothing has come after it yet.
  if (text.startsWith(BEGIN, span.start)) return !PEM_CLOSED.test(text.slice(span.start, span.end));
  const nl = text.indexOf('\n', span.start);
  if (nl >= 0 && nl < span.end) return true;
  return LITERAL_OPENED.test(text.slice(Math.max(0, span.start - 64), span.start));
}

/** Start of a BEGIN line still under way at the end of `text` (from its "-----B"), or -1. */
function headerStart(text: string): number {
  const from = Math.max(0, text.length - HEADER_MAX);
  const at = text.slice(from).lastIndexOf('-----B');
  if (at < 0) return -1;
  const head = text.slice(from + at);
  if (head.length <= BEGIN.length) return BEGIN.startsWith(head) ? from + at : -1;
  return head.startsWith(BEGIN) && HEADER_REST.test(head.slice(BEGIN.length)) ? from + at : -1;
}

/** The rule `masker` masks `sample` under, or null when it masks nothing there (detector off). */
function ruleOf(masker: Masker, sample: string): string | null {
  const counts = masker.maskText(sample).counts;
  return counts ? Object.keys(counts)[0] : null;
}
