// The control path between the hub and the agents: the hub decides, the agents enforce.
//  - Decisions (hub -> agents): a kill order, the state of an access request (pending,
//    granted, denied, expired, revoked), or the list of locks in force (common/locks.ts). Each reaches every agent at once over pub/sub and is also
//    kept as state for a while, so an agent that was disconnected when it was sent finds it when
//    it looks again (on reconnect and periodically): a missed message never leaves a session
//    running, and a grant is read from the state, never from memory of a message.
//  - Access requests (agent -> hub): an agent asks a hub to open a request (someone connected to a
//    `jit` target without a grant, or a statement was held) and waits a few seconds for its
//    number. No hub answering means no request: the agent refuses the session (fail closed).
// Two transports behind one interface, as for the event bus: Redis, and in-process.
import { z } from 'zod';
import { LockList } from '../locks.ts';

const name = z.string().min(1).max(256);

export const KillOrder = z.strictObject({
  kind: z.literal('kill'),
  sessionId: z.string().min(1).max(64),
  /** Who decided (shown to the session's user and recorded). */
  by: name,
  reason: z.string().max(500).optional(),
  at: z.iso.datetime(),
});
export type KillOrder = z.infer<typeof KillOrder>;

export const ACCESS_STATUSES = ['pending', 'granted', 'denied', 'expired', 'revoked'] as const;
export type AccessStatus = (typeof ACCESS_STATUSES)[number];

/** An access request's state as the agents need it (the hub's store has the whole record). */
export const AccessState = z.strictObject({
  kind: z.literal('access'),
  requestId: z.number().int().positive(),
  /** `connect`: access to a target for a while; `statement`: one held statement. */
  scope: z.enum(['connect', 'statement', 'recording']),
  user: name,
  target: name,
  status: z.enum(ACCESS_STATUSES),
  /** Granted: until when (ISO time). */
  expiresAt: z.iso.datetime().optional(),
  /** Who made the last change (approvers, the revoker), for the message the client sees. */
  by: name.optional(),
  reason: z.string().max(500).optional(),
  at: z.iso.datetime(),
});
export type AccessState = z.infer<typeof AccessState>;

export const ControlMessage = z.discriminatedUnion('kind', [KillOrder, AccessState, LockList]);
export type ControlMessage = z.infer<typeof ControlMessage>;

/**
 * What an agent says of itself every second, kept for a few seconds (its lease): while it is
 * there the agent is alive. A session the store has as live whose agent's lease is gone, or
 * whose agent restarted without it, is ended by a hub (server/liveness/).
 */
export const AgentLease = z.strictObject({
  agent: name,
  /** This run of the agent process: a new id at every start. */
  instance: z.string().min(1).max(64),
  /** When this run started (ISO, the agent's clock, which also stamps its sessions' events). */
  startedAt: z.iso.datetime(),
  /** When this renewal was sent (the agent's clock). */
  at: z.iso.datetime(),
  /** The sessions it holds, each with the last seq it has emitted. */
  sessions: z.record(z.string().min(1).max(64), z.number().int().nonnegative()),
});
export type AgentLease = z.infer<typeof AgentLease>;

export interface LeaseView {
  /** The leases found, by agent id (missing ones are left out). */
  leases: Map<string, AgentLease>;
  /** Which of the agents asked about have held a lease here (since `since`). */
  known: Set<string>;
  /**
   * Since when (ms since the epoch) the lease store has been continuous: a Redis that restarted
   * empty lost every lease, so an absent lease means nothing until one TTL after this.
   */
  since: number;
}

/**
 * What an agent reports for the audit log (agent -> hub): a refused login, with where it came
 * from. Never a token or a password: only what the refusal says.
 */
export const AgentAuditEntry = z.strictObject({
  at: z.iso.datetime(),
  agent: name,
  action: z.enum(['login.refused', 'login.rate_limited']),
  protocol: z.enum(['postgres', 'ssh', 'http']),
  /** The target asked for, when the client named one. */
  target: z.string().max(256).optional(),
  /** The user the client claimed (or the token named), when there was one. */
  user: z.string().max(256).optional(),
  /** The client's address, host:port. */
  client: z.string().max(300),
  reason: z.string().max(500),
  /** Refusals this entry stands for (a flood is reported as one entry per minute). */
  count: z.number().int().positive().optional(),
});
export type AgentAuditEntry = z.infer<typeof AgentAuditEntry>;

