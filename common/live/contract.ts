// The Socket.IO contract between the hub and the dashboard: event names, payloads and acks, typed
// once here for both sides. The server validates every client payload with these schemas; what it
// sends are contract events (common/events), which the dashboard renders as text only.
import { z } from 'zod';
import type { VigilEvent } from '../events/index.ts';
import type { AccessRequestView, AnnotationView, AuditEntry } from '../api-contract.ts';
import { SessionId } from '../session-id.ts';

export const WatchRequest = z.strictObject({
  sessionId: SessionId,
  /** Resume after a reconnect: the first seq not yet received (default 1: the whole backlog). */
  fromSeq: z.number().int().positive().max(Number.MAX_SAFE_INTEGER).optional(),
  /** Terminal sessions: first send the current screen (`screen`), so a late joiner sees it at once. */
  screen: z.boolean().optional(),
});
export type WatchRequest = z.infer<typeof WatchRequest>;

export const UnwatchRequest = z.strictObject({ sessionId: SessionId });
export type UnwatchRequest = z.infer<typeof UnwatchRequest>;

/**
 * `annotations:follow` / `annotations:unfollow`: the notes pinned to a recording as they are made
 * (`annotation` events, AnnotationView), for its viewers, live or replaying.
 */
export const FollowAnnotations = z.strictObject({ sessionId: SessionId });
export type FollowAnnotations = z.infer<typeof FollowAnnotations>;

/**
 * Why a request was refused: `bad_request` (malformed payload or id), `not_found` (no such session
 * in the store, or not one this person may see), `too_many_watches` (the connection watches as
 * many sessions as the hub allows), `cancelled` (an unwatch, a newer watch of the same session or
 * the disconnect came first), `unavailable` (the store or Redis failed: try again),
 * `unauthorized` (the login has ended), `forbidden` (the login's roles do not allow it: the audit
 * log is for reviewers and admins).
 */
export type AckErrorCode = 'bad_request' | 'not_found' | 'too_many_watches' | 'cancelled' | 'unavailable' | 'unauthorized' | 'forbidden';

export type Ack = { ok: true } | { ok: false; error: { code: AckErrorCode; message: string } };

/**
 * The `watch` acknowledgement for a session that is neither live nor stored, or that this person
 * may not see: one answer for both, so whether a session exists does not leak. The dashboard tells
 * it by its code.
 */
export const WATCH_NOT_FOUND = { ok: false, error: { code: 'not_found', message: 'session not found' } } as const satisfies Ack;

/**
 * Why the hub ends a viewer's connection itself (`dropped`, just before it disconnects).
 * slow_consumer: it fell behind and may connect again. logged_out, login_ended: the login behind
 * the connection is gone (logged out on any hub, expired, or ended at the identity provider); log in again.
 */
export type DropReason = 'slow_consumer' | 'logged_out' | 'login_ended';

export interface Viewer {
  user: string;
  name?: string;
}

/** A session running now, as the Live page shows it. */
export interface LiveSessionView {
  id: string;
  user: string;
  target: string;
  protocol: string;
  startedAt: string | null;
  queryCount: number;
  errorCount: number;
  viewers: Viewer[];
}

/** What a terminal shows after event `seq`: escape sequences that redraw it at cols x rows. */
export interface ScreenSnapshot {
  sessionId: string;
  seq: number;
  channel: number;
  cols: number;
  rows: number;
  data: string;
}

export interface ServerToClient {
  /** The current screen of a terminal session (after `watch` with `screen`), before its events. */
  screen(payload: ScreenSnapshot): void;
  /** The sessions running now that this viewer may see (after `live:subscribe`, then on change). */
  live(payload: { sessions: LiveSessionView[] }): void;
  /** A session's events, in seq order, each exactly once per watch (gapless unless `gap` says). */
  events(payload: { sessionId: string; events: VigilEvent[] }): void;
  /** Events from..to were lost for good (a best-effort session whose spool overflowed). */
  gap(payload: { sessionId: string; from: number; to: number }): void;
  /** Everyone watching the session now, on any hub. */
  presence(payload: { sessionId: string; viewers: Viewer[] }): void;
  /**
   * The hub is about to disconnect this viewer. `slow_consumer`: more was waiting for it than the
   * hub holds for one viewer (it stopped reading, or reads slower than its sessions run); what was
   * waiting is discarded, and it may connect again and resume each watch from the first seq it lacks.
   */
  dropped(payload: { reason: DropReason; message: string }): void;
  /** This connection may no longer see a session it watched (its login's roles changed): the watch has ended. */
  unwatched(payload: { sessionId: string; message: string }): void;
  /** The access requests this person may see, newest first (after `access:subscribe`). */
  'access:requests'(payload: { requests: AccessRequestView[] }): void;
  /** One of them, new or changed (a request, a decision, a grant, its end), on any hub. */
  'access:request'(payload: { request: AccessRequestView }): void;
  /** A note pinned to a recording this connection follows (after `annotations:follow`), from any hub. */
  annotation(payload: AnnotationView): void;
  /**
   * After each `audit:subscribe`: every audit entry with an id above `after` will be pushed (read
   * what came before from GET /api/audit; after a reconnect, what was written meanwhile).
   */
  'audit:following'(payload: { after: number }): void;
  /** New audit entries, written by any hub, oldest first (unfiltered: reviewers and admins read the whole log). */
  'audit:entries'(payload: { entries: AuditEntry[] }): void;
}

export interface ClientToServer {
  'live:subscribe'(ack: (result: Ack) => void): void;
  'live:unsubscribe'(ack: (result: Ack) => void): void;
  'access:subscribe'(ack: (result: Ack) => void): void;
  'access:unsubscribe'(ack: (result: Ack) => void): void;
  /** The audit log as it grows (reviewers and admins; others get `forbidden`). */
  'audit:subscribe'(ack: (result: Ack) => void): void;
  'audit:unsubscribe'(ack: (result: Ack) => void): void;
  watch(request: WatchRequest, ack: (result: Ack) => void): void;
  unwatch(request: UnwatchRequest, ack: (result: Ack) => void): void;
  'annotations:follow'(request: FollowAnnotations, ack: (result: Ack) => void): void;
  'annotations:unfollow'(request: FollowAnnotations, ack: (result: Ack) => void): void;
}
