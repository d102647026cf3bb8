// Just-in-time access, the hub's side: requests are opened (from the dashboard, the CLI, or by an
// agent when someone connects to a `jit` target without a grant or a statement is held), decided
// by approvers, granted for a bounded time, revoked, and expired on time. Every change is stored
// (the store makes it atomic), written to the audit log, and published on the control bus as the
// request's state: agents enforce it, and every hub's inbox hears it there too.
import type { AccessRequestView } from '../../common/api-contract.ts';
import { parseDuration, type Approval, type Config, type Target } from '../../common/config/schema.ts';
import type { AccessDraft, AccessReceipt, AccessState, ControlBus } from '../../common/control/control-bus.ts';
import type { Logger } from '../../common/log.ts';
import { AppError } from '../http/errors.ts';
import type { AccessRequest, AccessStore } from './access-store.ts';
import { endedJustNow, isApproverFor, maySee, mayRevoke, whyNotDecide, type Actor } from './access-policy.ts';

export interface RequestInput {
  target: string;
  reason: string;
  /** Default: the target's defaultDuration. */
  durationMs?: number;
  origin: 'dashboard' | 'cli';
  /** recording: to read the target's recordings (or sessionId's only) for a while, not to connect. */
  scope?: 'connect' | 'recording';
  sessionId?: string;
}

/** Who acted and from where, for the audit log. */
export interface Origin {
  /** The caller's address, or the agent and its client. */
  from: string;
}

const SWEEP_EVERY_MS = 1000;
const SYSTEM = 'vigil';

export class AccessService {
  private readonly targets: Map<string, Target>;
  private sweepTimer: NodeJS.Timeout | null = null;
  private stopServing: (() => Promise<void>) | null = null;
  private sweeping = false;

  constructor(private readonly opts: { config: Config; store: AccessStore; control: ControlBus; logger: Logger }) {
    this.targets = new Map(opts.config.targets.map((t) => [t.name, t]));
  }

  /** Serves agents' requests, restates grants in force to the agents, and expires on time. */
  async start(): Promise<void> {
    for (const grant of await this.opts.store.grantsInForce()) await this.opts.control.publish(stateOf(grant));
    this.stopServing = await this.opts.control.serveAccessRequests((draft) => this.openFromAgent(draft));
    this.sweepTimer = setInterval(() => void this.sweep(), SWEEP_EVERY_MS);
    this.sweepTimer.unref();
  }

  async stop(): Promise<void> {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    await this.stopServing?.();
  }

  approvalOf(target: string): Approval | undefined {
    return this.targets.get(target)?.approval;
  }

  /**
   * The actor approves for this target (it is jit or holds statements for approval): they may
   * watch its sessions, to decide with the session in view and revoke from there.
   */
  approves(actor: Actor, target: string): boolean {
    const t = this.targets.get(target);
    if (!t || (t.access !== 'jit' && !t.guardrails.some((g) => g.action === 'approve'))) return false;
    return isApproverFor(actor, t.approval);
  }

  view(actor: Actor, request: AccessRequest): AccessRequestView {
    const approval = this.approvalOf(request.target);
    return { ...request, canDecide: whyNotDecide(actor, request, approval) === null, canRevoke: mayRevoke(actor, request, approval) };
  }

  maySee(actor: Actor, request: AccessRequest): boolean {
    return maySee(actor, request, this.approvalOf(request.target));
  }

  /** Requests the actor may see, newest first. */
  async list(actor: Actor, filter: { mine?: boolean; statuses?: AccessRequest['status'][]; limit?: number } = {}): Promise<AccessRequestView[]> {
    const all = await this.opts.store.list({ user: filter.mine ? actor.subject : undefined, statuses: filter.statuses, limit: filter.limit });
    return all.filter((r) => this.maySee(actor, r)).map((r) => this.view(actor, r));
  }

  /** A request, whoever asks (the caller checks maySee). */
  find(id: number): Promise<AccessRequest | null> {
    return this.opts.store.get(id);
  }