/** What an agent asks a hub to open. */
export const AccessDraft = z.strictObject({
  scope: z.enum(['connect', 'statement']),
  user: name,
  target: name,
  /** The live session that asked (a held statement's, or the SSH connection waiting). */
  sessionId: z.string().min(1).max(64).optional(),
  /** A held statement, masked as the recording has it. */
  statement: z.string().max(10_000).optional(),
  /** The guardrail that held it. */
  rule: z.string().max(64).optional(),
  /** Where the person connected from (audit). */
  client: z.string().max(256).optional(),
});
export type AccessDraft = z.infer<typeof AccessDraft>;

/** A hub's answer: the request's number and state (an open request is reused, not doubled). */
export type AccessReceipt = { requestId: number; status: AccessStatus } | { error: string };

export interface ControlBus {
  /** Sends a decision to every agent and keeps it for agents that look later. */
  publish(message: ControlMessage): Promise<void>;
  /** Decisions as they are sent (invalid messages are dropped). */
  subscribe(handler: (message: ControlMessage) => void): Promise<() => Promise<void>>;
  /** The kill orders kept for these sessions (what an agent checks for its live sessions). */
  killsFor(sessionIds: readonly string[]): Promise<KillOrder[]>;
  /** The kept state of these requests (missing ones are left out). Throws when unreachable. */
  accessStates(requestIds: readonly number[]): Promise<AccessState[]>;
  /** The list of locks the hub published last (null: none yet). Throws when unreachable. */
  locks(): Promise<LockList | null>;
  /** The grant `user` holds for `target` now, if any. Throws when unreachable (fail closed). */
  grantFor(user: string, target: string): Promise<AccessState | null>;
  /** Agent side: asks a hub to open a request; throws when no hub answers within `timeoutMs`. */
  requestAccess(draft: AccessDraft, timeoutMs?: number): Promise<AccessReceipt>;
  /** Hub side: answers agents' requests until the returned function is called. */
  serveAccessRequests(handler: (draft: AccessDraft) => Promise<AccessReceipt>): Promise<() => Promise<void>>;
  /**
   * Agent side: keeps this agent's lease for `ttlMs` more. Answers the sessions of this agent that
   * a hub ended meanwhile (it thought the agent lost), once: the agent ends them too.
   */
  renewLease(lease: AgentLease, ttlMs: number): Promise<{ endedByHub: string[] }>;
  /** Hub side: the leases of these agents. Throws when unreachable. */
  readLeases(agentIds: readonly string[]): Promise<LeaseView>;
  /** Hub side: tells the agent (if it comes back) which of its sessions a hub ended. */
  markEndedByHub(agentId: string, sessionIds: readonly string[]): Promise<void>;
  /** Agent side: queues entries for a hub to write to the audit log. Throws when unreachable. */
  reportAudit(entries: readonly AgentAuditEntry[]): Promise<void>;
  /**
   * Hub side: hands queued audit entries to `handler` (one hub takes each batch; a batch whose
   * handler fails is queued again) until the returned function is called.
   */
  serveAudit(handler: (entries: AgentAuditEntry[]) => Promise<void>): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

/** How long a kill order is kept for agents that were away when it was sent. */
export const KILL_KEPT_SECONDS = 24 * 3600;
/** How long a request's final state is kept (a grant: until it expires, at least this). */
export const ACCESS_KEPT_SECONDS = 24 * 3600;
/** How long an agent's lease lasts without renewal (it renews every second). A dead agent's
 * sessions are ended this long after it died, plus a hub's next check. */
export const AGENT_LEASE_TTL_MS = 5000;

/** How long a hub's note of the sessions it ended for a lost agent waits for that agent. */
export const ENDED_BY_HUB_KEPT_SECONDS = 24 * 3600;

/** Agent audit entries waiting for a hub, at most (the oldest are dropped past it). */
export const AUDIT_INTAKE_MAX = 100_000;

/** How long an agent waits for a hub to open a request. */
export const ACCESS_REQUEST_TIMEOUT_MS = 5000;

/** A grant that is in force at `now`. */
export function inForce(state: AccessState | null | undefined, now = Date.now()): boolean {
  return state?.status === 'granted' && state.expiresAt !== undefined && Date.parse(state.expiresAt) > now;
}

/** Seconds to keep a request's state: past its grant's end, and never less than a day. */
export function keptSeconds(state: AccessState): number {
  const untilEnd = state.expiresAt ? Math.ceil((Date.parse(state.expiresAt) - Date.now()) / 1000) : 0;
  return Math.max(ACCESS_KEPT_SECONDS, untilEnd + 60);
}

export function parseLease(text: string | null): AgentLease | null {
  if (!text) return null;
  try {
    const parsed = AgentLease.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

export function parseControlMessage(text: string): ControlMessage | null {
  try {
    const parsed = ControlMessage.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** Rejects after `ms`: a Redis command queued while disconnected would otherwise wait forever. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
      timer.unref();
    }),
  ]);
}
