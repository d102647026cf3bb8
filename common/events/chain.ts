// The per-session hash chain: every event after a session's first carries `prev`, the SHA-256 of
// the previous event's canonical bytes (its body exactly as stored, UTF-8). Whoever emits the
// events (the agent, or a hub ending a session its agent lost) chains them as it encodes them, so
// a change, removal or reordering anywhere after the source shows as a broken link. Not exported
// from index.ts: the dashboard reads the event contract's types, and this needs node:crypto.
import crypto from 'node:crypto';

/** SHA-256 (hex) of an event's canonical bytes: the next event's `prev`. */
export function eventHash(body: string): string {
  return crypto.createHash('sha256').update(body, 'utf8').digest('hex');
}

export const HASH_PATTERN = /^[0-9a-f]{64}$/;
