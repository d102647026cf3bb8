// Who may do what with an access request, from the target's `approval` settings. Pure: the
// service asks, the routes and the inbox show the answers (canDecide, canRevoke).
import type { Approval } from '../../common/config/schema.ts';
import { seesAllSessions, type Role } from '../../common/roles.ts';
import type { AccessRequest } from './access-store.ts';

export interface Actor {
  subject: string;
  roles: readonly Role[];
  groups: readonly string[];
}

/** An approver or admin, and in one of the target's approver groups when it names any. */
export function isApproverFor(actor: Actor, approval: Approval): boolean {
  if (!actor.roles.includes('approver') && !actor.roles.includes('admin')) return false;
  if (approval.approverGroups.length === 0) return true;
  return actor.groups.some((g) => approval.approverGroups.includes(g));
}

/** Why the actor may not decide this request now, or null when they may. */
export function whyNotDecide(actor: Actor, request: AccessRequest, approval: Approval | undefined): string | null {
  if (!approval) return `target ${request.target} is not in this hub's configuration`;
  if (!isApproverFor(actor, approval)) return `you are not an approver for ${request.target}`;
  if (request.user === actor.subject && !(approval.adminSelfApproval && actor.roles.includes('admin'))) {
    return 'you cannot approve or deny your own request';
  }
  if (request.status !== 'pending') return `request #${request.id} is ${request.status}, not pending`;
  if (request.decisions.some((d) => d.approver === actor.subject)) return `you have decided request #${request.id} already`;
  return null;
}

/** Approvers of the target end a grant; so may its holder (giving it up early). */
export function mayRevoke(actor: Actor, request: AccessRequest, approval: Approval | undefined): boolean {
  if (request.scope === 'statement' || request.status !== 'granted') return false;
  return request.user === actor.subject || (approval !== undefined && isApproverFor(actor, approval));
}

/** The requester, the target's approvers, reviewers and admins see a request. */
export function maySee(actor: Actor, request: AccessRequest, approval: Approval | undefined): boolean {
  if (request.user === actor.subject) return true;
  if (actor.roles.includes('admin') || actor.roles.includes('reviewer')) return true;
  return approval !== undefined && isApproverFor(actor, approval);
}

/** Whether the actor approves for a target (see AccessService.approves). */
export type ApprovesFor = (actor: Actor, target: string) => boolean;

/**
 * Who sees a recorded session, in the API and live alike: reviewers and admins every one, its user
 * their own, the approvers of its target that target's.
 */
export function maySeeSession(actor: Actor, session: { user: string; target: string }, approves?: ApprovesFor): boolean {
  return seeingRight(actor, session, approves) !== null;
}

/** Why an actor may see a session (what a view's audit entry names), or null when they may not. */
export function seeingRight(actor: Actor, session: { user: string; target: string }, approves?: ApprovesFor): 'own' | 'reviewer' | 'admin' | 'approver' | null {
  if (session.user === actor.subject) return 'own';
  if (actor.roles.includes('admin')) return 'admin';
  if (seesAllSessions(actor.roles)) return 'reviewer';
  if (approves?.(actor, session.target) === true) return 'approver';
  return null;
}

/** What of the recordings an actor may see, as a filter: these users' sessions and these targets'. */
export interface SessionScope {
  users: readonly string[];
  targets: readonly string[];
}

/**
 * maySeeSession as a filter for lists and search: null when the actor sees every session, else
 * their own and those of the configured targets they approve. A list and a get agree by construction.
 */
export function sessionScope(actor: Actor, targets: readonly string[], approves?: ApprovesFor): SessionScope | null {
  if (seesAllSessions(actor.roles)) return null;
  return { users: [actor.subject], targets: targets.filter((t) => approves?.(actor, t) === true) };
}

/** How long after a grant ends (or a request is denied) reconnecting opens no new request. */
export const RECONNECT_QUIET_MS = 60_000;

/**
 * A connect request that ended moments ago (its grant expired or was revoked, or it was denied)
 * is not asked again by the client reconnecting on its own, as psql's reset does at once: that
 * would put "(no reason: opened by connecting)" in the approvers' inbox. The person asks again in
 * words instead. Null when reconnecting may open a request.
 */
export function endedJustNow(last: AccessRequest | null, now: number): string | null {
  if (!last) return null;
  const ask = `ask again with a reason (the dashboard's Access page, or \`vigil request ${last.target} --reason ...\`)`;
  if (last.status === 'denied' && last.decidedAt && now - Date.parse(last.decidedAt) < RECONNECT_QUIET_MS) {
    return `request #${last.id} for ${last.target} was denied${last.endedBy ? ` by ${last.endedBy}` : ''}; reconnecting does not ask again: ${ask}`;
  }
  if ((last.status === 'revoked' || last.status === 'expired') && last.expiresAt && now - Date.parse(last.expiresAt) < RECONNECT_QUIET_MS) {
    const how = last.status === 'revoked' ? `was revoked${last.endedBy ? ` by ${last.endedBy}` : ''}` : 'has expired';
    return `access grant #${last.id} for ${last.target} ${how}; reconnecting does not ask again: ${ask}`;
  }
  return null;
}
