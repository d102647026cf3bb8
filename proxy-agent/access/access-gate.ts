// The agent's side of just-in-time access. For a `jit` target it admits a person only under a
// grant in force (read from the control bus's kept state, never from memory of a message); without
// one it asks a hub to open a request and says which. It fails closed: no control path, no Redis,
// or no hub answering means no admission. It also waits for decisions (an SSH login waiting for
// its grant, a held statement), by message and by polling the kept state, so a decision sent
// while this agent was away is still seen.
import { inForce, type AccessDraft, type AccessState, type ControlBus } from '../../common/control/control-bus.ts';
import type { EventData, SessionEndReason } from '../../common/events/index.ts';
import type { Logger } from '../../common/log.ts';

/** The grant a session runs under. */
export interface Admission {
  requestId: number;
  expiresAt: string;
  by?: string;
}

export type AccessCheck =
  | { admitted: Admission }
  | { pending: number }
  | { refused: string };

const POLL_MS = 1000;

export class AccessGate {
  private readonly waiters = new Map<number, Set<(state: AccessState) => void>>();
  private unsubscribe: (() => Promise<void>) | null = null;

  constructor(private readonly control: ControlBus | undefined, private readonly logger: Logger) {}

  async start(): Promise<void> {
    this.unsubscribe = (await this.control?.subscribe((m) => {
      if (m.kind === 'access' && m.status !== 'pending') for (const wake of this.waiters.get(m.requestId) ?? []) wake(m);
    })) ?? null;
  }

  async stop(): Promise<void> {
    await this.unsubscribe?.();
  }

  /** The grant in force for user on target, or a request opened for it (or an existing open one). */
  async check(user: string, target: string, context: { client: string; sessionId: string }): Promise<AccessCheck> {
    const control = this.control;
    if (!control) return { refused: `target ${target} needs an approved access grant and this agent has no control path to the hub` };
    try {
      const grant = await control.grantFor(user, target);
      if (grant) return { admitted: admissionOf(grant) };
    } catch (err) {
      this.logger.warn({ err: (err as Error).message, target }, 'access: cannot read grants');
      return { refused: `access grants for ${target} cannot be checked right now (${(err as Error).message}); try again later` };
    }
    const draft: AccessDraft = { scope: 'connect', user, target, client: context.client, sessionId: context.sessionId };
    const receipt = await this.ask(draft);
    if ('error' in receipt) return { refused: receipt.error };
    // Granted between the lookup and the request: read the grant itself.
    if (receipt.status === 'granted') {
      const grant = await control.grantFor(user, target).catch(() => null);
      if (grant) return { admitted: admissionOf(grant) };
    }
    return { pending: receipt.requestId };
  }

  /** Asks a hub to open a request; an error when none can. */
  async ask(draft: AccessDraft): Promise<{ requestId: number; status: string } | { error: string }> {
    if (!this.control) return { error: 'this agent has no control path to the hub' };
    try {
      return await this.control.requestAccess(draft);
    } catch (err) {
      this.logger.warn({ err: (err as Error).message, target: draft.target }, 'access: cannot open a request');
      return { error: `no access request could be opened (${(err as Error).message}); try again later` };
    }
  }

  /**
   * A statement or command an `approve` guardrail holds: opens a request, waits for approvers.
   * Null when it may run, else why not (shown to the client; the session goes on).
   */
  async hold(draft: AccessDraft, timeoutMs: number, report: WaitReport & { querySeq?: number }): Promise<string | null> {
    const receipt = await this.ask(draft);
    if ('error' in receipt) return `guardrail ${draft.rule} holds this for approval, and ${receipt.error}`;
    const id = receipt.requestId;
    report.record({ action: 'held', requestId: id, ...(report.querySeq ? { querySeq: report.querySeq } : {}) });
    report.notice?.(`guardrail ${draft.rule} holds this for approval: waiting for approval (request #${id})`);
    const state = await this.waitFor(id, timeoutMs, report.cancelled);
    recordOutcome(id, state, report);
    return state?.status === 'granted' ? null : notGrantedMessage(id, state);
  }

  /**
   * Waits until the request is decided (its state other than pending) or `timeoutMs` passes
   * (null), or `cancelled` resolves (null).
   */
  waitFor(requestId: number, timeoutMs: number, cancelled?: Promise<unknown>): Promise<AccessState | null> {
    const control = this.control;
    if (!control) return Promise.resolve(null);
    return new Promise((resolve) => {
      let done = false;
      const finish = (state: AccessState | null) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        clearInterval(poll);
        const set = this.waiters.get(requestId);
        set?.delete(finish);
        if (set?.size === 0) this.waiters.delete(requestId);
        resolve(state);
      };
      const set = this.waiters.get(requestId) ?? new Set();
      set.add(finish);
      this.waiters.set(requestId, set);
      const timer = setTimeout(() => finish(null), timeoutMs);
      const poll = setInterval(() => {
        control.accessStates([requestId]).then(([s]) => {
          if (s && s.status !== 'pending') finish(s);
        }, () => undefined);
      }, POLL_MS);
      void cancelled?.then(() => finish(null));
    });
  }
}

/** How a held statement or a waiting login reports into its session's recording and to its client. */
export interface WaitReport {
  record(data: EventData<'access'>): void;
  notice?(line: string): void;
  /** Resolves when the session is gone (stop waiting). */
  cancelled?: Promise<unknown>;
}

/** Why a request did not end in a grant, for the client. */
export function notGrantedMessage(requestId: number, state: AccessState | null): string {
  if (!state) return `request #${requestId} was not decided in time`;
  return `request #${requestId} was ${state.status}${state.by ? ` by ${state.by}` : ''}${state.reason ? `: ${state.reason}` : ''}`;
}

/** Records a decision that came in for a request this session waited for. */
export function recordOutcome(requestId: number, state: AccessState | null, report: WaitReport): void {
  const action = state?.status === 'granted' ? 'approved' : state?.status === 'denied' ? 'denied' : 'expired';
  report.record({ action, requestId, ...(state?.by ? { by: state.by } : {}), ...(state?.reason ? { reason: state.reason } : {}) });
}

export function admissionOf(state: AccessState): Admission {
  return { requestId: state.requestId, expiresAt: state.expiresAt!, ...(state.by ? { by: state.by } : {}) };
}

/** The `access` event a session records when it ends for its grant (revoked or expired); null otherwise. */
export function grantEndEvent(grant: Admission | null, reason: SessionEndReason, state?: AccessState): EventData<'access'> | null {
  if (!grant || (reason !== 'revoked' && reason !== 'grant_expired')) return null;
  return { action: reason === 'revoked' ? 'revoked' : 'expired', requestId: grant.requestId, ...(state?.by ? { by: state.by } : {}), ...(state?.reason ? { reason: state.reason } : {}) };
}

/** What the client is told when its grant ends. */
export function grantEndMessage(state: Pick<AccessState, 'requestId' | 'status' | 'by' | 'reason' | 'expiresAt'>): string {
  if (state.status === 'revoked') return `access grant #${state.requestId} was revoked by ${state.by ?? 'an approver'}${state.reason ? `: ${state.reason}` : ''}`;
  return `access grant #${state.requestId} expired${state.expiresAt ? ` at ${state.expiresAt.slice(11, 19)} UTC` : ''}`;
}

