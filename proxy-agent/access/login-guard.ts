// Refused logins at the agent: each goes to the audit log with where it came from (through the
// control bus to a hub), and an address that keeps failing is refused at once for a while, before
// its token is even read, so nobody can try tokens or keys at wire speed. A flood from one address
// is audited as one entry a minute with its count, not one per attempt.
import type { AgentAuditEntry, ControlBus } from '../../common/control/control-bus.ts';
import type { Logger } from '../../common/log.ts';
import { RateLimiter, type RateDecision } from '../../common/rate-limiter.ts';

export interface RefusedLogin {
  protocol: AgentAuditEntry['protocol'];
  /** The client's address, host:port. */
  client: string;
  target?: string;
  user?: string;
  reason: string;
}

export interface LoginGuardOptions {
  agentId: string;
  control?: ControlBus;
  logger: Logger;
  /** Failed logins an address may have a minute before it is refused at once (default 10). */
  failuresPerMinute?: number;
  now?: () => number;
}

/** Entries waiting for the control bus at most (the oldest are dropped past it). */
const PENDING_MAX = 1000;
const RETRY_MS = 2000;
const FLOOD_REPORT_MS = 60_000;

/** The host part of host:port (IPv6 in brackets or not). */
export function hostOf(client: string): string {
  const i = client.lastIndexOf(':');
  return (i > 0 ? client.slice(0, i) : client).replace(/^\[|\]$/g, '');
}

export class LoginGuard {
  private readonly limiter: RateLimiter;
  private readonly log: Logger;
  private readonly now: () => number;
  private pending: AgentAuditEntry[] = [];
  private sending = false;
  private retry: NodeJS.Timeout | undefined;
  /** Per limited address: refusals since its last report, and when that was. */
  private readonly floods = new Map<string, { count: number; reportedAt: number; last: RefusedLogin }>();

  constructor(private readonly opts: LoginGuardOptions) {
    this.now = opts.now ?? Date.now;
    this.limiter = new RateLimiter({ perMinute: opts.failuresPerMinute ?? 10, now: this.now });
    this.log = opts.logger.child({ component: 'login-guard' });
  }

  /**
   * Before any credential is looked at: may this address try now? A refused attempt is counted
   * (and its flood reported) here.
   */
  admit(login: Omit<RefusedLogin, 'reason'>): RateDecision {
    const decision = this.limiter.check(hostOf(login.client));
    if (!decision.ok) this.limited({ ...login, reason: `too many failed logins from this address; try again in ${decision.retryAfterSeconds} s` });
    return decision;
  }

  /** A login was refused (bad, expired or foreign token, unknown target, no grant...). */
  refused(login: RefusedLogin): void {
    const host = hostOf(login.client);
    const decision = this.limiter.take(host);
    if (decision.ok) {
      this.report('login.refused', login, 1);
      return;
    }
    this.limited(login);
  }

  /** A login refused for want of access (no grant), with a good credential: audited, not counted. */
  audit(login: RefusedLogin): void {
    this.report('login.refused', login, 1);
  }

  /** An attempt refused because its address is limited. */
  private limited(login: RefusedLogin): void {
    const host = hostOf(login.client);
    const flood = this.floods.get(host) ?? { count: 0, reportedAt: 0, last: login };
    flood.count++;
    flood.last = login;
    this.floods.set(host, flood);
    if (this.now() - flood.reportedAt >= FLOOD_REPORT_MS) {
      this.report('login.rate_limited', login, flood.count);
      this.floods.set(host, { count: 0, reportedAt: this.now(), last: login });
    }
    if (this.floods.size > 10_000) this.floods.delete(this.floods.keys().next().value!);
  }

  stop(): void {
    clearTimeout(this.retry);
  }

  private report(action: AgentAuditEntry['action'], login: RefusedLogin, count: number): void {
    this.log.info({ client: login.client, target: login.target, user: login.user, reason: login.reason, count }, action === 'login.refused' ? 'login refused' : 'logins refused: too many failures from this address');
    if (!this.opts.control) return;
    this.pending.push({
      at: new Date(this.now()).toISOString(), agent: this.opts.agentId, action, protocol: login.protocol, client: login.client.slice(0, 300),
      reason: login.reason.slice(0, 500), ...(login.target ? { target: login.target.slice(0, 256) } : {}),
      ...(login.user ? { user: login.user.slice(0, 256) } : {}), ...(count > 1 ? { count } : {}),
    });
    if (this.pending.length > PENDING_MAX) this.pending.splice(0, this.pending.length - PENDING_MAX);
    this.send();
  }

  private send(): void {
    if (this.sending || this.retry || this.pending.length === 0 || !this.opts.control) return;
    const batch = this.pending;
    this.pending = [];
    this.sending = true;
    this.opts.control.reportAudit(batch)
      .catch((err: Error) => {
        this.log.debug({ err: err.message }, 'audit report failed; trying again');
        this.pending = [...batch, ...this.pending].slice(-PENDING_MAX);
        this.retry = setTimeout(() => {
          this.retry = undefined;
          this.send();
        }, RETRY_MS);
        this.retry.unref();
      })
      .finally(() => {
        this.sending = false;
        if (!this.retry) this.send();
      });
  }
}
