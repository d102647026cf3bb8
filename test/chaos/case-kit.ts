// What every chaos case shares: its own user (so its sessions are told apart in the store), the
// clients' endpoints, and the end of a case: wait for the store to settle, then hold the result to
// the promises (nothing seen lost, every session ended with a reason within 15 s of its
// fault, the hubs alive, memory bounded) and turn it into a table row.
import type { ChaosProfile } from './profile.ts';
import type { AgentSlot, Cluster } from './cluster.ts';
import type { Client, ClientLog, Endpoint } from './clients.ts';
import { describeSession, EndWatcher, settle, type StoredSession } from './ledger.ts';
import type { CaseRow } from './report.ts';

/** The bound: a session ends within this of its fault (or of its client's end). */
export const END_BOUND_MS = 15_000;
/** Generous: these run through tsx, which alone holds about 100 MB. */
export const RSS_CEILING_MB = 768;

export interface CaseContext {
  cluster: Cluster;
  profile: ChaosProfile;
  /** Goes into markers: letters and digits. */
  caseId: string;
  /** The user its clients log in as. */
  user: string;
  /** Watches its sessions end from the start. */
  ends: EndWatcher;
}

export function caseContext(cluster: Cluster, profile: ChaosProfile, caseId: string): CaseContext {
  const user = `chaos-${caseId}`;
  return { cluster, profile, caseId, user, ends: new EndWatcher(cluster, user) };
}

export function endpoint(ctx: CaseContext, target = 'pg', port = ctx.cluster.ports.pg): () => Promise<Endpoint> {
  return async () => ({ port, user: ctx.user, target, token: await ctx.cluster.token(ctx.user, target) });
}

export async function stopAll(clients: Client[]): Promise<number> {
  await Promise.all(clients.map((c) => c.stop()));
  return Date.now();
}

/** Whatever an earlier case left down (because it failed half-way) runs again. */
export async function ensureUp(cluster: Cluster): Promise<void> {
  for (const hub of cluster.hubs) if (!hub.proc) await cluster.startHub(hub);
  if (!cluster.agent.proc) await cluster.startAgent(cluster.agent);
}

export async function restartAgent(cluster: Cluster, slot: AgentSlot): Promise<number> {
  const began = Date.now();
  await cluster.startAgent(slot);
  return Date.now() - began;
}

export interface FinishOptions {
  fault: string;
  clients: Client[];
  /** When a session's end is due: its fault, or its client's end. */
  dueAt(session: StoredSession): number;
  /** The fault's moment: "all stored after" counts from it. */
  since: number;
  timeoutMs?: number;
  /** See SettleOptions.stuckMs. */
  stuckMs?: number;
  batchCutoff?: number;
  notes?: string[];
  problems?: string[];
}

export async function finish(ctx: CaseContext, o: FinishOptions): Promise<CaseRow> {
  const logs: ClientLog[] = o.clients.map((c) => c.log);
  const s = await settle(ctx.cluster, ctx.user, ctx.ends, { logs, dueAt: o.dueAt, since: o.since, timeoutMs: o.timeoutMs ?? 45_000, stuckMs: o.stuckMs, batchCutoff: o.batchCutoff });
  if (process.env.CHAOS_DEBUG) {
    for (const l of logs) console.log(`${ctx.caseId} ${l.name}: ${l.seen.length} seen, ${l.counted?.completed ?? '-'} counted, ${l.logins} logins; ${l.errors.slice(0, 4).join(' | ')}`);
  }
  const alive = await ctx.cluster.hubsAlive();
  const rss = ctx.cluster.takePeaks();
  const notes = [...(o.notes ?? [])];
  const problems = [...(o.problems ?? [])];
  const seen = logs.reduce((n, l) => n + l.seen.length + (l.counted?.completed ?? 0), 0);
  const logins = logs.reduce((n, l) => n + l.logins, 0);
  const maxEndMs = s.endDelays.length ? Math.max(...s.endDelays) : null;

  if (s.losses.lost.length) problems.push(`${s.losses.lost.length} statements or lines the clients saw complete are not in the store: ${s.losses.lost.slice(0, 8).join(', ')}`);
  if (s.losses.gaps.length) problems.push(`ended sessions with a hole in their events: ${s.losses.gaps.slice(0, 5).join(', ')}`);
  // A session that lost something, as the store has it: what a report of the bug needs.
  const broken = s.view.sessions.find((x) => x.endReason && x.persistedSeq < x.lastSeq);
  if (broken) notes.push(`for example ${await describeSession(ctx.cluster, broken.id)}`);
  if (s.losses.inBatch.length) notes.push(`${s.losses.inBatch.length} SSH output lines seen in the last recording burst before the kill are not recorded (allowed: one bounded batch)`);
  if (s.unended.length) problems.push(`${s.unended.length} sessions never ended: ${s.unended.slice(0, 5).join(', ')}`);
  if (maxEndMs !== null && maxEndMs > END_BOUND_MS) problems.push(`a session took ${(maxEndMs / 1000).toFixed(1)} s to end (bound ${END_BOUND_MS / 1000} s)`);
  if (s.view.sessions.length < logins) problems.push(`clients got into ${logins} sessions, the store has ${s.view.sessions.length}`);
  if (seen === 0) problems.push('the clients saw nothing complete: the case proved nothing');
  if (!alive.ok) problems.push(`hub not alive: ${alive.detail}`);
  if (rss.hub > RSS_CEILING_MB || rss.agent > RSS_CEILING_MB) problems.push(`memory past ${RSS_CEILING_MB} MB: hub ${rss.hub.toFixed(0)}, agent ${rss.agent.toFixed(0)}`);
  for (const log of logs) for (const e of log.errors) if (/stalled|had to be killed/.test(e)) problems.push(`${log.name}: ${e}`);

  return {
    fault: o.fault,
    sessions: s.view.sessions.length,
    events: s.view.events,
    seen,
    lost: s.losses.lost.length,
    reasons: s.reasons,
    unended: s.unended.length,
    maxEndMs,
    completeAfterMs: s.completeAfterMs,
    hubAlive: alive.ok,
    rssMb: rss,
    notes,
    problems,
  };
}
