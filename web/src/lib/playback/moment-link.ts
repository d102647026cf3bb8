// Links to a moment of a recording. The dashboard's route is `#/play/<id>?t=SECONDS&seq=N`; the
// link people share is `<origin>/sessions/<id>?t=…&seq=…`, which the hub redirects to that route
// (server/http/dashboard.ts). t is seconds since the session's start (up to 3 decimals), seq an
// event's seq; both optional. DOM-free.
import { MOMENT_SECONDS as SECONDS, MOMENT_SEQ as SEQ, SESSION_ID_PATTERN as SESSION_ID } from '../../../../common/link-patterns.ts';

export interface PlayRoute {
  sessionId: string;
  /** Milliseconds since the session's start. */
  ms: number | null;
  seq: number | null;
}

/** Seconds as the hub reads them in ?t= (a whole number, up to 3 decimals, never an exponent). */
export function secondsParam(ms: number): string {
  return String(Math.round(Math.max(0, ms)) / 1000);
}


/** The player's route from a location hash (`#/play/ID?t=12.5`), or null when it is not one. */
export function parsePlayHash(hash: string): PlayRoute | null {
  const m = /^#\/?play\/([^?]*)(?:\?(.*))?$/.exec(hash);
  if (!m) return null;
  let sessionId: string;
  try {
    sessionId = decodeURIComponent(m[1]);
  } catch {
    return null;
  }
  if (!SESSION_ID.test(sessionId)) return null;
  const q = new URLSearchParams(m[2] ?? '');
  const t = q.get('t');
  const seq = q.get('seq');
  return {
    sessionId,
    ms: t !== null && SECONDS.test(t) ? Math.round(Number(t) * 1000) : null,
    seq: seq !== null && SEQ.test(seq) && Number(seq) > 0 ? Number(seq) : null,
  };
}

/** The dashboard's hash for a moment. */
export function playHash(sessionId: string, at: { ms?: number | null; seq?: number | null } = {}): string {
  return `#/play/${encodeURIComponent(sessionId)}${query(at)}`;
}

/** The link to share: opening it lands in the player at this moment. */
export function momentLink(origin: string, sessionId: string, at: { ms: number; seq?: number | null }): string {
  return `${origin}/sessions/${encodeURIComponent(sessionId)}${query(at)}`;
}

function query(at: { ms?: number | null; seq?: number | null }): string {
  const q: string[] = [];
  if (at.ms !== undefined && at.ms !== null) q.push(`t=${secondsParam(at.ms)}`);
  if (at.seq !== undefined && at.seq !== null) q.push(`seq=${at.seq}`);
  return q.length ? `?${q.join('&')}` : '';
}

/** A playhead time as people read it: 1:02.5, or 1:02:03 past an hour. */
export function clockTime(ms: number): string {
  const tenths = Math.floor(Math.max(0, ms) / 100);
  const h = Math.floor(tenths / 36_000);
  const m = Math.floor((tenths % 36_000) / 600);
  const s = (tenths % 600) / 10;
  if (h > 0) return `${h}:${String(m).padStart(2, '0')}:${String(Math.floor(s)).padStart(2, '0')}`;
  return `${m}:${s.toFixed(1).padStart(4, '0')}`;
}
