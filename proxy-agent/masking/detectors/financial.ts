// Payment cards, US social security numbers and IBANs: a bounded regex finds the shape, a check
// (Luhn, number ranges, mod-97) decides. Numbers that merely look right are left alone.
import { IBAN_LENGTHS, luhnValid, ibanValid } from '../checksums.ts';
import type { SpanSink } from '../spans.ts';
import { type Detector, isDigitCode, matchAt } from './detector.ts';

// 13-19 digits, contiguous or in the printed groups (4-4-4-4[-3], 4-6-5, 4-6-4) with one kind of
// separator, not glued to more digits nor followed by another group of four. Card IINs start with 2-6.
const CARD = /(?:[2-6]\d{12,18}|[2-6]\d{3}([ -])\d{4}\1\d{4}\1\d{1,4}(\1\d{1,3})?(?!\1\d{4})|[2-6]\d{3}([ -])\d{6}\3\d{4,5}(?!\3\d{4}))(?!\d|-\d)/y;

export const card: Detector = {
  name: 'CARD',
  digits(text, start, end, out) {
    const len = end - start;
    const d0 = text.charCodeAt(start);
    if (d0 < 50 || d0 > 54) return; // IINs of payment cards start with 2-6
    if (len >= 13 ? len > 19 : len !== 4 || (text.charCodeAt(end) !== 32 && text.charCodeAt(end) !== 45) || !isDigitCode(text.charCodeAt(end + 1))) return;
    if (start >= 2 && text.charCodeAt(start - 1) === 45 && isDigitCode(text.charCodeAt(start - 2))) return; // not after "\d-"
    const m = matchAt(CARD, text, start);
    if (m === null) return;
    let digits = m[0];
    // "4111 1111 1111 1111 12/25": the optional fifth group may be the next number, not part of the card.
    if (m[2] !== undefined && !luhnValid(digits)) digits = digits.slice(0, -m[2].length);
    if (plausibleIin(digits) && luhnValid(digits)) out.add(start, start + digits.length);
  },
};

/** A leading 2 is Mastercard's 2221-2720 range; this keeps compact dates (2024...) out. */
function plausibleIin(digits: string): boolean {
  if (digits.charCodeAt(0) !== 50) return true;
  const iin = Number(digits.replace(/[ -]/g, '').slice(0, 4));
  return iin >= 2221 && iin <= 2720;
}

// NNN-NN-NNNN without the ranges never issued: area 000, 666 and 9xx, group 00, serial 0000.
const SSN = /(?!000|666|9)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?!-?\d)/y;

export const ssn: Detector = {
  name: 'SSN',
  digits(text, start, end, out) {
    if (end - start !== 3 || text.charCodeAt(end) !== 45) return;
    const before = start > 0 ? text.charCodeAt(start - 1) : -1;
    if (before === 95 || (before === 45 && isDigitCode(text.charCodeAt(start - 2)))) return; // not after "_" or "\d-"
    const m = matchAt(SSN, text, start);
    if (m) out.add(start, start + m[0].length);
  },
};

// Country, check digits, then the BBAN either contiguous or in printed groups of four.
const IBAN = /[A-Z]{2}\d{2}(?:[A-Z0-9]{11,30}|(?: [A-Z0-9]{4}){2,7}(?: [A-Z0-9]{1,3})?)(?![A-Za-z0-9])/y;

/** At a token starting with a country that has IBANs; the check digits must follow. */
function ibanAt(text: string, at: number, out: SpanSink): void {
  if (!isDigitCode(text.charCodeAt(at + 2)) || !isDigitCode(text.charCodeAt(at + 3))) return;
  const m = matchAt(IBAN, text, at);
  if (m && ibanValid(m[0].replace(/ /g, ''))) out.add(at, at + m[0].length);
}

export const iban: Detector = {
  name: 'IBAN',
  prefixes: Object.keys(IBAN_LENGTHS).map((country) => ({ prefix: country, at: ibanAt })),
};
