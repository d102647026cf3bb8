// Every session ends, with a reason, even when its agent cannot end it. Once a second a hub
// compares the sessions its store has as live with their agents' leases (common/control):
//  - no lease, while the lease store has been continuous for longer than a lease lasts: the agent
//    died or was cut off -> `agent_lost` (and the agent, should it come back, is told to end them);
//  - a lease from a run of the agent that started after the session and does not hold it: the
//    agent was restarted -> `agent_restarted`;
//  - a lease renewed long after the session started that does not hold it: the agent let it go
//    but its end never arrived -> `agent_lost`.
// The end goes through the bus like any event (live viewers see it, the persister stores it once),
// or straight to the store when the bus is down. Several hubs may do this at once: the store keeps
// one end per session and lets a hub's end give way to the agent's own events (hub-end.ts).
import type { BatchProof } from '../../common/agent-identity.ts';
import { eventHash } from '../../common/events/chain.ts';
import { AGENT_LEASE_TTL_MS, type AgentLease, type ControlBus } from '../../common/control/control-bus.ts';
import type { BusEvent, EventBus } from '../../common/bus/event-bus.ts';
import type { SessionEndReason } from '../../common/events/index.ts';
import type { Logger } from '../../common/log.ts';
import type { RecordingStore, SessionSummary } from '../recordings/store/recording-store.ts';
import { hubEndEvent } from './hub-end.ts';

export interface SessionReaperOptions {
  store: RecordingStore;
  bus: EventBus;
  control: ControlBus;
  logger: Logger;
  everyMs?: number;
  leaseTtlMs?: number;
  /** Signs what the hub appends (its ends) so the persisters take it (agent-registry.ts: hub entries). */
  sign?: (events: readonly BusEvent[]) => BatchProof;
}

/** A lease renewed this long after a session started should list it if the agent still held it. */
const UNLISTED_GRACE_MS = 30_000;
/** How often an agent's lease is noted in the store while its run stays the same. */
const NOTE_AGENT_EVERY_MS = 60_000;
/** An end just written is not written again while the persister stores it. */
const RECENT_END_MS = 10_000;

export class SessionReaper {
  private readonly log: Logger;
  private readonly everyMs: number;
  private readonly ttlMs: number;
  /** The last lease seen of each agent (its seqs outlive it), and when its run was last noted in the store. */
  private readonly lastLease = new Map<string, { lease: AgentLease; notedAt: number }>();
  private readonly recentEnds = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<unknown> | null = null;
  private blind = false;

  constructor(private readonly opts: SessionReaperOptions) {
    this.log = opts.logger.child({ component: 'session-reaper' });
    this.everyMs = opts.everyMs ?? 1000;
    this.ttlMs = opts.leaseTtlMs ?? AGENT_LEASE_TTL_MS;
  }

