// Query strings and form bodies (application/x-www-form-urlencoded), masked pair by pair: names
// and order stay, a value whose name a column rule names becomes [SECRET_COLUMN] whole, every
// other value (and every name) goes through the detectors after being decoded, read after its
// name (`client_secret=`). A pair that changed is encoded back (form-encoding.ts); the others keep
// their bytes. Empty values and pairs without '=' stay.
import type { MaskCounts } from '../../../common/events/schema.ts';
import type { Masker } from '../../masking/masker.ts';
import { FieldMasker } from './field-masker.ts';
import { formDecode, formEncode } from './form-encoding.ts';

/** A query string without its '?' (or a form body), masked. */
export function maskQuery(query: string, masker: Masker): { text: string; counts: MaskCounts | null } {
  const f = new FieldMasker(masker);
  return { text: maskQueryInto(query, f), counts: f.take() };
}

export function maskQueryInto(query: string, f: FieldMasker): string {
  if (query.length === 0) return query;
  return query.split('&').map((pair) => maskPair(pair, f)).join('&');
}

function maskPair(pair: string, f: FieldMasker): string {
  if (pair.length === 0) return pair;
  const eq = pair.indexOf('=');
  const rawName = eq < 0 ? pair : pair.slice(0, eq);
  const name = formDecode(rawName);
  const maskedName = f.value(name);
  const outName = maskedName === name ? rawName : formEncode(maskedName);
  if (eq < 0) return outName;
  const rawValue = pair.slice(eq + 1);
  const value = formDecode(rawValue);
  if (value.length === 0) return `${outName}=${rawValue}`;
  if (f.isSecretName(name)) return `${outName}=${formEncode(f.secretField())}`;
  const masked = f.value(value, `${name}=`);
  return `${outName}=${masked === value ? rawValue : formEncode(masked)}`;
}

/**
 * A URL (absolute or a path) masked: the part before '?' by the detectors (a password in
 * user:password@), the query as a query, and a fragment holding '=' as one too (an OAuth
 * redirect's `#access_token=...`), else by the detectors.
 */
export function maskUrl(url: string, masker: Masker): { text: string; counts: MaskCounts | null } {
  const f = new FieldMasker(masker);
  return { text: maskUrlInto(url, f), counts: f.take() };
}

export function maskUrlInto(url: string, f: FieldMasker): string {
  const hash = url.indexOf('#');
  const beforeHash = hash < 0 ? url : url.slice(0, hash);
  const q = beforeHash.indexOf('?');
  let out = f.text(q < 0 ? beforeHash : beforeHash.slice(0, q));
  if (q >= 0) out += '?' + maskQueryInto(beforeHash.slice(q + 1), f);
  if (hash >= 0) {
    const fragment = url.slice(hash + 1);
    out += '#' + (fragment.includes('=') ? maskQueryInto(fragment, f) : f.text(fragment));
  }
  return out;
}