  async get(actor: Actor, id: number): Promise<AccessRequest> {
    const request = await this.opts.store.get(id);
    // Someone else's request is "not found", as if it did not exist.
    if (!request || !this.maySee(actor, request)) throw AppError.notFound(`no access request ${id}`);
    return request;
  }

  /** A person asks for a `jit` target (dashboard, CLI). */
  async request(actor: Actor, input: RequestInput, origin: Origin): Promise<AccessRequest> {
    const target = this.targets.get(input.target);
    if (!target) throw AppError.notFound(`no target ${input.target}`);
    const recording = input.scope === 'recording';
    if (!recording && target.access !== 'jit') throw AppError.badRequest(`target ${target.name} needs no approval: connect to it directly`);
    if (!recording && input.sessionId) throw AppError.badRequest('sessionId goes with scope recording');
    if (!actor.roles.includes('engineer') && !actor.roles.includes('admin')) throw AppError.forbidden('only engineers and admins use targets');
    const approval = target.approval;
    const reason = input.reason.trim();
    if (approval.reasonRequired && !reason) throw AppError.badRequest(`target ${target.name} needs a reason for access`);
    const durationMs = input.durationMs ?? parseDuration(approval.defaultDuration);
    const max = parseDuration(approval.maxDuration);
    if (durationMs > max) throw AppError.badRequest(`target ${target.name} grants at most ${approval.maxDuration}`);
    if (durationMs < 1000) throw AppError.badRequest('a grant lasts at least one second');
    if (recording && !reason) throw AppError.badRequest('a request to read recordings needs a reason');
    return this.open(actor.subject, target, recording
      ? { scope: 'recording', reason, durationMs, origin: input.origin, ...(input.sessionId ? { sessionId: input.sessionId } : {}) }
      : { scope: 'connect', reason, durationMs, origin: input.origin }, origin);
  }

  /** An agent asks on someone's behalf: they connected without a grant, or a statement was held. */
  async openFromAgent(draft: AccessDraft): Promise<AccessReceipt> {
    const target = this.targets.get(draft.target);
    if (!target) return { error: `target ${draft.target} is not in the hub's configuration` };
    if (draft.scope === 'connect' && target.access !== 'jit') return { error: `target ${target.name} is not a jit target at the hub` };
    if (draft.scope === 'connect') {
      const ended = endedJustNow(await this.opts.store.latestConnect(draft.user, target.name), Date.now());
      if (ended) return { error: ended };
    }
    const request = await this.open(draft.user, target, draft.scope === 'connect'
      ? { scope: 'connect', reason: '', durationMs: parseDuration(target.approval.defaultDuration), origin: 'connection', client: draft.client, sessionId: draft.sessionId }
      : { scope: 'statement', reason: draft.rule ? `held by guardrail ${draft.rule}` : 'held statement', durationMs: null, origin: 'statement', client: draft.client, sessionId: draft.sessionId, statement: draft.statement, rule: draft.rule },
    { from: draft.client ?? 'agent' });
    return { requestId: request.id, status: request.status };
  }

  async decide(actor: Actor, id: number, decision: 'approve' | 'deny', comment: string, origin: Origin): Promise<AccessRequest> {
    const request = await this.get(actor, id);
    const why = whyNotDecide(actor, request, this.approvalOf(request.target));
    if (why) throw request.status !== 'pending' ? new AppError(409, 'conflict', why) : AppError.forbidden(why);
    const after = await this.opts.store.decide(id, actor.subject, decision, comment.trim());
    if (!after) throw new AppError(409, 'conflict', `request #${id} was decided or expired meanwhile`);
    await this.audit(actor.subject, decision === 'approve' ? 'access.approved' : 'access.denied', after, origin, comment ? { comment } : {});
    if (after.status === 'granted') await this.audit(SYSTEM, 'access.granted', after, origin, { until: after.expiresAt, approvers: approversOf(after) });
    await this.opts.control.publish(stateOf(after));
    return after;
  }

