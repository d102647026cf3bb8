// The live sessions of one listener (any protocol): what the control path, the lease and the
// spool's capacity reach, and what the agent's shutdown ends.
import type { SessionEndReason } from '../../common/events/index.ts';
import type { SessionLifecycle } from './session-lifecycle.ts';

export class LiveSessions implements Iterable<SessionLifecycle> {
  private readonly live = new Set<SessionLifecycle>();

  add(session: SessionLifecycle): void {
    this.live.add(session);
  }

  delete(session: SessionLifecycle): void {
    this.live.delete(session);
  }

  get size(): number {
    return this.live.size;
  }

  [Symbol.iterator](): Iterator<SessionLifecycle> {
    return this.live[Symbol.iterator]();
  }

  /** The spool is full: sessions that require recording end (fail closed); best-effort ones go on. */
  endRecordingRequired(message: string): void {
    for (const s of [...this.live]) if (s.recordingRequired && s.isRelaying) s.fail('recording_unavailable', message);
  }

  endAll(reason: SessionEndReason, message: string): void {
    for (const s of [...this.live]) s.fail(reason, message);
  }
}
