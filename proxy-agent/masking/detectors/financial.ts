// Payment cards, US social security numbers and IBANs: a bounded regex finds the shape, a check
// (Luhn, number ranges, mod-97) decides. Numbers that merely look right are left alone.
import { luhnValid, ibanValid } from '../checksums.ts';
import { T_CARD, T_IBAN, T_SSN } from '../triggers.ts';
import { type Detector, eachMatch } from './detector.ts';

// 13-19 digits, contiguous or in the printed groups (4-4-4-4[-3], 4-6-5, 4-6-4) with one kind of
// separator, not glued to more digits nor followed by another group of four. Card IINs start with 2-6.
const CARD = /(?<!\d|\d-)(?:[2-6]\d{12,18}|[2-6]\d{3}([ -])\d{4}\1\d{4}\1\d{1,4}(\1\d{1,3})?(?!\1\d{4})|[2-6]\d{3}([ -])\d{6}\3\d{4,5}(?!\3\d{4}))(?!\d|-\d)/g;

export const card: Detector = {
  name: 'CARD',
  trigger: T_CARD,
  find(text, out) {
    eachMatch(CARD, text, (m) => {
      let digits = m[0];
      // "4111 1111 1111 1111 12/25": the optional fifth group may be the next number, not part of the card.
      if (m[2] !== undefined && !luhnValid(digits)) digits = digits.slice(0, -m[2].length);
      if (plausibleIin(digits) && luhnValid(digits)) out.add(m.index, m.index + digits.length);
    });
  },
};

/** A leading 2 is Mastercard's 2221-2720 range; this keeps compact dates (2024...) out. */
function plausibleIin(digits: string): boolean {
  if (digits.charCodeAt(0) !== 50) return true;
  const iin = Number(digits.replace(/[ -]/g, '').slice(0, 4));
  return iin >= 2221 && iin <= 2720;
}

// NNN-NN-NNNN without the ranges never issued: area 000, 666 and 9xx, group 00, serial 0000.
const SSN = /(?<![\w]|\d-)(?!000|666|9)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?!-?\d)/g;

export const ssn: Detector = {
  name: 'SSN',
  trigger: T_SSN,
  find(text, out) {
    eachMatch(SSN, text, (m) => out.add(m.index, m.index + m[0].length));
  },
};

// Country, check digits, then the BBAN either contiguous or in printed groups of four.
const IBAN = /(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?:[A-Z0-9]{11,30}|(?: [A-Z0-9]{4}){2,7}(?: [A-Z0-9]{1,3})?)(?![A-Za-z0-9])/g;

export const iban: Detector = {
  name: 'IBAN',
  trigger: T_IBAN,
  find(text, out) {
    eachMatch(IBAN, text, (m) => {
      if (ibanValid(m[0].replace(/ /g, ''))) out.add(m.index, m.index + m[0].length);
    });
  },
};
