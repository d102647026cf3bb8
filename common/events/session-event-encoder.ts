// The canonical encoding of one session's events, with the envelope fields that never change
// within a session (user, target, connection, ...) encoded once. The output is exactly
// canonicalJson(event) (session-event-encoder.unit.test.ts compares them): keys of the envelope
// are written here in RFC 8785 order, and only `data` and `masked` are walked per event.
import { canonicalJson, canonicalString } from './canonical-json.ts';
import { EVENT_VERSION, type EventType, type MaskCounts, type VigilEvent } from './schema.ts';

export type SessionMeta = Pick<VigilEvent, 'sessionId' | 'user' | 'target' | 'protocol' | 'connection'>;

export interface EventFields {
  type: EventType;
  id: string;
  seq: number;
  /** ISO-8601 UTC with milliseconds; the caller's clock. */
  time: string;
  data: unknown;
  masked?: MaskCounts | null;
  /** The previous event's hash (chain.ts); omitted on the first. */
  prev?: string;
}

// Envelope keys in code-unit order: connection, data, id, masked, prev, protocol, seq, sessionId,
// target, time, type, user, v.
export class SessionEventEncoder {
  private readonly head: string;
  private readonly beforeSeq: string;
  private readonly afterSeq: string;
  private readonly tail: string;

  constructor(meta: SessionMeta) {
    this.head = `{"connection":${canonicalJson(meta.connection)},"data":`;
    this.beforeSeq = `,"protocol":${canonicalString(meta.protocol)},"seq":`;
    this.afterSeq = `,"sessionId":${canonicalString(meta.sessionId)},"target":${canonicalString(meta.target)},"time":`;
    this.tail = `,"user":${canonicalString(meta.user)},"v":${EVENT_VERSION}}`;
  }

  encode(e: EventFields): string {
    if (!Number.isSafeInteger(e.seq)) throw new Error(`invalid seq ${e.seq}`);
    const masked = e.masked ? `,"masked":${canonicalJson(e.masked)}` : '';
    const prev = e.prev ? `,"prev":${canonicalString(e.prev)}` : '';
    return `${this.head}${canonicalJson(e.data)},"id":${canonicalString(e.id)}${masked}${prev}${this.beforeSeq}${e.seq}` +
      `${this.afterSeq}${canonicalString(e.time)},"type":${canonicalString(e.type)}${this.tail}`;
  }
}
