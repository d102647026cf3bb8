// The agent's side of the control bus: it enforces what the hub decided on the sessions it holds.
// A kill order ends its session at once (the client is told why); so does the revocation or
// expiry of the access grant a session runs under. The kept state on the bus is also checked
// every few seconds for every live session, so a decision sent while this agent was disconnected
// from Redis still takes effect when it is back; a grant's end is also watched locally, so a
// session under it ends on time even with Redis away.
import { inForce, type AccessState, type ControlBus, type KillOrder } from '../common/control/control-bus.ts';
import { lockFor, lockMessage, type Lock, type LockSubject } from '../common/locks.ts';
import type { SessionEndReason } from '../common/events/index.ts';
import type { Logger } from '../common/log.ts';
import { grantEndMessage, type Admission } from './access/access-gate.ts';

/** A live session of any protocol, as the control path sees it. */
export interface ControlledSession {
  readonly id: string;
  /** The last seq its recording has emitted (0 before it has one). */
  readonly lastSeq: number;
  /** The access grant it runs under (jit targets), once admitted. */
  readonly grant: Admission | null;
  /** Who it is for locks (user, target, the token's jti), once logged in. */
  readonly lockSubject: LockSubject | null;
  /** Ends the session now, telling the client why (PostgreSQL: FATAL; SSH: on the terminal). */
  kill(message: string, reason?: SessionEndReason, access?: AccessState): void;
}

export function killMessage(order: KillOrder): string {
  return `this session was ended by ${order.by}${order.reason ? `: ${order.reason}` : ''}`;
}

/** Ends the live sessions a list of locks matches, telling each client who locked and why. */
export function endLockedSessions(locks: readonly Lock[], sessions: Iterable<ControlledSession>, logger: Logger, agentId?: string): void {
  for (const session of sessions) {
    const lock = session.lockSubject ? lockFor(locks, { agent: agentId, ...session.lockSubject }) : null;
    if (!lock) continue;
    logger.info({ session: session.id, lock: lock.id, by: lock.by }, 'session locked out');
    session.kill(lockMessage(lock), 'locked');
  }
}

/** How often a grant's end is looked for locally (cheap: a comparison per session). */
const EXPIRY_CHECK_MS = 200;

export async function enforceControl(opts: {
  control: ControlBus;
  sessions: () => Iterable<ControlledSession>;
  logger: Logger;
  checkEveryMs?: number;
}): Promise<() => Promise<void>> {
  const log = opts.logger.child({ component: 'control' });
  const byId = () => new Map([...opts.sessions()].map((s) => [s.id, s]));
  const apply = (order: KillOrder, sessions = byId()) => {
    const session = sessions.get(order.sessionId);
    if (!session) return;
    log.info({ session: order.sessionId, by: order.by }, 'session killed');
    session.kill(killMessage(order));
  };
  /** Ends every session under this request's grant unless the state keeps it in force. */
  const applyAccess = (state: AccessState) => {
    if (state.scope !== 'connect' || state.status === 'pending' || inForce(state)) return;
    for (const session of opts.sessions()) {
      if (session.grant?.requestId !== state.requestId) continue;
      log.info({ session: session.id, request: state.requestId, status: state.status }, 'grant ended: session ended');
      session.kill(grantEndMessage(state), state.status === 'revoked' ? 'revoked' : 'grant_expired', state);
    }
  };
  const unsubscribe = await opts.control.subscribe((message) => {
    if (message.kind === 'kill') apply(message);
    else if (message.kind === 'access') applyAccess(message);
  });
  let checking = false;
  const timer = setInterval(() => {
    if (checking) return;
    const sessions = byId();
    if (sessions.size === 0) return;
    checking = true;
    const grants = [...new Set([...sessions.values()].flatMap((s) => (s.grant ? [s.grant.requestId] : [])))];
    Promise.all([
      opts.control.killsFor([...sessions.keys()]).then((orders) => orders.forEach((o) => apply(o, sessions))),
      opts.control.accessStates(grants).then((states) => states.forEach(applyAccess)),
    ])
      .catch((err: Error) => log.debug({ err: err.message }, 'control check failed'))
      .finally(() => (checking = false));
  }, opts.checkEveryMs ?? 2000);
  timer.unref();
  const expiry = setInterval(() => {
    const now = Date.now();
    for (const session of opts.sessions()) {
      const grant = session.grant;
      if (!grant || Date.parse(grant.expiresAt) > now) continue;
      session.kill(grantEndMessage({ requestId: grant.requestId, status: 'expired', expiresAt: grant.expiresAt }), 'grant_expired');
    }
  }, EXPIRY_CHECK_MS);
  expiry.unref();
  return async () => {
    clearInterval(timer);
    clearInterval(expiry);
    await unsubscribe();
  };
}
