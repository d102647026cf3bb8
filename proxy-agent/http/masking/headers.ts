// A request's or response's head, masked for the recording (http.request, http.response):
// - credentials always, whatever they look like: Authorization and Proxy-Authorization keep their
//   scheme when it is a known one (`Bearer [CREDENTIAL]`: the auditor sees how the client
//   authenticated), X-Api-Key, X-Auth-Token and the target's `extra` names become [CREDENTIAL],
//   Cookie and Set-Cookie keep their cookie names and attributes (cookies.ts);
// - a header named by a column rule (`X-Amz-Security-Token`, `X-Goog-Api-Key`: secret-names.ts)
//   becomes [SECRET_COLUMN], like a secret column's value;
// - a header holding a URL (Location, Referer, Content-Location, HTTP/2 :path) has its query and
//   fragment masked as a query (query.ts: `?token=` and an OAuth redirect's `#access_token=`);
// - any other value goes through the detectors, read after its name (a JWT in a custom header).
// Names and order stay; an empty value stays empty.
import type { MaskCounts } from '../../../common/events/schema.ts';
import type { Masker } from '../../masking/masker.ts';
import { maskCookie, maskSetCookie } from './cookies.ts';
import { FieldMasker } from './field-masker.ts';
import { maskUrlInto } from './query.ts';

export type Header = [string, string];

export interface MaskHeadersOptions {
  masker: Masker;
  /** More header names (any case) whose values are credentials, masked whole. */
  extra?: readonly string[];
}

/** Headers whose values are credentials whatever they look like (lower case). */
export const CREDENTIAL_HEADERS: readonly string[] = ['authorization', 'proxy-authorization', 'x-api-key', 'x-auth-token'];

/** Headers whose value is a URL (lower case). */
const URL_HEADERS = new Set(['location', 'content-location', 'referer', ':path']);

/** Authorization schemes kept before the marker (lower case); any other value is masked from its start. */
const SCHEMES = new Set([
  'basic', 'bearer', 'digest', 'negotiate', 'ntlm', 'hoba', 'mutual', 'scram-sha-1', 'scram-sha-256', 'vapid', 'dpop',
  'token', 'aws4-hmac-sha256', 'gnap', 'privatetoken', 'concealed',
]);

export function maskHeaders(headers: readonly Header[], opts: MaskHeadersOptions): { headers: Header[]; counts: MaskCounts | null } {
  const f = new FieldMasker(opts.masker);
  return { headers: maskHeadersInto(headers, f, opts.extra ?? []), counts: f.take() };
}

/** maskHeaders counting into `f` (a multipart part's headers count with its body). */
export function maskHeadersInto(headers: readonly Header[], f: FieldMasker, extra: readonly string[] = []): Header[] {
  const extraNames = extra.length === 0 ? null : new Set(extra.map((n) => n.toLowerCase()));
  return headers.map(([name, value]): Header => [name, maskHeaderValue(name, value, f, extraNames)]);
}

function maskHeaderValue(name: string, value: string, f: FieldMasker, extra: ReadonlySet<string> | null): string {
  if (value.trim().length === 0) return value;
  const lower = name.toLowerCase();
  if (extra?.has(lower)) return f.credential();
  if (lower === 'authorization' || lower === 'proxy-authorization') return maskAuthorization(value, f);
  if (lower === 'cookie') return maskCookie(value, f);
  if (lower === 'set-cookie') return maskSetCookie(value, f);
  if (CREDENTIAL_HEADERS.includes(lower)) return f.credential();
  if (f.isSecretName(lower)) return f.secretField();
  if (URL_HEADERS.has(lower)) return maskUrlInto(value, f);
  return f.value(value, `${name}: `);
}

/** `Bearer abc` -> `Bearer [CREDENTIAL]`; a value without a known scheme is masked whole. */
function maskAuthorization(value: string, f: FieldMasker): string {
  const m = /^(\s*)([A-Za-z][A-Za-z0-9-]{0,31})(\s+)\S/.exec(value);
  if (m === null || !SCHEMES.has(m[2].toLowerCase())) return f.credential();
  return m[1] + m[2] + m[3] + f.credential();
}
