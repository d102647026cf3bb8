// What a session id looks like wherever a client names one (a watch, an API path): agents assign
// UUIDs, so anything with control characters, spaces or odd punctuation is refused as malformed
// before it reaches the store, a Redis channel name or a log line.
import { z } from 'zod';
import { SESSION_ID_PATTERN } from './link-patterns.ts';

export { SESSION_ID_PATTERN };

export const SessionId = z.string().regex(SESSION_ID_PATTERN, 'not a session id: 1 to 64 letters, digits and . _ : -');
export type SessionId = z.infer<typeof SessionId>;
