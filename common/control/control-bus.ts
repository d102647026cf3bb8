// Decisions travel hub -> agents on the control bus: the hub decides, the agents enforce. A kill
// (and, next, a revoked grant) reaches every agent at once over pub/sub, and is also kept as state
// for a while, so an agent that was disconnected when it was sent finds it when it looks again
// (on reconnect and periodically): a missed message never leaves a session running.
// Two transports behind one interface, as for the event bus: Redis, and in-process.
import { z } from 'zod';

export const KillOrder = z.strictObject({
  kind: z.literal('kill'),
  sessionId: z.string().min(1).max(64),
  /** Who decided (shown to the session's user and recorded). */
  by: z.string().min(1).max(256),
  reason: z.string().max(500).optional(),
  at: z.iso.datetime(),
});
export type KillOrder = z.infer<typeof KillOrder>;

export const ControlMessage = z.discriminatedUnion('kind', [KillOrder]);
export type ControlMessage = z.infer<typeof ControlMessage>;

export interface ControlBus {
  /** Sends a decision to every agent and keeps it for agents that look later. */
  publish(message: ControlMessage): Promise<void>;
  /** Decisions as they are sent (invalid messages are dropped). */
  subscribe(handler: (message: ControlMessage) => void): Promise<() => Promise<void>>;
  /** The kill orders kept for these sessions (what an agent checks for its live sessions). */
  killsFor(sessionIds: readonly string[]): Promise<KillOrder[]>;
  close(): Promise<void>;
}

/** How long a kill order is kept for agents that were away when it was sent. */
export const KILL_KEPT_SECONDS = 24 * 3600;

export function parseControlMessage(text: string): ControlMessage | null {
  try {
    const parsed = ControlMessage.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
