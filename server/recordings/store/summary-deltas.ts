// What a batch of newly inserted events changes in each session's summary. Computed from the
// inserted rows only, so a replayed batch (all duplicates) changes no counter.
import type { VigilEvent } from '../../../common/events/index.ts';

export interface SessionDelta {
  id: string;
  /** Metadata from the batch's session.start if it has one, else from its lowest-seq event. */
  protocol: string;
  user: string;
  target: string;
  client: string;
  agent: string;
  /** session.start's time if in the batch (startSeen), else the earliest event time in it. */
  startedAt: string;
  startSeen: boolean;
  endedAt: string | null;
  endReason: string | null;
  /** The end's message (who killed or revoked it, and why); absent when it had none. */
  endMessage?: string;
  /** 'hub' when the session's end in this batch was written by a hub. */
  endedBy: string | null;
  lastSeq: number;
  eventCount: number;
  queryCount: number;
  errorCount: number;
}

/** One delta per session, ordered by session id (the order rows are locked in). */
export function summarizeInserted(events: readonly VigilEvent[]): SessionDelta[] {
  const deltas = new Map<string, SessionDelta & { metaSeq: number; endSeq: number }>();
  for (const event of events) {
    let delta = deltas.get(event.sessionId);
    if (!delta) {
      delta = {
        id: event.sessionId, protocol: event.protocol, user: event.user, target: event.target,
        client: event.connection.client, agent: event.connection.agent,
        startedAt: event.time, startSeen: false, endedAt: null, endReason: null, endedBy: null,
        lastSeq: event.seq, eventCount: 0, queryCount: 0, errorCount: 0, metaSeq: event.seq, endSeq: 0,
      };
      deltas.set(event.sessionId, delta);
    }
    delta.eventCount += 1;
    delta.lastSeq = Math.max(delta.lastSeq, event.seq);
    if (!delta.startSeen && event.time < delta.startedAt) delta.startedAt = event.time;
    if (!delta.startSeen && event.seq < delta.metaSeq) setMeta(delta, event);
    switch (event.type) {
      case 'session.start':
        setMeta(delta, event);
        delta.startSeen = true;
        delta.startedAt = event.time;
        break;
      case 'session.end':
        if (event.seq > delta.endSeq) {
          delta.endSeq = event.seq;
          delta.endedAt = event.time;
          delta.endReason = event.data.reason;
          delta.endMessage = event.data.message;
          delta.endedBy = event.data.writtenBy ?? null;
        }
        break;
      case 'db.query':
      case 'ssh.exec':
      case 'http.request':
        delta.queryCount += 1;
        break;
      case 'term.input':
        // A line entered at a terminal is a command (an answer typed in secret is not counted).
        if (event.data.text !== undefined && /[\r\n]$/.test(event.data.text)) delta.queryCount += 1;
        break;
      case 'db.error':
        delta.errorCount += 1;
        break;
      // An HTTP exchange is an error when it did not complete (aborted or refused, told by its
      // http.end) or when the target answered it with a 5xx. Counted from single events, as
      // everything here (a response and its end may come in different batches): a 5xx from Vigil
      // is not counted, since the agent ends every exchange it answers itself aborted or refused
      // and that end is counted. What this rule cannot see: a target's 5xx whose exchange then
      // does not complete (its body breaks off, a side goes away, a WebSocket upgrade answered
      // 5xx) counts twice. Rare; exact once http.end carries the response's status.
      case 'http.response':
        if (event.data.status >= 500 && event.data.by !== 'vigil') delta.errorCount += 1;
        break;
      case 'http.end':
        if (event.data.outcome === 'aborted' || event.data.outcome === 'refused') delta.errorCount += 1;
        break;
      default:
        break;
    }
  }
  return [...deltas.values()]
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .map(({ metaSeq: _m, endSeq: _e, ...delta }) => delta);
}

function setMeta(delta: SessionDelta & { metaSeq: number }, event: VigilEvent): void {
  delta.metaSeq = event.seq;
  delta.protocol = event.protocol;
  delta.user = event.user;
  delta.target = event.target;
  delta.client = event.connection.client;
  delta.agent = event.connection.agent;
}
