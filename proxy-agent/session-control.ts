// The agent's side of the control bus: it enforces what the hub decided on the sessions it holds.
// A kill order ends its session at once (the client is told why); the orders kept on the bus are
// also checked every few seconds for every live session, so one sent while this agent was
// disconnected from Redis still takes effect when it is back.
import type { ControlBus, KillOrder } from '../common/control/control-bus.ts';
import type { Logger } from '../common/log.ts';

/** A live session of any protocol, as the control path sees it. */
export interface ControlledSession {
  readonly id: string;
  /** Ends the session now, telling the client why (PostgreSQL: FATAL; SSH: on the terminal). */
  kill(message: string): void;
}

export function killMessage(order: KillOrder): string {
  return `this session was ended by ${order.by}${order.reason ? `: ${order.reason}` : ''}`;
}

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
  const unsubscribe = await opts.control.subscribe((message) => {
    if (message.kind === 'kill') apply(message);
  });
  let checking = false;
  const timer = setInterval(() => {
    if (checking) return;
    const sessions = byId();
    if (sessions.size === 0) return;
    checking = true;
    opts.control.killsFor([...sessions.keys()])
      .then((orders) => orders.forEach((o) => apply(o, sessions)))
      .catch((err: Error) => log.debug({ err: err.message }, 'control check failed'))
      .finally(() => (checking = false));
  }, opts.checkEveryMs ?? 2000);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await unsubscribe();
  };
}
