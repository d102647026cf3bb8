// A computed value can carry a masked value in an encoding no detector reads: `email::bytea` is
// `\x6772...` on the wire, `encode(convert_to(email, 'UTF8'), 'base64')` is `Z3Jh...`, a whole row
// in binary format is length-prefixed bytes. The value detectors read such a value through its
// encodings (hex, base64 as PostgreSQL writes it, with its line breaks; nested up to three deep),
// and when they find anything the whole value is masked: a part of an encoding cannot be masked
// and still decode. Used for values an expression computed (a column of no table, in the
// server's RowDescription) and the fields of `COPY (query)`, never for a table's own column: a
// stored hash or key would cost a decode per value for nothing.
import type { MaskCounts } from '../../../common/events/index.ts';
import { mergeCounts, type Masker, type MaskResult } from '../../masking/masker.ts';

/** Runs of base64 characters (which hex runs are too), across PostgreSQL's line breaks every 76. */
const RUN = /[A-Za-z0-9+/]{8,}(?:(?:\r?\n|\\n)[A-Za-z0-9+/]+)*={0,2}/g;
const HEX_RUN = /[0-9a-fA-F]{8,}/g;
const LINE_BREAKS = /\r?\n|\\n/g;
const MAX_DEPTH = 3;

/**
 * The value masked whole (the markers of the rules found, `[EMAIL]`) when a detector finds
 * something in what it encodes; null when nothing is found. `direct`: the text is itself a
 * decoded form (a binary value's bytes) and is read as it is too.
 */
export function maskEncoded(masker: Masker, text: string, direct = false): MaskResult | null {
  const counts: MaskCounts = {};
  if (direct) mergeCounts(counts, masker.maskText(text).counts);
  findEncoded(masker, text, MAX_DEPTH, counts);
  const rules = Object.keys(counts);
  if (rules.length === 0) return null;
  return { text: rules.map((rule) => `[${rule}]`).join(' '), counts };
}

function findEncoded(masker: Masker, text: string, depth: number, counts: MaskCounts): void {
  const runs = text.match(RUN);
  if (!runs) return;
  for (const run of runs) {
    const joined = run.replace(LINE_BREAKS, '');
    for (const decoded of decodings(joined)) {
      const found = masker.maskText(decoded).counts;
      if (found) mergeCounts(counts, found);
      else if (depth > 1) findEncoded(masker, decoded, depth - 1, counts);
    }
  }
}

/** What a run may decode to: base64, and hex for each run of hex digits in it (`\x` of bytea left out). */
function decodings(run: string): string[] {
  const out = [Buffer.from(run, 'base64').toString('utf8')];
  for (const hex of run.match(HEX_RUN) ?? []) out.push(Buffer.from(hex.length % 2 ? hex.slice(0, -1) : hex, 'hex').toString('utf8'));
  return out;
}
