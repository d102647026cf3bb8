// The Sessions page's route, `#/sessions?user=…&target=…&protocol=…&range=…&from=…&to=…`: the filter
// lives in the link, so it can be shared, survives a reload, and Back returns to the one before.
// And the hub's query string for it (GET /api/sessions, pages of 100). DOM-free.
import { PROTOCOLS } from '../search/search-route.ts';
import { checkedRange, type Bounds, type RangeChoice } from './time-range.ts';
import { hashQuery, pageHash } from '../page-hash.ts';

export const SESSION_PAGE = 100;
/** The hub's longest user and target filter. */
export const MAX_NAME = 256;

export interface SessionListFilter extends RangeChoice {
  /** Any part of the user's name, whatever its case. */
  user: string;
  /** Any part of the target's name. */
  target: string;
  /** '' or one of PROTOCOLS. */
  protocol: string;
}

export function emptySessionFilter(): SessionListFilter {
  return { user: '', target: '', protocol: '', range: '', from: '', to: '' };
}

/** The filter a hash names (anything unknown or malformed left empty). */
export function parseSessionListHash(hash: string): SessionListFilter {
  const q = hashQuery(hash, 'sessions');
  if (!q) return emptySessionFilter();
  const field = (name: string) => (q.get(name) ?? '').trim().slice(0, MAX_NAME);
  const protocol = field('protocol');
  return {
    user: field('user'),
    target: field('target'),
    protocol: (PROTOCOLS as readonly string[]).includes(protocol) ? protocol : '',
    ...checkedRange(field('range'), field('from'), field('to')),
  };
}

/** The hash of a filter (empty fields left out; from and to only for a custom range). */
export function sessionListHash(f: SessionListFilter): string {
  const custom = f.range === 'custom';
  return pageHash('sessions', { user: f.user, target: f.target, protocol: f.protocol, range: f.range, from: custom ? f.from : '', to: custom ? f.to : '' });
}

/** The hub's query for a page: the filter, the range's instants (resolved once per listing), and the cursor of the page before. */
export function sessionListParams(f: SessionListFilter, bounds: Bounds, before?: string | null): URLSearchParams {
  const q = new URLSearchParams({ limit: String(SESSION_PAGE) });
  if (f.user.trim()) q.set('user', f.user.trim());
  if (f.target.trim()) q.set('target', f.target.trim());
  if (f.protocol) q.set('protocol', f.protocol);
  if (bounds.from) q.set('from', bounds.from);
  if (bounds.to) q.set('to', bounds.to);
  if (before) q.set('before', before);
  return q;
}
