// multipart/form-data (and other multipart/*) bodies, written back as multipart text with CRLF
// line breaks: each part's headers (masked like a head: headers.ts) and its content:
// - a file part (its Content-Disposition has a filename) becomes `[file NAME, N bytes, TYPE]`,
//   never its content (NAME through the detectors; `, TYPE` only when the part has one);
// - a field whose name a column rule names becomes [SECRET_COLUMN] (an empty one stays empty);
// - a field of text (no type, or text/plain) goes through the detectors read after its name
//   (`client_secret=`); a field of another type is masked as a body of that type (a JSON part
//   field by field), and one that is not text becomes `[binary, N bytes, TYPE]`.
// N counts the bytes the recording kept (a part cut at the limit says how much of it was kept).
import { parseMediaType } from './content-type.ts';
import type { FieldMasker } from './field-masker.ts';
import { formDecode } from './form-encoding.ts';
import { maskHeadersInto } from './headers.ts';
import { parseMultipart, type Part } from './multipart-parser.ts';
import { decodeText } from './text-decoding.ts';

/** Masks a body of another type (a part's content); text, or null when it is binary. */
export type MaskPartBody = (contentType: string | undefined, body: Buffer, complete: boolean, f: FieldMasker) => string | null;

/** The masked text of a multipart body, or null when `boundary` does not split it. */
export function maskMultipart(body: Buffer, boundary: string, complete: boolean, f: FieldMasker, maskBody: MaskPartBody): string | null {
  const parsed = parseMultipart(body, boundary);
  if (parsed === null) return null;
  let out = around(parsed.preamble, f);
  for (const part of parsed.parts) {
    const headers = maskHeadersInto(part.headers, f).map(([name, value]) => (name === '' ? value : `${name}: ${value}`));
    out += `--${boundary}\r\n${headers.join('\r\n')}\r\n\r\n${maskContent(part, f, maskBody)}`;
    if (part.complete) out += '\r\n';
  }
  if (parsed.cutHead !== null) out += `--${boundary}\r\n` + around(parsed.cutHead, f);
  if (parsed.closed) out += `--${boundary}--\r\n` + around(parsed.epilogue, f);
  return out;
}

function maskContent(part: Part, f: FieldMasker, maskBody: MaskPartBody): string {
  const disposition = parseMediaType(header(part, 'content-disposition') ?? '');
  const contentType = header(part, 'content-type');
  const type = contentType === undefined ? '' : `, ${oneLine(contentType)}`;
  const filename = fileName(disposition.params);
  if (filename !== undefined) return `[file ${oneLine(f.value(filename, 'filename="', '"'))}, ${part.body.length} bytes${type}]`;
  const name = disposition.params.get('name') ?? '';
  if (part.body.length === 0) return '';
  if (f.isSecretName(name)) return f.secretField();
  const media = contentType === undefined ? null : parseMediaType(contentType);
  if (media === null || media.essence === 'text/plain') {
    const text = decodeText(part.body, media?.params.get('charset'), part.complete);
    if (text !== null) return f.value(text, `${name}=`);
  } else {
    const text = maskBody(contentType, part.body, part.complete, f);
    if (text !== null) return text;
  }
  return `[binary, ${part.body.length} bytes${type}]`;
}

function header(part: Part, name: string): string | undefined {
  return part.headers.find(([n]) => n.toLowerCase() === name)?.[1];
}

/** The file name of a Content-Disposition: filename*=UTF-8''... (RFC 5987) before filename. */
function fileName(params: Map<string, string>): string | undefined {
  const extended = params.get('filename*');
  if (extended !== undefined) {
    const m = /^[^']*'[^']*'(.*)$/.exec(extended);
    if (m) return formDecode(m[1].replace(/\+/g, '%2B'));
  }
  return params.get('filename');
}

/** A preamble, an epilogue or a cut head: text through the detectors, else its size. */
function around(bytes: Buffer, f: FieldMasker): string {
  if (bytes.length === 0) return '';
  const text = decodeText(bytes, undefined, false);
  return text === null ? `[binary, ${bytes.length} bytes]` : f.text(text);
}

/** A value inside a marker, on one line. */
function oneLine(value: string): string {
  return value.replace(/[\r\n]+/g, ' ');
}
