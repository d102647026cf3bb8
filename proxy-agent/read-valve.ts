// Who may stop reading a stream, and for what. Several parts of the agent pause the same socket or
// channel for reasons of their own (the other side's write buffer is full, a statement is held for
// an approver, the recording spool is filling): a bare pause()/resume() pair lets one part resume
// what another still needs paused. A valve pauses while any reason holds and resumes only when the
// last one is released.
import type { Readable, Writable } from 'node:stream';

export type HoldReason = 'drain' | 'held' | 'spool';

/** The spool's say (the agent's EventPublisher): slow down while the recording cannot keep up. */
export interface ThrottleSource {
  throttled(): boolean;
  onThrottle(listener: (on: boolean) => void): () => void;
}

export class ReadValve {
  private readonly reasons = new Set<HoldReason>();

  constructor(private readonly stream: Readable) {}

  hold(reason: HoldReason): void {
    this.reasons.add(reason);
    this.stream.pause();
  }

  release(reason: HoldReason): void {
    if (!this.reasons.delete(reason) || this.reasons.size > 0) return;
    if (!this.stream.destroyed) this.stream.resume();
  }

  holds(reason: HoldReason): boolean {
    return this.reasons.has(reason);
  }

  /** Holds until `to` drains when its buffer is full (call after each write to it). */
  waitDrain(to: Writable): void {
    if (!to.writableNeedDrain || this.reasons.has('drain')) return;
    this.hold('drain');
    to.once('drain', () => this.release('drain'));
  }

  /**
   * Writes a chunk and holds until `to` drains if that filled its buffer (told by write()'s answer:
   * not every writable has writableNeedDrain, an HTTP/2 response has not).
   */
  forward(to: Pick<Writable, 'write' | 'once'>, chunk: Buffer): void {
    if (to.write(chunk) || this.reasons.has('drain')) return;
    this.hold('drain');
    to.once('drain', () => this.release('drain'));
  }
}

/** Holds the valves for `spool` while the source throttles; returns the unsubscribe. */
export function followThrottle(source: ThrottleSource, valves: readonly ReadValve[]): () => void {
  const apply = (on: boolean) => {
    for (const v of valves) on ? v.hold('spool') : v.release('spool');
  };
  if (source.throttled()) apply(true);
  const off = source.onThrottle(apply);
  return () => {
    off();
    apply(false);
  };
}
