// Turns what a proxy observes into contract events: shared metadata, a gapless per-session
// sequence number assigned here before anything can drop, the canonical encoding, and the hand-off
// to the publisher. Protocol recorders (PostgreSQL now, SSH later) only say what happened.
import crypto from 'node:crypto';
import type { EventData, EventType, MaskCounts, VigilEvent } from '../../common/events/index.ts';
import { SessionEventEncoder } from '../../common/events/index.ts';
import { eventHash } from '../../common/events/chain.ts';
import type { BusEvent } from '../../common/bus/event-bus.ts';
import type { ThrottleSource } from '../read-valve.ts';

export interface SessionIdentity {
  sessionId: string;
  user: string;
  target: string;
  protocol: VigilEvent['protocol'];
  connection: { client: string; agent: string };
}

/** Where encoded events go (the agent's EventPublisher). */
export interface EventOutlet {
  /** False when the event could not be taken (spool full). A `final` event (session.end) is always taken. */
  publish(event: BusEvent, final?: boolean): boolean;
  /** Whether it would take an event now (a refused gap declaration is not tried while it would not). */
  hasRoom?(): boolean;
}

/**
 * The outlet with a say on admission (`recording: required` sessions start only when it has room)
 * and on pace (sessions stop reading from their targets while it throttles).
 */
export interface RecordingOutlet extends EventOutlet, ThrottleSource {
  hasRoom(): boolean;
  /** Makes what was published durable as configured, before the client sees its effect. */
  commit(): void;
}

// Events come in bursts within the same millisecond: its ISO text is made once.
let clockMs = -1;
let clockText = '';
function isoNow(): string {
  const now = Date.now();
  if (now !== clockMs) {
    clockMs = now;
    clockText = new Date(now).toISOString();
  }
  return clockText;
}

export class SessionEventSink {
  private seq = 0;
  /** The hash of the last event emitted (chain.ts), published or not. */
  private lastHash: string | undefined;
  private droppedCount = 0;
  /** The first seq of a run of events the spool refused and the recording has not declared yet (0: none). */
  private gapFrom = 0;
  private ended = false;
  private finishing = false;
  private readonly encoder: SessionEventEncoder;

  constructor(
    readonly identity: SessionIdentity,
    private readonly outlet: EventOutlet,
  ) {
    this.encoder = new SessionEventEncoder(identity);
  }

  /**
   * The session is ending: what it records from here to its end (the terminal's last output, the
   * exit status, why it ended) is taken even by a full spool, so it ends recorded, not with a
   * hole. Bounded: one closing burst per session.
   */
  finish(): void {
    this.finishing = true;
  }

  /** session.end, with the session's duration and byte counts. */
  end(reason: EventData<'session.end'>['reason'], message: string | undefined, startedAt: number, bytes: { down: number; up: number }): void {
    if (this.ended) return;
    this.emit('session.end', {
      reason,
      ...(message ? { message } : {}),
      durationMs: Date.now() - startedAt,
      bytesDown: bytes.down,
      bytesUp: bytes.up,
    });
  }

  /**
   * Emits one event and returns its sequence number. session.end is the last: what a socket still
   * delivers after it (the target's answer to a cancel, say) is not part of the recording.
   */
  emit<T extends EventType>(type: T, data: EventData<T>, masked?: MaskCounts | null): number {
    if (this.ended) return this.seq;
    if (type === 'session.end') this.ended = true;
    const final = this.finishing || type === 'session.end';
    // Events the spool refused are said in the recording itself, as soon as it takes one again.
    if (this.gapFrom && (final || this.outlet.hasRoom?.() !== false)) this.put('recording.gap', { fromSeq: this.gapFrom, toSeq: this.seq, reason: 'spool_full' }, null, final);
    return this.put(type, data, masked, final);
  }

  private put<T extends EventType>(type: T, data: EventData<T>, masked: MaskCounts | null | undefined, final: boolean): number {
    const seq = ++this.seq;
    const body = this.encoder.encode({ type, id: crypto.randomUUID(), seq, time: isoNow(), data, masked, prev: this.lastHash });
    this.lastHash = eventHash(body);
    if (this.outlet.publish({ sessionId: this.identity.sessionId, seq, body, hash: this.lastHash }, final)) {
      if (type === 'recording.gap') this.gapFrom = 0;
    } else {
      this.droppedCount++;
      this.gapFrom ||= seq;
    }
    return seq;
  }

  get lastSeq(): number {
    return this.seq;
  }

  /** Events that the spool refused (best-effort targets only keep serving with a gap). */
  get dropped(): number {
    return this.droppedCount;
  }
}
