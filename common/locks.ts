// Locks: a kill that sticks. A lock keeps a user, a user on one target, a whole target, or one
// connection token (its jti) out, for a while or until lifted, with a reason. The hub keeps them
// (server/locks/) and publishes the whole list of locks in force on the control bus, as state
// every agent reads: an agent ends the live sessions a new lock matches and refuses new ones,
// naming who locked and why, without opening an access request. An agent that cannot reach the
// hub keeps applying the last list it has; how old that list is tells a `locks: strict` target
// whether to admit anyone at all.
import { z } from 'zod';

const name = z.string().min(1).max(256);

export const Lock = z.strictObject({
  id: z.string().min(1).max(64),
  /** What it matches: every field given must match (at least one is). */
  user: name.optional(),
  target: name.optional(),
  /** A connection token's jti. */
  token: z.string().min(1).max(128).optional(),
  /** An agent (its enrollment revoked): every session it serves. */
  agent: name.optional(),
  /** Who locked, and why (shown to the one locked out). */
  by: name,
  reason: z.string().min(1).max(500),
  createdAt: z.iso.datetime(),
  /** Until when; none: until lifted. */
  expiresAt: z.iso.datetime().optional(),
}).refine((l) => l.user !== undefined || l.target !== undefined || l.token !== undefined || l.agent !== undefined, 'a lock names a user, a target, a token or an agent');
export type Lock = z.infer<typeof Lock>;

/** The locks in force as the hub published them; `at` says how fresh the list is. */
export const LockList = z.strictObject({
  kind: z.literal('locks'),
  at: z.iso.datetime(),
  locks: z.array(Lock).max(10_000),
});
export type LockList = z.infer<typeof LockList>;

/** Who is asking in: a session's user, target and the jti of the token it came with. */
export interface LockSubject {
  user: string;
  target: string;
  token?: string;
  /** The agent serving the session. */
  agent?: string;
}

/** Whether the lock is in force at `now` and matches the subject. */
export function lockMatches(lock: Lock, who: LockSubject, now = Date.now()): boolean {
  if (lock.expiresAt !== undefined && Date.parse(lock.expiresAt) <= now) return false;
  if (lock.user !== undefined && lock.user !== who.user) return false;
  if (lock.target !== undefined && lock.target !== who.target) return false;
  if (lock.token !== undefined && lock.token !== who.token) return false;
  if (lock.agent !== undefined && lock.agent !== who.agent) return false;
  return true;
}

/** The first lock in force that matches, if any. */
export function lockFor(locks: readonly Lock[], who: LockSubject, now = Date.now()): Lock | null {
  return locks.find((l) => lockMatches(l, who, now)) ?? null;
}

/** What the one locked out reads (a FATAL, an SSH banner, a closed session). */
export function lockMessage(lock: Lock): string {
  if (lock.agent !== undefined && lock.user === undefined && lock.target === undefined && lock.token === undefined) {
    return `the Vigil agent ${lock.agent} is no longer trusted (${lock.reason}; revoked by ${lock.by}): it takes no sessions`;
  }
  const what = lock.token !== undefined ? 'this connection token' : lock.user !== undefined ? `${lock.user}${lock.target ? ` on ${lock.target}` : ''}` : `target ${lock.target}`;
  const until = lock.expiresAt ? ` until ${lock.expiresAt}` : ' until it is lifted';
  return `${what} is locked by ${lock.by}: ${lock.reason} (lock ${lock.id},${until})`;
}
