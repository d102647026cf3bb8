// An audit entry's detail object as labelled fields for a <dl>, not raw `key: value` text: keys
// in words ("agentGone" -> "Agent gone"), durations in milliseconds as a person reads them
// ("durationMs": 5400000 -> Duration 1h 30m), times in the dashboard's format, arrays as comma
// lists, nested objects flattened under their parent's label. Values stay text (recorded, hostile):
// the page shows them with printable(). DOM-free.
import { formatDuration } from '../../../../common/time-format.ts';

export interface DetailField {
  label: string;
  value: string;
}

export interface DetailOptions {
  /** How a moment is written (the page passes time.svelte.ts's `at`). */
  time(iso: string): string;
}

/** Nesting flattened this deep; anything deeper is shown as JSON. */
const MAX_DEPTH = 3;
const ACRONYMS: Record<string, string> = { id: 'ID', ids: 'IDs', ip: 'IP', url: 'URL', sql: 'SQL', ssh: 'SSH', http: 'HTTP', jti: 'JTI', ttl: 'TTL' };
const ISO_MOMENT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;

/** A key's words, acronyms in capitals: `requestId` -> ["request", "ID"]; a duration's `Ms` is dropped. */
function wordsOf(key: string): string[] {
  const words = key
    .replace(/Ms$/, '')
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .split(/[\s_-]+/)
    .filter(Boolean)
    .map((w) => ACRONYMS[w.toLowerCase()] ?? w.toLowerCase());
  return words.length > 0 ? words : [key];
}

/** A key as words: `agentGone` -> "Agent gone", `request_id` -> "Request ID", `durationMs` -> "Duration". */
export function labelOf(key: string): string {
  const [first, ...rest] = wordsOf(key);
  return [first.charAt(0).toUpperCase() + first.slice(1), ...rest].join(' ');
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** One value as text (arrays and objects inline). */
function textOf(value: unknown, key: string, opts: DetailOptions): string {
  if (value === null || value === undefined) return 'none';
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (typeof value === 'number') return /Ms$/.test(key) ? formatDuration(value) : String(value);
  if (typeof value === 'string') return ISO_MOMENT.test(value) && !Number.isNaN(Date.parse(value)) ? opts.time(value) : value;
  if (Array.isArray(value)) return value.length === 0 ? 'none' : value.map((v) => textOf(v, key, opts)).join(', ');
  if (isPlainObject(value) && Object.keys(value).length === 0) return 'none';
  if (isPlainObject(value)) return Object.entries(value).map(([k, v]) => `${wordsOf(k).join(' ')} ${textOf(v, k, opts)}`).join('; ');
  return JSON.stringify(value) ?? String(value);
}

/** The detail's fields in their order, nested objects flattened ("Grant" { "until" } -> "Grant until"). */
export function detailFields(detail: Record<string, unknown>, opts: DetailOptions): DetailField[] {
  const fields: DetailField[] = [];
  const walk = (object: Record<string, unknown>, prefix: string, depth: number) => {
    for (const [key, value] of Object.entries(object)) {
      const label = prefix ? `${prefix} ${wordsOf(key).join(' ')}` : labelOf(key);
      if (isPlainObject(value) && Object.keys(value).length > 0) {
        if (depth < MAX_DEPTH) walk(value, label, depth + 1);
        else fields.push({ label, value: JSON.stringify(value) });
      } else {
        fields.push({ label, value: textOf(value, key, opts) });
      }
    }
  };
  walk(detail, '', 1);
  return fields;
}
