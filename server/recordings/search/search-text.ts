// A search as a person types it, made safe and precise before any SQL sees it, and the snippet of
// a hit. The text is never SQL and never tsquery syntax: it becomes terms, each a bound parameter
// (a LIKE pattern with its wildcards escaped, or plain words for plainto_tsquery).
//
// A document matches when it holds every term, case-insensitively:
// - a term with three letters or digits in a row matches anywhere ("pay" finds "payments"), through
//   the trigram index;
// - a shorter term ("rm", "id", "-rf") matches as a whole word, through the word index, since no
//   trigram can find it ("rm" finds `rm -rf /`, not "firmware");
// - "quoted words" are one term, matched as they are written, spaces included.
// A search with nothing an index can find (only punctuation) is refused: it would read everything.
import type { Snippet } from '../../../common/api-contract.ts';
import { StoreInputError } from '../store/session-filter.ts';

export const SEARCH_TEXT_MAX = 256;
export const MAX_TERMS = 8;
/** Characters of a snippet around its first match. */
export const SNIPPET_CHARS = 200;
const SNIPPET_LEAD = 60;

export interface SearchTerm {
  text: string;
  /** `%text%` with \, % and _ escaped (LIKE's default escape is the backslash). */
  pattern: string;
  /** substring: anywhere (the trigram index finds it when it has three letters or digits in a
   * row); word: as a whole word (the word index finds it). */
  match: 'substring' | 'word';
}

export interface ParsedSearch {
  /** The terms joined by single spaces: the phrase that ranks highest, and the words to rank by. */
  phrase: string;
  terms: SearchTerm[];
}

/** A stretch of a document around a match; highlights are [start, end) offsets into text (UTF-16). */
export type { Snippet };

const TRIGRAM_RUN = /[\p{L}\p{N}]{3}/u;
const WORD_CHAR = /[\p{L}\p{N}]/u;

export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** Throws StoreInputError for a search that is empty, too long, or has nothing indexable. */
export function parseSearchText(input: string): ParsedSearch {
  if (typeof input !== 'string') throw new StoreInputError('the search text must be a string');
  if (input.length > SEARCH_TEXT_MAX) throw new StoreInputError(`the search text is longer than ${SEARCH_TEXT_MAX} characters`);
  // Controls (a NUL in particular, which no PostgreSQL text may hold) are spaces here.
  const clean = input.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ');
  const seen = new Set<string>();
  const terms: SearchTerm[] = [];
  for (const m of clean.matchAll(/"([^"]*)"?|(\S+)/g)) {
    const text = (m[1] ?? m[2]).replace(/\s+/g, ' ').replace(/"/g, '').trim();
    if (!text || seen.has(text.toLowerCase())) continue;
    seen.add(text.toLowerCase());
    terms.push({ text, pattern: `%${escapeLike(text)}%`, match: TRIGRAM_RUN.test(text) || !WORD_CHAR.test(text) ? 'substring' : 'word' });
  }
  if (terms.length === 0) throw new StoreInputError('the search text is empty');
  if (terms.length > MAX_TERMS) throw new StoreInputError(`a search takes at most ${MAX_TERMS} terms`);
  if (!terms.some((t) => WORD_CHAR.test(t.text))) {
    throw new StoreInputError('search for at least one word: punctuation alone cannot be looked up');
  }
  return { phrase: terms.map((t) => t.text).join(' '), terms };
}

/**
 * About SNIPPET_CHARS of text around the first place a term (the whole phrase first) occurs,
 * whitespace folded to single spaces, with every occurrence of every term marked. `…` shows text
 * left out at either end.
 */
export function snippetOf(text: string, search: ParsedSearch): Snippet {
  const finders = [search.phrase, ...search.terms.map((t) => t.text)].map((t) => finder(t, search));
  let first = -1;
  for (const f of finders) {
    f.lastIndex = 0;
    const m = f.exec(text);
    if (m) {
      first = m.index;
      break;
    }
  }
  let start = Math.max(0, first - SNIPPET_LEAD);
  if (start > 0) {
    // Begin at a word when one begins shortly before.
    const space = text.slice(start, Math.max(start, first)).search(/\s/);
    if (space >= 0 && space < 20) start += space + 1;
  }
  const end = Math.min(text.length, start + SNIPPET_CHARS);
  const body = text.slice(start, end).replace(/\s+/g, ' ');
  const prefix = start > 0 ? '…' : '';
  const shown = prefix + body + (end < text.length ? '…' : '');
  const marks: { start: number; end: number }[] = [];
  for (const f of finders.slice(1)) {
    f.lastIndex = 0;
    for (const m of body.matchAll(f)) if (m[0].length > 0) marks.push({ start: prefix.length + m.index, end: prefix.length + m.index + m[0].length });
  }
  return { text: shown, highlights: merge(marks) };
}

function finder(term: string, search: ParsedSearch): RegExp {
  const source = term.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/ /g, '\\s+');
  const word = search.terms.find((t) => t.text === term)?.match === 'word';
  return new RegExp(word ? `(?<![\\p{L}\\p{N}])${source}(?![\\p{L}\\p{N}])` : source, 'giu');
}

function merge(marks: { start: number; end: number }[]): { start: number; end: number }[] {
  marks.sort((a, b) => a.start - b.start || b.end - a.end);
  const merged: { start: number; end: number }[] = [];
  for (const m of marks) {
    const last = merged.at(-1);
    if (last && m.start <= last.end) last.end = Math.max(last.end, m.end);
    else merged.push({ ...m });
  }
  return merged;
}
