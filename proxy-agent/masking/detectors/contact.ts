// Personal contact data: e-mail addresses and phone numbers. Both are found from an anchor
// character ('@', '+') and expanded by hand, which keeps the scan linear on hostile input.
import type { SpanSink } from '../spans.ts';
import { type Detector, isAlnumCode, isDigitCode, isWordCode, matchAt } from './detector.ts';

const isLocalChar = (c: number) => isAlnumCode(c) || c === 46 || c === 95 || c === 37 || c === 43 || c === 45; // . _ % + -
const isDomainChar = (c: number) => isAlnumCode(c) || c === 46 || c === 45;
const isLetter = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122);

export const email: Detector = {
  name: 'EMAIL',
  chars: [{
    char: '@',
    at(text, at, out) {
      // Local parts and domains cannot contain '@', so each scan stops at the neighbouring '@':
      // the whole pass is linear however many '@' there are.
      let start = at;
      while (start > 0 && isLocalChar(text.charCodeAt(start - 1))) start--;
      while (start < at && text.charCodeAt(start) === 46) start++;
      if (start === at || (hasUri(text, out) && isUriUserinfo(text, start, at))) return;
      let end = at + 1;
      while (end < text.length && isDomainChar(text.charCodeAt(end))) end++;
      while (end > at + 1 && !isAlnumCode(text.charCodeAt(end - 1))) end--; // trailing '.' or '-'
      if (validDomain(text, at + 1, end)) out.add(start, end);
    },
  }],
};

/** Whether the text holds a URI at all (asked once per scan: "a@a@a@..." must not look back at every '@'). */
const HAS_URI = Symbol('has a URI');
function hasUri(text: string, out: SpanSink): boolean {
  let known = out.mark(HAS_URI);
  if (known === undefined) out.setMark(HAS_URI, (known = text.includes('://') ? 1 : 0));
  return known === 1;
}

/** Labels are non-empty, the last one is 2+ letters: "example.com", not "host" or "a..b". */
function validDomain(text: string, from: number, to: number): boolean {
  const domain = text.slice(from, to);
  const labels = domain.split('.');
  if (labels.length < 2 || labels.some((l) => l.length === 0 || l.startsWith('-'))) return false;
  const tld = labels[labels.length - 1];
  if (tld.length < 2) return false;
  for (let i = 0; i < tld.length; i++) if (!isLetter(tld.charCodeAt(i))) return false;
  return true;
}

/**
 * Whether the '@' at `at` ends the userinfo of a URI ("scheme://user@host", "scheme://u:p@host"):
 * that is a connection string, and its password is CONN_PASSWORD's to mask, not an address.
 * Looks back at most 256 characters within the same token.
 */
function isUriUserinfo(text: string, localStart: number, at: number): boolean {
  const limit = Math.max(0, localStart - 256);
  for (let p = localStart - 1; p >= limit + 2; p--) {
    const c = text.charCodeAt(p);
    if (c <= 32 || c === 34 || c === 39 || c === 96) return false;
    if (c === 47 && text.charCodeAt(p - 1) === 47 && text.charCodeAt(p - 2) === 58) {
      return p + 1 === localStart || text.slice(p + 1, at).includes(':');
    }
  }
  return false;
}

// North-American numbers without a '+': (555) 123-4567, 555-123-4567, 555.123.4567, optionally
// after "1-". Separators must repeat (555-123.4567 is not taken) and nothing may follow that makes
// it part of a longer number. Run where such a number can start: "(", "1" or three digits.
const NANP = /(?:1[-. ])?(?:\(\d{3}\) ?\d{3}[-. ]\d{4}|\d{3}([-.])\d{3}\1\d{4})(?![\w]|[-.]\d)/y;

function nanpAt(text: string, at: number, out: SpanSink): void {
  const before = at > 0 ? text.charCodeAt(at - 1) : -1;
  if (isWordCode(before) || before === 43 || before === 46 || before === 45) return; // [\w+.-]
  const m = matchAt(NANP, text, at);
  if (m) out.add(at, at + m[0].length);
}

export const phone: Detector = {
  name: 'PHONE',
  chars: [{
    char: '+',
    at(text, at, out) {
      const end = internationalEnd(text, at);
      if (end > 0) out.add(at, end);
    },
  }],
  prefixes: Array.from({ length: 10 }, (_, d) => ({ prefix: `(${d}`, at: nanpAt })),
  digits(text, start, end, out) {
    const len = end - start;
    const sep = text.charCodeAt(end);
    if (len === 3 ? sep === 45 || sep === 46 : len === 1 && text.charCodeAt(start) === 49 && (sep === 45 || sep === 46 || sep === 32)) nanpAt(text, start, out);
  },
};

/**
 * End of an international number starting at '+' (E.164: 8-15 digits in groups split by single
 * spaces, dots, dashes or parentheses), or -1. "10:00:00+00" and "+12345678901234567890" are not
 * phone numbers.
 */
function internationalEnd(text: string, plus: number): number {
  if (plus > 0 && (isAlnumCode(text.charCodeAt(plus - 1)) || text.charCodeAt(plus - 1) === 43)) return -1;
  if (!isDigitCode(text.charCodeAt(plus + 1))) return -1;
  let digits = 0;
  let lastDigitEnd = -1;
  let seps = 0;
  let i = plus + 1;
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (isDigitCode(c)) {
      if (digits === 15) {
        // A 16th digit: inside a group the whole thing is too long; after a separator the number
        // ended with the previous group.
        if (seps === 0) return -1;
        break;
      }
      digits++;
      lastDigitEnd = i + 1;
      seps = 0;
    } else if (c === 32 || c === 45 || c === 46 || c === 40 || c === 41) {
      if (++seps > 2) break; // ") " is fine; three separators in a row end the number
    } else break;
  }
  if (digits < 8) return -1;
  if (i < text.length && isLetter(text.charCodeAt(i)) && i === lastDigitEnd) return -1; // "+4912345678abc"
  return lastDigitEnd;
}
