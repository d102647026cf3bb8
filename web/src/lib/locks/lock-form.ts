// The dashboard's words for locks, DOM-free: the durations offered, the Locks page's form read into
// the hub's body (refusing what the hub would refuse before asking it), what a kill can lock about
// the session it ends, and how a lock reads in a list. The hub checks everything again.
import type { LockView } from '../../../../common/api-contract.ts';
import type { LockSubject } from '../../../../common/locks.ts';
import type { VigilEvent } from '../../../../common/events/schema.ts';
import { when } from '../text.ts';
import type { NewLock } from './locks-api.ts';
import type { Checked } from '../form-submission.svelte.ts';

export interface LockDuration {
  /** The hub's ttl ('30m', '1d'); '': until lifted. */
  ttl: string;
  label: string;
}

export const LOCK_DURATIONS: readonly LockDuration[] = [
  { ttl: '30m', label: '30 minutes' },
  { ttl: '1h', label: '1 hour' },
  { ttl: '2h', label: '2 hours' },
  { ttl: '1d', label: '1 day' },
  { ttl: '7d', label: '7 days' },
  { ttl: '', label: 'until lifted' },
];
export const DEFAULT_LOCK_TTL = '1h';

/** The hub's longest reason, name and token id. */
export const MAX_LOCK_REASON = 500;
export const MAX_LOCK_NAME = 256;
export const MAX_LOCK_TOKEN = 128;

export interface LockForm {
  user: string;
  target: string;
  /** A connection token's jti. */
  token: string;
  ttl: string;
  reason: string;
}

/** A form's fields checked: the value to send, or why not (form-submission.svelte.ts). */
export type Parsed<T> = Checked<T>;

export function emptyLockForm(): LockForm {
  return { user: '', target: '', token: '', ttl: DEFAULT_LOCK_TTL, reason: '' };
}

function checkReason(text: string): string | null {
  if (!text) return 'A lock needs a reason: the one locked out reads it.';
  if (text.length > MAX_LOCK_REASON) return `The reason is longer than ${MAX_LOCK_REASON} characters.`;
  return null;
}

const ttlOf = (ttl: string) => (LOCK_DURATIONS.some((d) => d.ttl === ttl) && ttl ? { ttl } : {});

export function parseLockForm(form: LockForm): Parsed<NewLock> {
  const user = form.user.trim();
  const target = form.target.trim();
  const token = form.token.trim();
  const reason = form.reason.trim();
  if (!user && !target && !token) return { ok: false, error: 'Name a user, a target or a token to lock (or several: each one named must match).' };
  if (user.length > MAX_LOCK_NAME || target.length > MAX_LOCK_NAME) return { ok: false, error: `A user or target name is longer than ${MAX_LOCK_NAME} characters.` };
  if (token.length > MAX_LOCK_TOKEN) return { ok: false, error: `A token id is at most ${MAX_LOCK_TOKEN} characters (the token's jti, not the token).` };
  const bad = checkReason(reason);
  if (bad) return { ok: false, error: bad };
  return { ok: true, value: { ...(user ? { user } : {}), ...(target ? { target } : {}), ...(token ? { token } : {}), ...ttlOf(form.ttl), reason } };
}

/** Who a watched session is, as a lock names it; `started`: its session.start was seen, so `token` is known (or known to be absent). */
export interface SessionSubject extends LockSubject {
  started: boolean;
}

/** The subject, from a batch of the session's events (the session.start carries the token's jti). */
export function subjectOf(batch: readonly VigilEvent[], known: SessionSubject | null): SessionSubject | null {
  if (known?.started) return known;
  const start = batch.find((e) => e.type === 'session.start');
  if (start) return { user: start.user, target: start.target, ...(start.data.token ? { token: start.data.token } : {}), started: true };
  if (known || batch.length === 0) return known;
  return { user: batch[0].user, target: batch[0].target, started: false };
}

/** What a kill does besides ending the session. */
export type KillScope = 'kill' | 'user-target' | 'user' | 'token';

export interface KillChoice {
  scope: KillScope;
  label: string;
}

/** The choices a kill offers for this session: the token only when its session.start named it. */
export function killChoices(s: LockSubject): KillChoice[] {
  return [
    { scope: 'kill', label: 'Just kill the session' },
    { scope: 'user-target', label: `Kill and lock this user (${s.user}) on this target (${s.target})` },
    { scope: 'user', label: `Kill and lock this user (${s.user}) on every target` },
    ...(s.token ? [{ scope: 'token' as const, label: 'Kill and lock this token (the one this session logged in with)' }] : []),
  ];
}

/** What the lock of a kill names (null: no lock). */
export function lockOfScope(scope: KillScope, s: LockSubject): Pick<NewLock, 'user' | 'target' | 'token'> | null {
  switch (scope) {
    case 'kill': return null;
    case 'user-target': return { user: s.user, target: s.target };
    case 'user': return { user: s.user };
    case 'token': return s.token ? { token: s.token } : null;
  }
}

export interface KillPlan {
  /** The lock to make first (null: only the kill). */
  lock: NewLock | null;
  /** The kill's reason (the lock's, when there is one). */
  reason: string;
}

export function parseKillForm(scope: KillScope, ttl: string, reasonText: string, s: LockSubject): Parsed<KillPlan> {
  const reason = reasonText.trim();
  if (scope === 'kill') {
    return reason.length > MAX_LOCK_REASON ? { ok: false, error: `The reason is longer than ${MAX_LOCK_REASON} characters.` } : { ok: true, value: { lock: null, reason } };
  }
  const names = lockOfScope(scope, s);
  if (!names) return { ok: false, error: 'This session did not say which token it came with: lock the user instead.' };
  const bad = checkReason(reason);
  if (bad) return { ok: false, error: bad };
  return { ok: true, value: { lock: { ...names, ...ttlOf(ttl), reason }, reason } };
}

/** What a lock keeps out: "user alice on target pg", "user alice on every target", "target pg (everyone)", "token 3f2a…". */
export function lockedWhat(lock: Pick<LockView, 'user' | 'target' | 'token'>): string {
  const parts = [lock.user !== null ? `user ${lock.user}` : '', lock.target !== null ? `target ${lock.target}` : '', lock.token !== null ? `token ${lock.token}` : ''].filter(Boolean);
  if (lock.user !== null && lock.target === null && lock.token === null) return `${parts[0]} on every target`;
  if (lock.target !== null && lock.user === null && lock.token === null) return `${parts[0]} (everyone)`;
  if (lock.token === null) return parts.join(' on ');
  return parts.join(', ');
}

/** Until when it holds: a time, or "until lifted". */
export function lockUntil(lock: Pick<LockView, 'expiresAt'>): string {
  return lock.expiresAt ? when(lock.expiresAt) : 'until lifted';
}
