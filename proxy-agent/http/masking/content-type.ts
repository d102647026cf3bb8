// What a body is, by its Content-Type: how it is masked, or that it is not text at all. Textual
// types are a list; anything else (images, audio, video, fonts, archives, PDF, octet-stream,
// protobuf, gRPC, msgpack, CBOR...) is binary and recorded as its size and type only.

export type BodyKind = 'json' | 'form' | 'multipart' | 'sse' | 'ndjson' | 'text' | 'binary';

export interface MediaType {
  /** "type/subtype", lower case. */
  essence: string;
  /** Parameters by lower-case name (values as written, quotes and escapes read). */
  params: Map<string, string>;
}

/** A Content-Type (or Content-Disposition) value: its first token and its `; name=value` parameters. */
export function parseMediaType(value: string): MediaType {
  const semi = value.indexOf(';');
  const essence = (semi < 0 ? value : value.slice(0, semi)).trim().toLowerCase();
  return { essence, params: semi < 0 ? new Map() : parseParams(value.slice(semi + 1)) };
}

/** `a=1; b="x \"y\""; c` -> a, b (a parameter without '=' is skipped). */
export function parseParams(text: string): Map<string, string> {
  const params = new Map<string, string>();
  const re = /\s*([^=;\s]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;]*))\s*;?|\s*[^;]*;?/gy;
  let m: RegExpExecArray | null;
  while (re.lastIndex < text.length && (m = re.exec(text)) !== null) {
    if (m[0].length === 0) break;
    if (m[1] === undefined) continue;
    const name = m[1].toLowerCase();
    const value = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3].trim();
    if (!params.has(name)) params.set(name, value);
  }
  return params;
}

const JSON_TYPES = new Set(['application/json', 'text/json', 'application/x-json', 'application/csp-report']);
const NDJSON_TYPES = new Set(['application/x-ndjson', 'application/ndjson', 'application/jsonl', 'application/x-jsonlines', 'application/json-lines', 'application/jsonlines']);
const TEXT_TYPES = new Set([
  'application/xml', 'application/javascript', 'application/x-javascript', 'application/ecmascript', 'application/yaml',
  'application/x-yaml', 'application/toml', 'application/graphql', 'application/sql', 'application/x-sh', 'application/csv',
  'application/x-pem-file', 'application/jwt', 'application/x-httpd-php', 'application/rtf', 'message/http',
]);

/** How a body of this media type is masked; null when there is no type (the caller looks at the bytes). */
export function bodyKind(type: MediaType | null): BodyKind | null {
  if (type === null || type.essence === '') return null;
  const t = type.essence;
  if (JSON_TYPES.has(t) || t.endsWith('+json') || t.startsWith('application/x-amz-json-')) return 'json';
  if (t === 'application/x-www-form-urlencoded') return 'form';
  if (t.startsWith('multipart/')) return 'multipart';
  if (t === 'text/event-stream') return 'sse';
  if (NDJSON_TYPES.has(t)) return 'ndjson';
  if (t.startsWith('text/') || TEXT_TYPES.has(t) || t.endsWith('+xml') || t.endsWith('+yaml')) return 'text';
  return 'binary';
}
