// The actions the hub writes to its audit log, offered as suggestions in the Audit page's action
// filter (any other action can still be typed). Kept from the hub's writers (server/access/,
// server/locks/, server/shares/, server/http/routes/, server/agents/, agents' login refusals, and
// the recordings: guardrail hits and the ends a hub writes); common/ holds no list of them.
export const AUDIT_ACTIONS = [
  'access.requested', 'access.request_updated', 'access.statement_held', 'access.approved', 'access.denied', 'access.granted',
  'access.revoked', 'access.grant_expired', 'access.request_expired',
  'session.viewed', 'session.refused', 'session.killed', 'session.verified', 'session.purged', 'session.agent_lost', 'session.agent_restarted',
  'share.created', 'share.revoked', 'share.viewed', 'share.refused',
  'lock.created', 'lock.lifted',
  'hold.placed', 'hold.released',
  'guardrail.denied', 'guardrail.held',
  'login.refused', 'login.rate_limited',
  'agent.enrollment_requested', 'agent.enrolled', 'agent.approved', 'agent.revoked', 'agent.refused', 'agent.enrollment_refused', 'agent.token_created',
  'recording_key.rotated', 'audit.verified',
] as const;

/** Every action under a prefix ("session." for all of a session's), one per group, in the list's order. */
export const AUDIT_ACTION_PREFIXES: readonly string[] = [...new Set(AUDIT_ACTIONS.map((a) => `${a.split('.')[0]}.`))];
