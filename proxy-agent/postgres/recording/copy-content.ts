// COPY content (text and CSV formats) masked field by field: a secret column's field becomes
// [SECRET_COLUMN] (secret-values/copy-fields.ts), and every other field's value (its escapes or
// quotes read, copy-field-codec.ts) goes through the detectors, and, for `COPY (query)`, through
// its encodings (encoded-values.ts). A field that changed is written back in the format, so
// whoever reads the data (the client, under client masking) still parses the same rows and fields.
// NULL fields, the header line and the `\.` end-of-data line stay as they are.
import type { MaskCounts } from '../../../common/events/index.ts';
import { mergeCounts, SECRET_COLUMN, type Masker, type MaskResult } from '../../masking/masker.ts';
import { decodeField, encodeField } from '../secret-values/copy-field-codec.ts';
import { maskCopyFields } from '../secret-values/copy-fields.ts';
import type { CopySpec } from '../secret-values/secret-values.ts';
import { maskEncoded } from './encoded-values.ts';

/**
 * `content` masked (whole rows; its first line is the header when spec.header). The same string
 * when nothing in it is masked. `lookThrough`: read values through their encodings.
 */
export function maskCopyContent(content: string, spec: CopySpec, masker: Masker, lookThrough: boolean): MaskResult {
  const counts: MaskCounts = {};
  const maskField = (raw: string): string | null => {
    const value = decodeField(raw, spec);
    const masked = (lookThrough ? maskEncoded(masker, value) : null) ?? masker.maskText(value);
    if (masked.counts === null) return null;
    mergeCounts(counts, masked.counts);
    return encodeField(masked.text, spec);
  };
  const { text, count } = maskCopyFields(content, spec, maskField);
  if (count > 0) counts[SECRET_COLUMN] = (counts[SECRET_COLUMN] ?? 0) + count;
  return { text, counts: Object.keys(counts).length > 0 ? counts : null };
}
