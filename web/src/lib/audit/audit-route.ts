// The Audit page's route, `#/audit?actor=…&action=…&target=…&session=…&range=…&from=…&to=…`: the
// filter lives in the link (shared, kept on reload, Back returns to the one before), and the hub's
// query string for it (GET /api/audit, pages of 100). DOM-free.
import { SESSION_ID_PATTERN } from '../../../../common/link-patterns.ts';
import { checkedRange, type Bounds, type RangeChoice } from '../sessions/time-range.ts';
import { hashQuery, pageHash } from '../page-hash.ts';

export const AUDIT_PAGE = 100;
export const MAX_NAME = 256;
/** An action (`session.killed`), or a prefix ending in a dot (`session.`): what the hub takes. */
const ACTION = /^[a-z0-9_]+(\.[a-z0-9_]+)*\.?$/;

export interface AuditFilter extends RangeChoice {
  /** Any part of who did it, whatever its case. */
  actor: string;
  /** Exactly, or every action under a prefix ending in a dot. */
  action: string;
  /** Any part of what it was done to. */
  target: string;
  /** One session's entries. */
  session: string;
}

export function emptyAuditFilter(): AuditFilter {
  return { actor: '', action: '', target: '', session: '', range: '', from: '', to: '' };
}

/** The action as the hub reads it (lower case), or null when it cannot be one. */
export function normalAction(text: string): string | null {
  const action = text.trim().toLowerCase();
  return action === '' || (action.length <= 100 && ACTION.test(action)) ? action : null;
}

/** Why the form cannot be asked for, besides its range, or null. */
export function auditFilterProblem(f: AuditFilter): string | null {
  if (normalAction(f.action) === null) return 'An action is a name such as session.killed, or a prefix such as session. (ending with a dot).';
  if (f.session.trim() && !SESSION_ID_PATTERN.test(f.session.trim())) return 'That is not a session id.';
  return null;
}

/** The filter a hash names (anything unknown or malformed left empty). */
export function parseAuditHash(hash: string): AuditFilter {
  const q = hashQuery(hash, 'audit');
  if (!q) return emptyAuditFilter();
  const field = (name: string) => (q.get(name) ?? '').trim().slice(0, MAX_NAME);
  const session = field('session');
  return {
    actor: field('actor'),
    action: normalAction(field('action')) ?? '',
    target: field('target'),
    session: SESSION_ID_PATTERN.test(session) ? session : '',
    ...checkedRange(field('range'), field('from'), field('to')),
  };
}

/** The hash of a filter (empty fields left out; from and to only for a custom range). */
export function auditHash(f: AuditFilter): string {
  const custom = f.range === 'custom';
  return pageHash('audit', {
    actor: f.actor, action: normalAction(f.action) ?? '', target: f.target, session: f.session, range: f.range,
    from: custom ? f.from : '', to: custom ? f.to : '',
  });
}

/** The hub's query for a page: the filter, the range's instants, and the oldest id shown (for older entries). */
export function auditParams(f: AuditFilter, bounds: Bounds, before?: number): URLSearchParams {
  const q = new URLSearchParams({ limit: String(AUDIT_PAGE) });
  if (f.actor.trim()) q.set('actor', f.actor.trim());
  const action = normalAction(f.action);
  if (action) q.set('action', action);
  if (f.target.trim()) q.set('target', f.target.trim());
  if (f.session.trim()) q.set('sessionId', f.session.trim());
  if (bounds.from) q.set('from', bounds.from);
  if (bounds.to) q.set('to', bounds.to);
  if (before !== undefined) q.set('before', String(before));
  return q;
}

/**
 * Whether an entry the hub pushed belongs in the filtered list: the hub's own rules (GET /api/audit),
 * for the rows it pushes live, unfiltered.
 */
export function matchesAudit(e: { at: string; actor: string; action: string; target: string | null; sessionId: string | null }, f: AuditFilter, bounds: Bounds): boolean {
  const has = (value: string | null, part: string) => !part.trim() || (value ?? '').toLowerCase().includes(part.trim().toLowerCase());
  const action = normalAction(f.action) ?? '';
  if (action && !(action.endsWith('.') ? e.action.startsWith(action) : e.action === action)) return false;
  if (f.session.trim() && e.sessionId !== f.session.trim()) return false;
  const at = Date.parse(e.at);
  if (bounds.from && !(at >= Date.parse(bounds.from))) return false;
  if (bounds.to && !(at < Date.parse(bounds.to))) return false;
  return has(e.actor, f.actor) && (!f.target.trim() || (e.target !== null && has(e.target, f.target)));
}
