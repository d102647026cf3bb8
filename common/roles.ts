// Vigil's roles, shared by the config (the identity provider's groups map to them), the hub's
// authorization and the dashboard.
//   engineer  uses targets, sees their own sessions
//   reviewer  security on-call: watches and replays any session, can end one
//   approver  decides access requests (just-in-time access)
//   admin     everything, including operations (metrics)
export const ROLES = ['admin', 'reviewer', 'approver', 'engineer'] as const;
export type Role = (typeof ROLES)[number];

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

/** Roles that see every session; everyone else sees only their own. */
const SEE_ALL_SESSIONS: readonly Role[] = ['admin', 'reviewer'];

export function seesAllSessions(roles: readonly Role[]): boolean {
  return roles.some((r) => SEE_ALL_SESSIONS.includes(r));
}
