// What an agent does at start with the outbox an earlier run left (a crash, a SIGKILL, a power
// cut with durability: machine): every event not yet persisted is published again, in order, and
// each session that has no end there is ended now (`agent_restarted`): its client is gone with
// the old process. All of it before the agent serves again.
import { SessionEventEncoder, type VigilEvent } from '../../common/events/index.ts';
import { eventHash } from '../../common/events/chain.ts';
import type { BusEvent } from '../../common/bus/event-bus.ts';
import crypto from 'node:crypto';

interface Head {
  sessionId: string;
  seq: number;
  type: string;
  time: string;
  user: string;
  target: string;
  protocol: VigilEvent['protocol'];
  connection: { client: string; agent: string };
}

export interface Recovery {
  /** Events to publish again (the hub keeps each once), then the ends, in order. */
  events: BusEvent[];
  /** Sessions ended here for the earlier run. */
  ended: string[];
  /** Lines that were not events (skipped). */
  unreadable: number;
}

/**
 * `marksOf`: the persisted watermarks of the sessions found, when the bus can say (events at or
 * below a session's are not sent again). `now` stamps the ends.
 */
export async function recoverOutbox(
  bodies: readonly string[],
  marksOf: (sessionIds: string[]) => Promise<ReadonlyMap<string, number>>,
  now = Date.now(),
): Promise<Recovery> {
  const read: Array<{ head: Head; body: string }> = [];
  const last = new Map<string, Head>();
  const firstTime = new Map<string, string>();
  const ended = new Set<string>();
  /** The body of each session's last event: the end written here chains to it. */
  const lastBody = new Map<string, string>();
  let unreadable = 0;
  for (const body of bodies) {
    const head = readHead(body);
    if (!head) {
      unreadable++;
      continue;
    }
    read.push({ head, body });
    if (!firstTime.has(head.sessionId) || head.type === 'session.start') firstTime.set(head.sessionId, head.time);
    const before = last.get(head.sessionId);
    if (!before || head.seq > before.seq) {
      last.set(head.sessionId, head);
      lastBody.set(head.sessionId, body);
    }
    if (head.type === 'session.end') ended.add(head.sessionId);
  }
  const marks = read.length ? await marksOf([...last.keys()]) : new Map<string, number>();
  const events: BusEvent[] = read
    .filter(({ head }) => head.seq > (marks.get(head.sessionId) ?? 0))
    .map(({ head, body }) => ({ sessionId: head.sessionId, seq: head.seq, body }));
  const endedNow: string[] = [];
  for (const [sessionId, head] of last) {
    if (ended.has(sessionId)) continue;
    const encoder = new SessionEventEncoder({ sessionId, user: head.user, target: head.target, protocol: head.protocol, connection: head.connection });
    const started = Date.parse(firstTime.get(sessionId) ?? head.time);
    const seq = head.seq + 1;
    const body = encoder.encode({
      type: 'session.end',
      id: crypto.randomUUID(),
      seq,
      time: new Date(now).toISOString(),
      prev: eventHash(lastBody.get(sessionId)!),
      data: {
        reason: 'agent_restarted',
        message: `the Vigil agent ${head.connection.agent} stopped (crashed or was killed) while the session was open; it was ended when the agent started again`,
        durationMs: Math.max(0, now - started),
      },
    });
    events.push({ sessionId, seq, body });
    endedNow.push(sessionId);
  }
  return { events, ended: endedNow, unreadable };
}

function readHead(body: string): Head | null {
  try {
    const e = JSON.parse(body) as Partial<Head>;
    const c = e.connection;
    if (typeof e.sessionId !== 'string' || !Number.isSafeInteger(e.seq) || typeof e.type !== 'string' || typeof e.time !== 'string'
      || typeof e.user !== 'string' || typeof e.target !== 'string' || typeof e.protocol !== 'string'
      || typeof c?.client !== 'string' || typeof c?.agent !== 'string') return null;
    return e as Head;
  } catch {
    return null;
  }
}
