// A NotificationResponse names the backend that sent the NOTIFY by its process id. The client was
// given the agent's own process id (BackendKeyData: the upstream's is a secret of the agent), so
// a notification from the client's own backend, or from another session through this agent, must
// carry the id that client was given: the agent rewrites it on the way to the client.
// It works on the raw server stream before anything else sees it: a walk over message headers
// that never joins messages. The id is rewritten in place (the 4 bytes after the header); a
// message start split across reads is held back until its header and id are complete (at most
// 8 bytes, of a message the client could not have used yet anyway).
import { BackendCode } from './protocol/backend-codes.ts';

/** Code, length and the process id. */
const NOTIFICATION_HEAD = 9;
const HEADER = 5;
const NOTHING = Buffer.alloc(0);

export class NotificationPids {
  /** Bytes of the current message still to pass. */
  private rest = 0;
  /** The start of a message whose head has not all arrived (not yet passed on). */
  private held = NOTHING;

  /** pidFor: the id a client was given for an upstream backend's id (undefined: leave it). */
  constructor(private readonly pidFor: (upstreamPid: number) => number | undefined) {}

  /** What to pass on for this chunk of the server stream (the chunk itself, maybe rewritten). */
  rewrite(chunk: Buffer): Buffer {
    const data = this.held.length > 0 ? Buffer.concat([this.held, chunk]) : chunk;
    this.held = NOTHING;
    let at = 0;
    while (at < data.length) {
      if (this.rest > 0) {
        const n = Math.min(this.rest, data.length - at);
        this.rest -= n;
        at += n;
        continue;
      }
      const code = data[at];
      const need = code === BackendCode.NotificationResponse ? NOTIFICATION_HEAD : HEADER;
      if (data.length - at < need) {
        this.held = Buffer.from(data.subarray(at));
        return data.subarray(0, at);
      }
      const length = data.readUInt32BE(at + 1);
      if (code === BackendCode.NotificationResponse && length >= 8) {
        const pid = data.readInt32BE(at + HEADER);
        const given = this.pidFor(pid);
        if (given !== undefined && given !== pid) data.writeInt32BE(given, at + HEADER);
      }
      // A length below 4 is the framer's to refuse; here it only must not stall the walk.
      this.rest = Math.max(length + 1, HEADER);
    }
    return data;
  }
}
