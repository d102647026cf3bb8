// What the watch view's pinned header says about a session: who, where, from where, since when,
// and its state (live, ended and why, reconnecting), from the stored summary (GET
// /api/sessions/:id) where there is one, else from its session.start (a session that just started
// may not be stored yet); and whether the session is there at all. DOM-free.
import type { SessionSummary } from '../../../../common/api-contract.ts';
import type { EventData, EventOf } from '../../../../common/events/schema.ts';
import { endReasonWords } from '../../../../common/end-reasons.ts';

export interface SessionFacts {
  user: string;
  target: string;
  protocol: string;
  client: string;
  database: string | null;
  startedAt: string | null;
}

/** The facts from the summary, else from the session.start; null before either came. */
export function factsOf(summary: SessionSummary | null, start: EventOf<'session.start'> | null): SessionFacts | null {
  if (summary) {
    return {
      user: summary.user, target: summary.target, protocol: summary.protocol, client: summary.client,
      database: start?.data.database ?? null, startedAt: summary.startedAt ?? start?.time ?? null,
    };
  }
  if (!start) return null;
  return { user: start.user, target: start.target, protocol: start.protocol, client: start.connection.client, database: start.data.database ?? null, startedAt: start.time };
}

/** What the summary request found: still asking, the summary, nothing (404), or it failed. */
export type SummaryState = { state: 'loading' } | { state: 'found'; summary: SessionSummary } | { state: 'missing' } | { state: 'failed'; message: string };

/**
 * Whether the view says "Session not found": only when both the store (404) and the live hub (its
 * not-found `watch` answer) say so. Either alone is not enough: the summary of a session that has
 * just started may not be stored yet, and a live watch is refused for a recording one may read
 * only through a share. Until both have answered, it is not yet known (`pending`).
 */
export function presence(summary: SummaryState, watchRefused: boolean | null): 'found' | 'not-found' | 'pending' {
  if (summary.state === 'missing' && watchRefused === true) return 'not-found';
  if (summary.state === 'loading' && watchRefused === true) return 'pending';
  return 'found';
}

export interface Status {
  /** What the badge reads. */
  label: string;
  /** live (green), ended, stale (grey: the page's live connection is down). */
  tone: 'live' | 'ended' | 'stale';
  /** Why it ended, in words (`killed`, `client quit`), and the end's message (who killed or revoked). */
  reason?: string;
  message?: string;
}

export function statusOf(s: {
  ended: boolean;
  end: EventData<'session.end'> | null;
  /** The summary's endReason, for an end whose event has not come (yet). */
  endReason: string | null;
  connected: boolean;
  /** The page was connected before: it is coming back, not coming. */
  wasConnected: boolean;
}): Status {
  if (s.ended || s.end) {
    const reason = endReasonWords(s.end?.reason ?? s.endReason);
    return { label: 'ended', tone: 'ended', reason, ...(s.end?.message ? { message: s.end.message } : {}) };
  }
  if (!s.connected) return { label: s.wasConnected ? 'reconnecting…' : 'connecting…', tone: 'stale' };
  return { label: 'live', tone: 'live' };
}
