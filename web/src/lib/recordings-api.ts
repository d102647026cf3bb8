// What the dashboard asks the hub about recordings besides playing them: search across them
// (GET /api/search) and inside one (GET /api/sessions/:id/search), the notes pinned to their
// moments, their shares, whether each is as it was sealed, and who opened it. Through lib/api.ts
// (the login cookie, the CSRF token).
//
// The search answers are typed here because common/api-contract.ts does not hold them yet (the
// hub's own types are server/recordings/search/search-index.ts: SearchResults, SearchHit,
// SessionSearchResults); they belong there, next to the other responses.
import { del, get, post } from './api.ts';
import type { AnnotationView, SearchResults, SessionSearchResults, SharedWithMeResponse, ShareView, VerifyReport, ViewEntry, ViewsResponse } from '../../../common/api-contract.ts';

export type { SearchHit, SearchKind, SearchResults, SessionMatches, SessionSearchResults, Snippet } from '../../../common/api-contract.ts';

/** The body of POST /api/sessions/:id/shares. */
export interface NewShare {
  users?: string[];
  group?: string;
  expiresInHours?: number;
  note?: string;
}

const sessionPath = (sessionId: string) => `/api/sessions/${encodeURIComponent(sessionId)}`;

/** `params`: the query string's parameters (lib/search/search-route.ts builds them). */
export const searchRecordings = (params: URLSearchParams) => get<SearchResults>(`/api/search?${params}`);

export const searchSession = (sessionId: string, text: string, fromSeq?: number) =>
  get<SessionSearchResults>(`${sessionPath(sessionId)}/search?${new URLSearchParams({ q: text, ...(fromSeq ? { from: String(fromSeq) } : {}) })}`);

export const listAnnotations = async (sessionId: string) =>
  (await get<{ annotations: AnnotationView[] }>(`${sessionPath(sessionId)}/annotations`)).annotations;

export const annotate = async (sessionId: string, seq: number, text: string) =>
  (await post<{ annotation: AnnotationView }>(`${sessionPath(sessionId)}/annotations`, { seq, text })).annotation;

export const listShares = async (sessionId: string) => (await get<{ shares: ShareView[] }>(`${sessionPath(sessionId)}/shares`)).shares;

export const createShare = async (sessionId: string, share: NewShare) =>
  (await post<{ share: ShareView }>(`${sessionPath(sessionId)}/shares`, share)).share;

export const revokeShare = async (shareId: number) => {
  await del(`/api/shares/${shareId}`);
};

/** Whether the recording is as the hub sealed it (GET /api/sessions/:id/verify; the hub audits each check). */
export const verify = (sessionId: string) => get<VerifyReport>(`${sessionPath(sessionId)}/verify`);

/** Who opened the recording, how and through what, newest first (GET /api/sessions/:id/views; the hub's own audit log). */
export const views = async (sessionId: string): Promise<ViewEntry[]> => (await get<ViewsResponse>(`${sessionPath(sessionId)}/views`)).views;

export const sharedWithMe = async () => (await get<SharedWithMeResponse>('/api/shares')).shares;

/** The time of the first event at or after seq (null: none stored there). */
export const eventTimeAt = async (sessionId: string, seq: number): Promise<string | null> =>
  (await get<{ events: Array<{ seq: number; time: string }> }>(`${sessionPath(sessionId)}/events?from=${Math.max(1, Math.floor(seq))}&limit=1`)).events[0]?.time ?? null;
