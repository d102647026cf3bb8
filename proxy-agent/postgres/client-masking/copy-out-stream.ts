// Which masking a COPY TO STDOUT's data gets on its way to the client, from what the statement
// said (its spec) and what the server answered (CopyOutResponse: binary or not). The server's
// word on the format holds. A COPY whose statement could not be read (a string too long to parse)
// has no spec: every field of it is masked (text: each line's fields as the text format splits
// them; binary: every value NULL), withheld rather than leaked.
import type { Masker } from '../../masking/masker.ts';
import type { CopySpec } from '../secret-values/secret-values.ts';
import { BinaryCopyOut } from './binary-copy-out.ts';
import type { CopyOutStream } from './copy-data.ts';
import { TextCopyOut } from './text-copy-out.ts';

export type { CopyOutStream } from './copy-data.ts';

const UNKNOWN_TEXT: CopySpec = { direction: 'out', format: 'text', delimiter: '\t', quote: '"', escape: '"', header: false, secretFields: null };

export function copyOutStream(spec: CopySpec | undefined, binary: boolean, masker: Masker, maxRowBytes: number): CopyOutStream {
  const known = spec !== undefined && (spec.format === 'binary') === binary ? spec : undefined;
  const lookThrough = known?.fromQuery === true;
  if (binary) return new BinaryCopyOut(known ? known.secretFields : null, masker, lookThrough, maxRowBytes);
  return new TextCopyOut(known ?? UNKNOWN_TEXT, masker, lookThrough, maxRowBytes);
}
