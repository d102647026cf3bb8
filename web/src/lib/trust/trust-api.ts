// What the dashboard asks the hub about trust (server/http/routes/agents.ts, routes/retention.ts):
// the agents it trusts (the list, a one-time enrollment token, approving, revoking) and the legal
// holds (the list, placing, releasing). Through lib/api.ts (the login cookie, the CSRF token); a
// refusal is thrown as the hub's ApiError, its message the hub's own words.
import { del, get, post } from '../api.ts';
import type { AgentIdentityView, HoldView } from '../../../../common/api-contract.ts';

export type { AgentIdentityView, HoldView } from '../../../../common/api-contract.ts';

/** POST /api/agents/enrollment-tokens: shown once, used once. */
export interface EnrollmentToken {
  token: string;
  expiresAt: string;
}

/** The body of POST /api/holds: one of sessionId, user, target (the hub takes several, this page names one). */
export interface NewHold {
  sessionId?: string;
  user?: string;
  target?: string;
  reason: string;
}

const agentPath = (id: string) => `/api/agents/${encodeURIComponent(id)}`;

export const listAgents = async () => (await get<{ agents: AgentIdentityView[] }>('/api/agents')).agents;

/** ttl: '30m', '24h'; none: the hub's hour. */
export const createEnrollmentToken = (ttl?: string) => post<EnrollmentToken>('/api/agents/enrollment-tokens', ttl ? { ttl } : {});

/** Trusts a pending agent; the hub answers 409 when it is not waiting for approval. */
export const approveAgent = async (id: string) => (await post<{ agent: AgentIdentityView }>(`${agentPath(id)}/approve`)).agent;

export const revokeAgent = async (id: string, reason: string) => (await post<{ agent: AgentIdentityView }>(`${agentPath(id)}/revoke`, { reason })).agent;

/** The holds in force, or every hold (released ones too) with `all`. */
export const listHolds = async (all = false) => (await get<{ holds: HoldView[] }>(`/api/holds${all ? '?all=true' : ''}`)).holds;

export const placeHold = async (hold: NewHold) => (await post<{ hold: HoldView }>('/api/holds', hold)).hold;

/** Releases a hold; the hub answers 404 (no such hold) or 409 (released already). */
export const releaseHold = async (id: string): Promise<void> => {
  await del(`/api/holds/${encodeURIComponent(id)}`);
};
