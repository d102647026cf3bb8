// The control bus inside one process (`vigil dev`, tests): hub and agent share it.
import type { LockList } from '../locks.ts';
import { ACCESS_REQUEST_TIMEOUT_MS, AUDIT_INTAKE_MAX, inForce, withTimeout, type AccessReceipt, type AccessDraft, type AccessState, type AgentAuditEntry, type AgentLease, type ControlBus, type ControlMessage, type KillOrder } from './control-bus.ts';

export function createInProcessControlBus(): ControlBus {
  const handlers = new Set<(m: ControlMessage) => void>();
  const kills = new Map<string, KillOrder>();
  const states = new Map<number, AccessState>();
  const grants = new Map<string, number>();
  let lockList: LockList | null = null;
  let intake: ((draft: AccessDraft) => Promise<AccessReceipt>) | null = null;
  const leases = new Map<string, { lease: AgentLease; until: number }>();
  const endedByHub = new Map<string, Set<string>>();
  const seen = new Set<string>();
  let audit: ((entries: AgentAuditEntry[]) => Promise<void>) | null = null;
  let auditQueue: AgentAuditEntry[] = [];
  let auditing = false;
  const drainAudit = () => {
    if (!audit || auditing || auditQueue.length === 0) return;
    const batch = auditQueue;
    auditQueue = [];
    auditing = true;
    const handler = audit;
    handler(batch)
      .catch(() => {
        auditQueue = [...batch, ...auditQueue].slice(-AUDIT_INTAKE_MAX);
      })
      .finally(() => {
        auditing = false;
        if (auditQueue.length) setTimeout(drainAudit, 500).unref();
      });
  };
  // Nothing here outlives the process: leases are continuous since the bus was made.
  const since = Date.now();
  const grantKey = (target: string, user: string) => `${target}\u0000${user}`;
  return {
    async publish(message) {
      if (message.kind === 'kill') kills.set(message.sessionId, message);
      else if (message.kind === 'locks') lockList = message;
      else {
        states.set(message.requestId, message);
        const key = grantKey(message.target, message.user);
        if (message.scope === 'connect' && message.status === 'granted') grants.set(key, message.requestId);
        else if (grants.get(key) === message.requestId) grants.delete(key);
      }
      // Delivered on a later tick, as over a network: the sender never runs the receiver's code.
      for (const h of [...handlers]) queueMicrotask(() => h(message));
    },
    async subscribe(handler) {
      handlers.add(handler);
      return async () => void handlers.delete(handler);
    },
    async killsFor(ids) {
      return ids.map((id) => kills.get(id)).filter((k): k is KillOrder => k !== undefined);
    },
    async locks() {
      return lockList;
    },
    async accessStates(ids) {
      return ids.map((id) => states.get(id)).filter((s): s is AccessState => s !== undefined);
    },
    async grantFor(user, target) {
      const id = grants.get(grantKey(target, user));
      const state = id === undefined ? undefined : states.get(id);
      return state && inForce(state) ? state : null;
    },
    async requestAccess(draft, timeoutMs = ACCESS_REQUEST_TIMEOUT_MS) {
      if (!intake) throw new Error('no hub is serving access requests');
      // As over Redis: a failing hub answers with an error, a stuck one is not waited for.
      const answer = intake(draft).catch((err: Error): AccessReceipt => ({ error: err.message }));
      return withTimeout(answer, timeoutMs, 'the Vigil hub');
    },
    async serveAccessRequests(handler) {
      intake = handler;
      return async () => {
        if (intake === handler) intake = null;
      };
    },
    async renewLease(lease, ttlMs) {
      leases.set(lease.agent, { lease: structuredClone(lease), until: Date.now() + ttlMs });
      seen.add(lease.agent);
      const ended = endedByHub.get(lease.agent);
      endedByHub.delete(lease.agent);
      return { endedByHub: ended ? [...ended] : [] };
    },
    async readLeases(agentIds) {
      const now = Date.now();
      const found = new Map<string, AgentLease>();
      for (const id of agentIds) {
        const kept = leases.get(id);
        if (kept && kept.until > now) found.set(id, structuredClone(kept.lease));
      }
      return { leases: found, known: new Set(agentIds.filter((id) => seen.has(id))), since };
    },
    async markEndedByHub(agentId, sessionIds) {
      if (sessionIds.length === 0) return;
      const set = endedByHub.get(agentId) ?? new Set<string>();
      for (const id of sessionIds) set.add(id);
      endedByHub.set(agentId, set);
    },
    async reportAudit(entries) {
      auditQueue = [...auditQueue, ...entries].slice(-AUDIT_INTAKE_MAX);
      queueMicrotask(drainAudit);
    },
    async serveAudit(handler) {
      audit = handler;
      queueMicrotask(drainAudit);
      return async () => {
        if (audit === handler) audit = null;
      };
    },
    async close() {
      handlers.clear();
      audit = null;
      intake = null;
    },
  };
}
