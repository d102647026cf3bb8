// Cookie and Set-Cookie values: the cookie names and the Set-Cookie attributes stay (an auditor
// sees which session cookie was set, for which path, how long, HttpOnly or not), every cookie
// value becomes [CREDENTIAL] (each counted): `sid=[CREDENTIAL]; Path=/; HttpOnly`. An empty
// value (a cookie being cleared: `sid=; Max-Age=0`) stays empty. The attributes still go through
// the detectors.
import type { FieldMasker } from './field-masker.ts';

/** A Cookie header: `a=1; b=2` -> `a=[CREDENTIAL]; b=[CREDENTIAL]`. */
export function maskCookie(value: string, f: FieldMasker): string {
  return value.split(';').map((pair) => maskPair(pair, f)).join(';');
}

/**
 * A Set-Cookie header. Several cookies folded into one value with commas (what some libraries do
 * with repeated Set-Cookie headers) are each masked; the comma in `Expires=Wed, 21 Oct 2015 ...`
 * does not start a cookie (no `name=` follows it).
 */
export function maskSetCookie(value: string, f: FieldMasker): string {
  return value.split(/,(?=[ \t]*[^;,=\s]+=)/).map((cookie) => maskOneSetCookie(cookie, f)).join(',');
}

function maskOneSetCookie(cookie: string, f: FieldMasker): string {
  const semi = cookie.indexOf(';');
  if (semi < 0) return maskPair(cookie, f);
  return maskPair(cookie.slice(0, semi), f) + f.text(cookie.slice(semi));
}

/** One `name=value` (blanks around kept); a pair without '=' is a value without a name. */
function maskPair(pair: string, f: FieldMasker): string {
  const eq = pair.indexOf('=');
  const raw = eq < 0 ? pair : pair.slice(eq + 1);
  const value = raw.trim();
  if (value.length === 0 || value === '""') return pair;
  const lead = raw.slice(0, raw.length - raw.trimStart().length);
  const trail = raw.slice(raw.trimEnd().length);
  return (eq < 0 ? '' : pair.slice(0, eq + 1)) + lead + f.credential() + trail;
}
