// What the dashboard asks the hub about locks (server/http/routes/locks.ts): the list (in force,
// or every lock with `all`), a new lock, lifting one. Through lib/api.ts (the login cookie, the
// CSRF token); a refusal is thrown as the hub's ApiError, its message the hub's own words.
import { del, get, post } from '../api.ts';
import type { LockView } from '../../../../common/api-contract.ts';

export type { LockView } from '../../../../common/api-contract.ts';

/** The body of POST /api/locks: every field given must match (at least one of user, target, token). */
export interface NewLock {
  user?: string;
  target?: string;
  /** A connection token's jti. */
  token?: string;
  /** '90s', '30m', '2h', '7d'; none: until lifted. */
  ttl?: string;
  reason: string;
}

/** The locks in force, newest first; with `all`, lifted and expired ones too. */
export const listLocks = async (all = false) => (await get<{ locks: LockView[] }>(`/api/locks${all ? '?all=true' : ''}`)).locks;

export const createLock = async (lock: NewLock) => (await post<{ lock: LockView }>('/api/locks', lock)).lock;

/** Lifts a lock in force; the hub answers 404 (no such lock) or 409 (no longer in force). */
export const liftLock = async (id: string): Promise<void> => {
  await del(`/api/locks/${encodeURIComponent(id)}`);
};
