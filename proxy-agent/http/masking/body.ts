// A request or response body as the recording keeps it (http.body): text masked by what the body
// is (content-type.ts), or only the fact that it is binary. The caller has removed any
// Content-Encoding (gzip, br...): these are the identity bytes, possibly cut at the target's body
// limit (`complete` false).
// - JSON: field by field when complete (json.ts), else as text with its secret keys' values still
//   masked (json-text.ts); a body without a type whose text starts with '{' or '[' is JSON too;
// - forms: pair by pair like a query (query.ts);
// - multipart: part by part (multipart.ts);
// - server-sent events and ndjson: line by line (body-stream.ts), as their streams are;
// - other text: the detectors;
// - anything else, and text that is not valid in its charset (UTF-8 unless the type says
//   otherwise): binary, no text. A body without a type is text when it decodes as UTF-8 without
//   control characters.
import type { MaskCounts } from '../../../common/events/schema.ts';
import type { Masker } from '../../masking/masker.ts';
import { BodyStreamMasker } from './body-stream.ts';
import { bodyKind, type BodyKind, parseMediaType } from './content-type.ts';
import { FieldMasker } from './field-masker.ts';
import { maskJson } from './json.ts';
import { maskJsonText } from './json-text.ts';
import { maskMultipart } from './multipart.ts';
import { maskQueryInto } from './query.ts';
import { decodeText, looksLikeText } from './text-decoding.ts';

export interface MaskBodyOptions {
  masker: Masker;
  /** The whole body is here (false: cut at the recording limit). */
  complete: boolean;
}

export interface MaskedBody {
  /** The masked text; absent for a binary body. */
  text?: string;
  binary?: true;
  counts: MaskCounts | null;
}

export function maskBody(contentType: string | undefined, body: Buffer, opts: MaskBodyOptions): MaskedBody {
  const f = new FieldMasker(opts.masker);
  const text = maskBodyInto(contentType, body, opts.complete, f);
  const counts = f.take();
  return text === null ? { binary: true, counts } : { text, counts };
}

/** maskBody counting into `f`: the masked text, or null when the body is binary. */
export function maskBodyInto(contentType: string | undefined, body: Buffer, complete: boolean, f: FieldMasker): string | null {
  const media = contentType === undefined || contentType.trim() === '' ? null : parseMediaType(contentType);
  let kind: BodyKind | null = bodyKind(media);
  if (kind === 'binary') return null;
  if (kind === 'multipart') {
    const boundary = media?.params.get('boundary');
    const masked = boundary ? maskMultipart(body, boundary, complete, f, maskBodyInto) : null;
    if (masked !== null) return masked;
    kind = null; // no boundary, or not split by it: judged by its bytes
  }
  const text = decodeText(body, media?.params.get('charset'), complete);
  if (text === null) return null;
  if (kind === null) {
    if (!looksLikeText(text)) return null;
    kind = /^\ufeff?\s*[{[]/.test(text) ? 'json' : 'text';
  }
  switch (kind) {
    case 'json':
      return (complete ? maskJson(text, f) : null) ?? maskJsonText(text, f);
    case 'form':
      return maskQueryInto(text, f);
    case 'sse':
    case 'ndjson':
      return maskWholeStream(kind, text, f);
    default:
      return f.text(text);
  }
}

function maskWholeStream(kind: 'sse' | 'ndjson', text: string, f: FieldMasker): string {
  const stream = new BodyStreamMasker({ masker: f.masker, kind });
  const first = stream.push(text);
  const last = stream.end();
  f.add(first.counts);
  f.add(last.counts);
  return first.text + last.text;
}
