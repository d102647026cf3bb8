// Where a player reads a recording: the hub's REST API (lib/api.ts), or a fake in tests.
//   /api/sessions/:id/timeline   once, first (the hub counts it as opening the recording)
//   /api/sessions/:id            the summary again, while the session is live
//   /api/sessions/:id/seek       ?seq=N or ?t=SECONDS: a keyframe and the events up to the moment
//   /api/sessions/:id/events     ?from=SEQ&limit=N: the pages read ahead of the playhead
import { get } from '../api.ts';
import { secondsParam } from './moment-link.ts';
import type { SeekResponse, SessionEventsResponse, SessionSummary, SessionTimelineResponse } from '../../../../common/api-contract.ts';

/** A moment: an event's seq, or milliseconds since the session's start. */
export type Moment = { seq: number } | { ms: number };

export interface PlayerSource {
  timeline(): Promise<SessionTimelineResponse>;
  session(): Promise<SessionSummary>;
  seek(at: Moment): Promise<SeekResponse>;
  events(from: number, limit: number): Promise<SessionEventsResponse>;
}

/** The most events one read may ask for (the hub's limit). */
export const READ_MAX = 10_000;

export function httpSource(sessionId: string): PlayerSource {
  const base = `/api/sessions/${encodeURIComponent(sessionId)}`;
  return {
    timeline: () => get<SessionTimelineResponse>(`${base}/timeline`),
    session: async () => (await get<{ session: SessionSummary }>(base)).session,
    seek: (at) => get<SeekResponse>(`${base}/seek?${'seq' in at ? `seq=${Math.max(1, Math.floor(at.seq))}` : `t=${secondsParam(at.ms)}`}`),
    events: (from, limit) => get<SessionEventsResponse>(`${base}/events?from=${from}&limit=${Math.min(READ_MAX, Math.max(1, limit))}`),
  };
}
