// How the watch list words the events it shows as sentences (the view escapes and makes them
// printable; these only choose the words). DOM-free.
import type { EventData } from '../../../../common/events/schema.ts';

/** How each `access` event reads (held/approved/denied are about one statement). */
const ACCESS_WORDS: Record<EventData<'access'>['action'], string> = {
  requested: 'waiting for access approval', granted: 'access granted', revoked: 'access revoked', expired: 'access or approval expired',
  held: 'statement held for approval', approved: 'held statement approved', denied: 'held statement denied',
};

/** `access granted by aaron (request #3) until 21:46:19: INC-7`; `until` formats the grant's end. */
export function accessText(a: EventData<'access'>, until: (iso: string) => string): string {
  return `${ACCESS_WORDS[a.action] ?? a.action}${a.by ? ` by ${a.by}` : ''} (request #${a.requestId})${a.expiresAt ? ` until ${until(a.expiresAt)}` : ''}${a.reason ? `: ${a.reason}` : ''}`;
}

export function accessIsBad(a: EventData<'access'>): boolean {
  return a.action === 'denied' || a.action === 'revoked' || a.action === 'expired';
}

/** `denied by rule no-drops (in the DO block) · 1,204 rows: DROP TABLE t`. */
export function guardrailText(g: EventData<'guardrail.hit'>): { verdict: string; statement: string } {
  return {
    verdict: `${g.action === 'deny' ? 'denied' : 'held'} by rule ${g.rule}${g.form ? ` (${g.form})` : ''}${g.rows !== undefined ? ` · ${g.rows.toLocaleString('en-US')} rows` : ''}`,
    statement: g.statement,
  };
}

/** `SELECT 3 · 3 rows · 1.2 ms`, and what was kept of a long result. */
export function resultText(r: EventData<'db.result'>): string {
  const rows = `${r.rowCount.toLocaleString('en-US')} row${r.rowCount === 1 ? '' : 's'}`;
  const kept = r.truncated ? ` · first ${r.rows.length.toLocaleString('en-US')} recorded` : '';
  return `${r.command || '(empty query)'} · ${rows} · ${(r.durationUs / 1000).toFixed(1)} ms${kept}`;
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;
}
