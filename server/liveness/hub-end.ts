// The session.end a hub writes for a session whose agent cannot end it (lost, restarted, gone when
// someone killed the session): one seq past the last the hub knows of, with `writtenBy: 'hub'`,
// the last seq received and how many never arrived. The store lets it give way if the agent
// delivers more later (sql-recording-store.ts).
import crypto from 'node:crypto';
import { encodeEvent, VigilEvent, type SessionEndReason } from '../../common/events/index.ts';
import type { SessionSummary, StoredEvent } from '../recordings/store/recording-store.ts';

export interface HubEndInput {
  reason: SessionEndReason;
  message: string;
  /** The last seq the agent said it had emitted (its lease), when known. */
  reportedSeq?: number;
  /** The hash of the stored event just before this end (chain.ts), when that is its seq - 1. */
  prev?: string;
  now?: number;
}

export function hubEndEvent(session: SessionSummary, input: HubEndInput): StoredEvent {
  const now = input.now ?? Date.now();
  const last = Math.max(session.lastSeq, input.reportedSeq ?? 0);
  // Holes below the last stored seq, and what the agent emitted past it that never came.
  const missing = Math.max(0, session.lastSeq - session.eventCount) + Math.max(0, last - session.lastSeq);
  const started = session.startedAt ? Date.parse(session.startedAt) : now;
  const event = VigilEvent.parse({
    v: 1,
    id: crypto.randomUUID(),
    sessionId: session.id,
    seq: last + 1,
    time: new Date(now).toISOString(),
    // Chained only onto an event the hub holds: past a hole there is nothing to chain to.
    ...(input.prev && last === session.lastSeq ? { prev: input.prev } : {}),
    user: session.user,
    target: session.target,
    protocol: session.protocol,
    connection: { client: session.client, agent: session.agent },
    type: 'session.end',
    data: {
      reason: input.reason,
      message: input.message,
      durationMs: Math.max(0, now - started),
      writtenBy: 'hub',
      lastSeq: session.lastSeq,
      missing,
    },
  });
  return { event, body: encodeEvent(event) };
}
