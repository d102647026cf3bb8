// How links and API paths spell what they name, in one place for the hub and the dashboard (no
// dependencies, so the dashboard's bundle takes only these lines):
//   - a session id: agents assign UUIDs; anything with control characters, spaces or odd
//     punctuation is malformed (common/session-id.ts builds its schema on this);
//   - a moment of a recording: ?t= seconds since the session's start (a whole number, up to 3
//     decimals, never an exponent) and ?seq= an event's seq.

export const SESSION_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;
export const MOMENT_SECONDS = /^\d{1,9}(\.\d{1,3})?$/;
export const MOMENT_SEQ = /^\d{1,15}$/;
