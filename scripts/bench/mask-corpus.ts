// Deterministic text for the masking benchmark: the kinds of output the engine meets, each about
// `mb` megabytes, with a few secrets salted in so the detectors' match paths run too. Secrets are
// assembled from parts at run time (no file here holds a token a scanner would flag).
import crypto from 'node:crypto';

export type CorpusKind = 'log lines' | 'base64' | 'SQL' | 'JSON' | 'binary-looking';

let seed = 42;
const rnd = (n: number) => {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return (seed >>> 8) % n;
};
const pick = <T>(xs: readonly T[]) => xs[rnd(xs.length)];
const alnum = (len: number) => Array.from({ length: len }, () => 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'[rnd(62)]).join('');

/** One secret in 200 lines: enough to exercise the match paths, rare like real output. */
const SECRETS: (() => string)[] = [
  () => `user=${pick(['alice', 'bob'])}@example.com`,
  () => `card=4111 1111 1111 1111`,
  () => `token=${['gh', 'p_'].join('')}${alnum(36)}`,
  () => `Authorization: Bearer ${alnum(40)}`,
  () => `DATABASE_URL=postgres://app:${alnum(16)}@db.internal:5432/app`,
  () => `api_key: ${alnum(40)}`,
];

const LINES: Record<Exclude<CorpusKind, 'base64' | 'binary-looking'>, (n: number) => string> = {
  // The lines bench:ssh cats: an application log in key=value form.
  'log lines': (n) => `2026-11-25T10:${String(n % 60).padStart(2, '0')}:00.${String(n % 1000).padStart(3, '0')}Z INFO request id=${n} method=GET path=/api/v1/items/${n % 977} status=200 duration_ms=${n % 97} user=u${n % 311}`,
  SQL: (n) => pick([
    `SELECT o.id, o.total, c.name FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.created_at > now() - interval '${n % 30} days' AND o.status = 'shipped' ORDER BY o.id LIMIT ${n % 100};`,
    `INSERT INTO events (kind, payload, created_at) VALUES ('page_view', '{"path": "/items/${n % 977}"}', '2026-11-25 10:00:00+00');`,
    `UPDATE inventory SET quantity = quantity - ${n % 5}, updated_at = now() WHERE sku = 'SKU-${String(n).padStart(6, '0')}';`,
  ]),
  JSON: (n) => JSON.stringify({ id: n, ts: `2026-11-25T10:00:${String(n % 60).padStart(2, '0')}Z`, level: 'info', msg: 'order shipped', order: { id: `ord_${n}`, items: n % 7, total: (n % 10000) / 100, currency: 'EUR' }, tags: ['checkout', 'eu-west-1'] }),
};

/** About `mb` MB of text of one kind. */
export function corpus(kind: CorpusKind, mb: number): string {
  const bytes = mb * 1024 * 1024;
  if (kind === 'base64') return crypto.randomBytes(Math.floor((bytes * 3) / 4)).toString('base64').replace(/.{76}/g, '$&\n');
  if (kind === 'binary-looking') {
    // What `cat` of a binary file prints: every byte value, decoded as UTF-8 the way the recorder does.
    return crypto.randomBytes(bytes).toString('utf8');
  }
  const line = LINES[kind];
  const parts: string[] = [];
  let size = 0;
  for (let n = 0; size < bytes; n++) {
    const text = n % 200 === 199 ? pick(SECRETS)() : line(n);
    parts.push(text);
    size += text.length + 1;
  }
  return parts.join('\n') + '\n';
}

/** The text cut in pieces of `size` characters, each a flat string as a decoded read would be. */
export function pieces(text: string, size: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(Buffer.from(text.slice(i, i + size)).toString('utf8'));
  return out;
}
