// A kill that sticks, from the watch view: the lock first (POST /api/locks: the agents end every
// live session it matches within a second, with end reason 'locked', and refuse psql's automatic
// reconnect), then the kill (POST /api/sessions/:id/kill), whose "ended already" is what a lock
// that got there first leaves, so it counts as done. A lock the hub refuses stops it all: nothing
// is killed, and the person can fix the form and try again.
import { ApiError, post } from '../api.ts';
import { when } from '../text.ts';
import { createLock, type LockView, type NewLock } from './locks-api.ts';
import type { KillPlan } from './lock-form.ts';

/** How the kill went: the agent was told; the session had ended already (the lock's doing, or the engineer's); the hub ended it in the recording (its agent is gone). */
export type KillResult = 'ordered' | 'ended already' | 'ended in the recording';

/** Ends a live session now; its user reads who and why. */
export async function killSession(sessionId: string, reason: string): Promise<KillResult> {
  try {
    const answer = await post<{ killed: string; endedInRecording?: boolean }>(`/api/sessions/${encodeURIComponent(sessionId)}/kill`, reason ? { reason } : {});
    return answer.endedInRecording ? 'ended in the recording' : 'ordered';
  } catch (err) {
    // 409: the session has ended already.
    if (err instanceof ApiError && err.status === 409) return 'ended already';
    throw err;
  }
}

export interface KillOutcome {
  lock: LockView | null;
  /** The kill's result, or why it failed (the lock, when made, ends the session anyway). */
  kill: KillResult | { failed: string };
}

export interface KillDeps {
  createLock(lock: NewLock): Promise<LockView>;
  killSession(sessionId: string, reason: string): Promise<KillResult>;
}

/** Locks (when the plan says so), then kills. Throws when nothing was done. */
export async function killAndLock(sessionId: string, plan: KillPlan, deps: KillDeps = { createLock, killSession }): Promise<KillOutcome> {
  const lock = plan.lock ? await deps.createLock(plan.lock) : null;
  try {
    return { lock, kill: await deps.killSession(sessionId, plan.reason) };
  } catch (err) {
    if (!lock) throw err;
    return { lock, kill: { failed: (err as Error).message } };
  }
}

/** The outcome in words (rendered as text). */
export function describeOutcome(o: KillOutcome): string {
  const kill = typeof o.kill === 'object' ? `the kill failed (${o.kill.failed}); the lock ends the session anyway`
    : o.kill === 'ordered' ? 'the session is being ended'
    : o.kill === 'ended already' ? 'the session has ended'
    : 'its agent is gone, so the hub ended it in the recording';
  if (!o.lock) return `Kill sent: ${kill}.`;
  return `Lock ${o.lock.id} is in force${o.lock.expiresAt ? ` until ${when(o.lock.expiresAt)}` : ' until it is lifted'}; ${kill}.`;
}
