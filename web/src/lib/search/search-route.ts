// The Search page's route, `#/search?q=TEXT&user=…&target=…&protocol=…&from=DAY&to=DAY&ended=…`:
// what is searched lives in the link, so a search can be shared, reloaded and gone back to. And
// the hub's query string for it (GET /api/search). Days are the viewer's calendar days: `from`
// from that day's start, `to` up to the end of that day. DOM-free.
import { hashQuery, pageHash } from '../page-hash.ts';
import type { SessionEndReason } from '../../../../common/events/schema.ts';

export const PROTOCOLS = ['postgres', 'ssh', 'http'] as const;

/** How a session may end (the hub's SessionEndReason), for the "how it ended" filter. */
export const END_REASONS = [
  'client_terminate', 'client_disconnect', 'upstream_closed', 'upstream_error', 'auth_failed', 'recording_unavailable',
  'protocol_error', 'killed', 'revoked', 'grant_expired', 'access_refused', 'locked', 'agent_shutdown', 'agent_lost', 'agent_restarted',
  'idle', 'token_expired',
] as const satisfies readonly SessionEndReason[];
// Every reason the contract knows is offered: a new one fails the type check here.
type Unlisted = Exclude<SessionEndReason, (typeof END_REASONS)[number]>;
const everyReason: [Unlisted] extends [never] ? true : Unlisted = true;
void everyReason;

export interface SearchForm {
  q: string;
  user: string;
  target: string;
  /** '' or one of PROTOCOLS. */
  protocol: string;
  /** '' or YYYY-MM-DD. */
  from: string;
  to: string;
  /** '' or one of END_REASONS. */
  ended: string;
}

const FIELDS = ['q', 'user', 'target', 'protocol', 'from', 'to', 'ended'] as const;
const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
/** The hub's longest search text and filter values. */
const MAX = 256;

export function emptySearch(): SearchForm {
  return { q: '', user: '', target: '', protocol: '', from: '', to: '', ended: '' };
}

/** The search a hash names (anything unknown or malformed left empty). */
export function parseSearchHash(hash: string): SearchForm {
  const form = emptySearch();
  const q = hashQuery(hash, 'search');
  if (!q) return form;
  for (const f of FIELDS) form[f] = (q.get(f) ?? '').slice(0, MAX);
  if (!(PROTOCOLS as readonly string[]).includes(form.protocol)) form.protocol = '';
  if (!(END_REASONS as readonly string[]).includes(form.ended)) form.ended = '';
  if (dayStart(form.from) === null) form.from = '';
  if (dayStart(form.to) === null) form.to = '';
  return form;
}

/** The hash of a search (empty fields left out). */
export function searchHash(form: SearchForm): string {
  return pageHash('search', Object.fromEntries(FIELDS.map((f) => [f, form[f]])));
}

/** Whether there is anything to search for. */
export function hasText(form: SearchForm): boolean {
  return form.q.trim().length > 0;
}

/** The hub's query string for a search (and the cursor of the page after the last one read). */
export function searchParams(form: SearchForm, cursor?: string | null): URLSearchParams {
  const q = new URLSearchParams({ q: form.q.trim().slice(0, MAX) });
  if (form.user.trim()) q.set('user', form.user.trim());
  if (form.target.trim()) q.set('target', form.target.trim());
  if (form.protocol) q.set('protocol', form.protocol);
  const from = dayStart(form.from);
  if (from) q.set('from', from.toISOString());
  const to = dayStart(form.to);
  if (to) q.set('to', new Date(to.getFullYear(), to.getMonth(), to.getDate() + 1).toISOString());
  if (form.ended) q.set('ended', form.ended);
  if (cursor) q.set('cursor', cursor);
  return q;
}

/** A YYYY-MM-DD day's start in the viewer's time zone, or null when it is not a real day. */
export function dayStart(day: string): Date | null {
  const m = DAY.exec(day);
  if (!m) return null;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const at = new Date(y, mo - 1, d);
  return at.getFullYear() === y && at.getMonth() === mo - 1 && at.getDate() === d ? at : null;
}