  async revoke(actor: Actor, id: number, reason: string, origin: Origin): Promise<AccessRequest> {
    const request = await this.get(actor, id);
    if (!mayRevoke(actor, request, this.approvalOf(request.target))) {
      if (request.status !== 'granted') throw new AppError(409, 'conflict', `request #${id} is ${request.status}: there is no grant to revoke`);
      throw AppError.forbidden(`you are not an approver for ${request.target}`);
    }
    const after = await this.opts.store.revoke(id, actor.subject, reason.trim());
    if (!after) throw new AppError(409, 'conflict', `grant #${id} has ended already`);
    // The agents first: the sessions under it end now; the audit can follow.
    await this.opts.control.publish(stateOf(after));
    await this.audit(actor.subject, 'access.revoked', after, origin, reason ? { reason } : {});
    return after;
  }

  /** Expires stale requests and ended grants (each once, whichever hub gets there first). */
  async sweep(): Promise<void> {
    if (this.sweeping) return;
    this.sweeping = true;
    try {
      for (const request of await this.opts.store.expireDue()) await this.expired(request);
    } catch (err) {
      this.opts.logger.warn({ err: (err as Error).message }, 'access: expiry sweep failed');
    } finally {
      this.sweeping = false;
    }
  }

  private async expired(request: AccessRequest): Promise<void> {
    await this.opts.control.publish(stateOf(request));
    await this.audit(SYSTEM, request.expiresAt ? 'access.grant_expired' : 'access.request_expired', request, { from: 'hub' }, {});
  }

  private async open(user: string, target: Target, fields: Omit<Parameters<AccessStore['open']>[0], 'user' | 'target' | 'minApprovals' | 'pendingMs'>, origin: Origin): Promise<AccessRequest> {
    const approval = target.approval;
    const pendingMs = parseDuration(fields.scope === 'statement' ? approval.holdTimeout : approval.pendingTtl);
    const { request, created, updated, expired } = await this.opts.store.open({ ...fields, user, target: target.name, minApprovals: approval.minApprovals, pendingMs });
    if (expired) await this.expired(expired);
    if (updated) {
      await this.audit(user, 'access.request_updated', request, origin, { reason: request.reason, durationMs: request.durationMs });
      await this.opts.control.publish(stateOf(request));
    }
    if (created) {
      await this.audit(user, fields.scope === 'statement' ? 'access.statement_held' : 'access.requested', request, origin,
        { reason: request.reason, ...(request.durationMs !== null ? { durationMs: request.durationMs } : {}), ...(request.statement ? { statement: request.statement } : {}) });
      await this.opts.control.publish(stateOf(request));
      this.opts.logger.info({ request: request.id, user, target: target.name, scope: fields.scope }, 'access requested');
    }
    return request;
  }

  private audit(actor: string, action: string, request: AccessRequest, origin: Origin, detail: Record<string, unknown>): Promise<void> {
    return this.opts.store.audit({ actor, action, target: request.target, requestId: request.id, sessionId: request.sessionId, origin: origin.from, detail: { user: request.user, scope: request.scope, ...detail } });
  }
}

function approversOf(request: AccessRequest): string[] {
  return request.decisions.filter((d) => d.decision === 'approve').map((d) => d.approver);
}

/** What the agents need of a request. */
export function stateOf(request: AccessRequest): AccessState {
  const by = request.status === 'granted' ? approversOf(request).join(', ') : request.endedBy ?? undefined;
  return {
    kind: 'access',
    requestId: request.id,
    scope: request.scope,
    user: request.user,
    target: request.target,
    status: request.status,
    ...(request.expiresAt ? { expiresAt: request.expiresAt } : {}),
    ...(by ? { by: by.slice(0, 256) } : {}),
    ...(request.endReason ? { reason: request.endReason.slice(0, 500) } : {}),
    at: new Date().toISOString(),
  };
}

