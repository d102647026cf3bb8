// Values too long to keep whole in a recording (a query's text, a parameter, a result cell). The
// recording keeps the start of such a value, masked, then a marker with the real size and the
// SHA-256 of the whole value as it crossed the wire (its bytes in the format the client used):
//
//   INSERT INTO t VALUES ('xxxx…xxx[TRUNCATED 104857600 bytes sha256:9f86d0…]
//
// The hash lets anyone holding the value prove it is the one that passed. The kept start is
// masked as a stream is (stream-masker.ts): the end of it, where a secret may have been cut in
// two and no longer be recognisable, is never kept; nothing after the cut is ever recorded.
// A value too long for a message to be held whole arrives already cut, with its size and hash
// (message-cutter.ts); a shorter one is cut and hashed here.
import crypto from 'node:crypto';
import type { Masker, MaskResult } from '../../masking/masker.ts';
import { StreamMasker } from '../../masking/stream-masker.ts';
import type { ValueCut } from '../protocol/message-cutter.ts';
import { TEXT_LIKE_OIDS } from './cell-text.ts';

/** Hex bytes a binary value of another type shows (as cell-text.ts shows them). */
const HEX_PREFIX_BYTES = 64;

export function truncationMarker(cut: ValueCut): string {
  return `[TRUNCATED ${cut.size} bytes sha256:${cut.sha256}]`;
}

/**
 * What of a value is kept: its bytes when they fit `limit`, else their start and the cut (the one
 * given, or measured here).
 */
export function limitValue(bytes: Buffer, cut: ValueCut | undefined, limit: number): { bytes: Buffer; cut?: ValueCut } {
  if (cut) return { bytes: bytes.subarray(0, limit), cut };
  if (bytes.length <= limit) return { bytes };
  return { bytes: bytes.subarray(0, limit), cut: { size: bytes.length, sha256: crypto.createHash('sha256').update(bytes).digest('hex') } };
}

/** A cut value as the recording keeps it: its start (masked unless binary) and the marker. */
export function truncatedText(masker: Masker, start: Buffer, cut: ValueCut, binary: boolean, typeOid: number): MaskResult {
  if (binary && !TEXT_LIKE_OIDS.has(typeOid)) {
    return { text: `\\x${start.subarray(0, HEX_PREFIX_BYTES).toString('hex')}${truncationMarker(cut)}`, counts: null };
  }
  const kept = new StreamMasker(masker).push(start.toString('utf8'));
  return { text: kept.text + truncationMarker(cut), counts: kept.counts };
}

/** A text (a statement, an error message) as the recording keeps it: masked, and cut past `limit` bytes. */
export function limitedText(masker: Masker, text: string, cut: ValueCut | undefined, limit: number): MaskResult {
  if (!cut && text.length * 3 <= limit) return masker.maskText(text);
  const kept = limitValue(Buffer.from(text, 'utf8'), cut, limit);
  return kept.cut ? truncatedText(masker, kept.bytes, kept.cut, false, 0) : masker.maskText(text);
}

