// The agent's lease: every second it tells the control bus that it is alive and which sessions it
// holds (with the last seq each has emitted). A hub that finds the lease gone ends those sessions
// in the store (`agent_lost`) instead of leaving them live for ever; one that finds a newer run
// of the agent ends the sessions the old run left (`agent_restarted`). If this agent was only cut
// off and comes back, the renewal answers which of its sessions a hub ended meanwhile: they end
// here too, so no session goes on unrecorded behind a recording that says it ended.
import crypto from 'node:crypto';
import { AGENT_LEASE_TTL_MS, type AgentLease, type ControlBus } from '../../common/control/control-bus.ts';
import type { Logger } from '../../common/log.ts';
import type { ControlledSession } from '../session-control.ts';

export const LEASE_RENEW_MS = 1000;

export interface LeaseOptions {
  control: ControlBus;
  agentId: string;
  sessions: () => Iterable<ControlledSession>;
  logger: Logger;
  ttlMs?: number;
  renewEveryMs?: number;
}

export function keepLease(opts: LeaseOptions): { instance: string; stop(): Promise<void> } {
  const log = opts.logger.child({ component: 'lease' });
  const instance = crypto.randomUUID();
  const startedAt = new Date().toISOString();
  const ttlMs = opts.ttlMs ?? AGENT_LEASE_TTL_MS;
  let failing = false;
  let renewing: Promise<void> | null = null;

  const renew = async () => {
    const live = new Map<string, ControlledSession>();
    const sessions: AgentLease['sessions'] = {};
    for (const s of opts.sessions()) {
      live.set(s.id, s);
      if (s.lastSeq > 0) sessions[s.id] = s.lastSeq;
    }
    try {
      const { endedByHub } = await opts.control.renewLease({ agent: opts.agentId, instance, startedAt, at: new Date().toISOString(), sessions }, ttlMs);
      if (failing) log.info('agent lease renewed again');
      failing = false;
      for (const id of endedByHub) {
        const session = live.get(id);
        if (!session) continue;
        log.warn({ session: id }, 'a hub ended this session while the agent was cut off; ending it here too');
        session.kill('the Vigil agent lost contact with the hub and the session was ended; reconnect to go on', 'agent_lost');
      }
    } catch (err) {
      if (!failing) log.warn({ err: (err as Error).message }, 'agent lease not renewed; retrying');
      failing = true;
    }
  };

  const tick = () => {
    if (renewing) return;
    renewing = renew().finally(() => (renewing = null));
  };
  tick();
  const timer = setInterval(tick, opts.renewEveryMs ?? LEASE_RENEW_MS);
  timer.unref();
  return {
    instance,
    async stop() {
      clearInterval(timer);
      await renewing;
    },
  };
}