  start(): void {
    this.timer ??= setInterval(() => {
      if (this.sweeping) return;
      this.sweeping = this.sweep()
        .catch((err: Error) => {
          if (!this.blind) this.log.warn({ err: err.message }, 'cannot check agent leases; sessions of lost agents wait');
          this.blind = true;
        })
        .finally(() => (this.sweeping = null));
    }, this.everyMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.sweeping;
  }

  /**
   * Whether the agent holding this session may still end it: its lease lists the session (or may
   * not yet), or it is an agent no hub ever saw a lease of (nothing is known of it).
   */
  async agentHolds(session: SessionSummary): Promise<boolean> {
    const { leases, known } = await this.opts.control.readLeases([session.agent]);
    const lease = leases.get(session.agent);
    if (!lease) return !known.has(session.agent) && !(await this.opts.store.knownAgents([session.agent])).has(session.agent);
    return this.orphanReason(session, lease, Date.now(), Infinity) === null;
  }

  /** Ends the given session in the store, as the hub (the agent holding it is gone). */
  async endAsHub(session: SessionSummary, reason: SessionEndReason, message: string): Promise<void> {
    const reportedSeq = this.lastLease.get(session.agent)?.lease.sessions[session.id];
    const [last] = session.lastSeq > 0 ? await this.opts.store.readEvents(session.id, session.lastSeq, 1) : [];
    const prev = last?.event.seq === session.lastSeq ? eventHash(last.body) : undefined;
    const end = hubEndEvent(session, { reason, message, reportedSeq, prev });
    this.recentEnds.set(session.id, Date.now() + RECENT_END_MS);
    try {
      const events = [{ sessionId: session.id, seq: end.event.seq, body: end.body }];
      await this.opts.bus.append(events, this.opts.sign?.(events));
    } catch {
      // No bus: straight to the store (idempotent, and a later copy from the bus is a duplicate).
      await this.opts.store.append([end]);
    }
  }

  /** One look at every live session; returns how many were ended. */
  async sweep(now = Date.now()): Promise<number> {
    const live = await this.opts.store.liveSessions();
    for (const [id, until] of this.recentEnds) if (until <= now) this.recentEnds.delete(id);
    if (live.length === 0) return 0;
    const agents = [...new Set(live.map((s) => s.agent))];
    const view = await this.opts.control.readLeases(agents);
    if (this.blind) this.log.info('checking agent leases again');
    this.blind = false;
    await this.noteLeases(view.leases, now);
    const absent = agents.filter((a) => !view.leases.has(a));
    // An agent no hub ever saw a lease of (an older agent, a test fixture) is left alone.
    const known = new Set([...view.known, ...await this.opts.store.knownAgents(absent.filter((a) => !view.known.has(a)))]);
    const continuousMs = now - view.since;
    const lost = new Map<string, string[]>();
    let ended = 0;
    for (const session of live) {
      if (this.recentEnds.has(session.id)) continue;
      if (!view.leases.has(session.agent) && !known.has(session.agent)) continue;
      const found = this.orphanReason(session, view.leases.get(session.agent), now, continuousMs);
      if (!found) continue;
      this.log.warn({ session: session.id, agent: session.agent, reason: found.reason }, 'ending a session its agent cannot end');
      await this.endAsHub(session, found.reason, found.message);
      ended++;
      if (found.reason === 'agent_lost') lost.set(session.agent, [...(lost.get(session.agent) ?? []), session.id]);
    }
    for (const [agent, ids] of lost) await this.opts.control.markEndedByHub(agent, ids);
    for (const agent of this.lastLease.keys()) if (!agents.includes(agent)) this.lastLease.delete(agent);
    return ended;
  }

  /** Remembers each lease (its seqs outlive it) and notes new runs of agents in the store. */
  private async noteLeases(leases: Map<string, AgentLease>, now: number): Promise<void> {
    const fresh = [];
    for (const [id, lease] of leases) {
      const before = this.lastLease.get(id);
      const due = before?.lease.instance !== lease.instance || now - before.notedAt > NOTE_AGENT_EVERY_MS;
      if (due) fresh.push({ id, instance: lease.instance, startedAt: lease.startedAt });
      this.lastLease.set(id, { lease, notedAt: due ? now : before!.notedAt });
    }
    await this.opts.store.noteAgents(fresh);
  }

  private orphanReason(session: SessionSummary, lease: AgentLease | undefined, now: number, continuousMs: number): { reason: SessionEndReason; message: string } | null {
    if (!lease) {
      // A Redis that came back empty lost every lease: absence means something only after a TTL.
      if (continuousMs < this.ttlMs + this.everyMs) return null;
      return { reason: 'agent_lost', message: `the Vigil agent ${session.agent} stopped answering; the hub ended the session` };
    }
    if (lease.sessions[session.id] !== undefined) return null;
    const started = session.startedAt ? Date.parse(session.startedAt) : now;
    if (Date.parse(lease.startedAt) > started) {
      return { reason: 'agent_restarted', message: `the Vigil agent ${session.agent} was restarted; the session did not survive it` };
    }
    if (Date.parse(lease.at) - started > UNLISTED_GRACE_MS) {
      return { reason: 'agent_lost', message: `the Vigil agent ${session.agent} no longer holds the session and its end never arrived` };
    }
    return null;
  }
}
