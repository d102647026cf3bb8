// One Socket.IO connection per page, authenticated by the login cookie. A watch keeps the first
// seq it has not received and, after a reconnect, watches again from there: nothing is missed and
// nothing comes twice. That covers the hub dropping this connection for falling behind
// (`dropped`, slow_consumer): it connects again and every watch resumes where it stopped.
import { io, type Socket } from 'socket.io-client';
import type { ClientToServer, LiveSessionView, ScreenSnapshot, ServerToClient, Viewer } from '../../../common/live/contract.ts';
import type { VigilEvent } from '../../../common/events/schema.ts';
import type { AccessRequestView, AnnotationView } from '../../../common/api-contract.ts';
import { hubLink } from './hub-link.svelte.ts';

type LiveSocket = Socket<ServerToClient, ClientToServer>;
let socket: LiveSocket | null = null;

/** Back after a drop only after this pause: a viewer that keeps falling behind does not spin. */
const RECONNECT_AFTER_DROP_MS = 1000;

/** Told when the hub ends this page's connection because its login has ended (logout anywhere, expiry, the provider). */
const loginEndedListeners = new Set<(message: string) => void>();
export function onLoginEnded(listener: (message: string) => void): () => void {
  loginEndedListeners.add(listener);
  return () => loginEndedListeners.delete(listener);
}

/** Opens the page's connection now (the app shell does, so every page knows whether the hub is there). */
export function connectLive(): void {
  connection();
}

function connection(): LiveSocket {
  if (socket) return socket;
  const s: LiveSocket = io({ transports: ['websocket'], withCredentials: true });
  // Socket.IO does not reconnect by itself after the server disconnects (a drop for falling
  // behind, a hub shutting down): this does, after a pause; not after the login has ended, which
  // only a new login mends.
  let loginEnded = false;
  s.on('dropped', (p) => {
    if (p.reason === 'slow_consumer') return;
    loginEnded = true;
    for (const listener of loginEndedListeners) listener(p.message);
  });
  s.on('connect', () => hubLink.connected());
  s.on('disconnect', (reason) => {
    hubLink.disconnected();
    if (reason !== 'io server disconnect' || loginEnded) return;
    setTimeout(() => s.connect(), RECONNECT_AFTER_DROP_MS);
  });
  socket = s;
  return s;
}

export interface WatchHandlers {
  /** A terminal session's screen as it is when the watch starts (before the events after it). */
  screen(snapshot: ScreenSnapshot): void;
  events(events: VigilEvent[]): void;
  presence(viewers: Viewer[]): void;
  gap(from: number, to: number): void;
  /** The hub has no such session, or not for this person (the same answer: existence does not leak). */
  notFound(): void;
  error(message: string): void;
}

export function watchSession(sessionId: string, handlers: WatchHandlers): () => void {
  const s = connection();
  let next = 1;
  const onEvents = (p: { sessionId: string; events: VigilEvent[] }) => {
    if (p.sessionId !== sessionId) return;
    const fresh = p.events.filter((e) => e.seq >= next);
    if (!fresh.length) return;
    next = fresh[fresh.length - 1].seq + 1;
    handlers.events(fresh);
  };
  const onScreen = (p: ScreenSnapshot) => {
    if (p.sessionId === sessionId) handlers.screen(p);
  };
  const onPresence = (p: { sessionId: string; viewers: Viewer[] }) => {
    if (p.sessionId === sessionId) handlers.presence(p.viewers);
  };
  const onGap = (p: { sessionId: string; from: number; to: number }) => {
    if (p.sessionId !== sessionId) return;
    next = Math.max(next, p.to + 1);
    handlers.gap(p.from, p.to);
  };
  const watch = () => {
    // The screen only on the first watch: after a reconnect the events resume where they stopped.
    s.emit('watch', { sessionId, fromSeq: next, screen: next === 1 }, (ack) => {
      if (ack.ok) return;
      if (ack.error.code === 'not_found') handlers.notFound();
      else handlers.error(ack.error.message);
    });
  };
  const onConnectError = (err: Error) => handlers.error(`live connection failed: ${err.message}`);
  // The login's roles changed: this session may no longer be watched.
  const onUnwatched = (p: { sessionId: string; message: string }) => {
    if (p.sessionId === sessionId) handlers.error(p.message);
  };
  // The same list on and off, so nothing stays registered after the view goes.
  const listeners: Array<[string, (...args: never[]) => void]> = [
    ['screen', onScreen], ['events', onEvents], ['presence', onPresence], ['gap', onGap], ['unwatched', onUnwatched],
    ['connect', watch], ['connect_error', onConnectError],
  ];
  const loose = s as unknown as { on(name: string, fn: unknown): void; off(name: string, fn: unknown): void };
  for (const [name, fn] of listeners) loose.on(name, fn);
  if (s.connected) watch();
  return () => {
    for (const [name, fn] of listeners) loose.off(name, fn);
    if (s.connected) s.emit('unwatch', { sessionId }, () => undefined);
  };
}

/**
 * A subscription the hub keeps per socket (`<topic>:subscribe` / `:unsubscribe`), made again after
 * every reconnect (the hub then sends the whole state again), with the events it pushes.
 */
function follow(topic: 'live' | 'access' | 'audit', events: Array<[keyof ServerToClient, (payload: never) => void]>, error: (message: string) => void): () => void {
  const s = connection();
  const loose = s as unknown as { on(name: string, fn: unknown): void; off(name: string, fn: unknown): void; emit(name: string, ack: (a: { ok: boolean; error?: { message: string } }) => void): void };
  const subscribe = () => {
    loose.emit(`${topic}:subscribe`, (ack) => {
      if (!ack.ok) error(ack.error?.message ?? 'refused');
    });
  };
  const onConnectError = (err: Error) => error(`live connection failed: ${err.message}`);
  const listeners: Array<[string, unknown]> = [...events, ['connect', subscribe], ['connect_error', onConnectError]];
  for (const [name, fn] of listeners) loose.on(name, fn);
  if (s.connected) subscribe();
  return () => {
    for (const [name, fn] of listeners) loose.off(name, fn);
    if (s.connected) loose.emit(`${topic}:unsubscribe`, () => undefined);
  };
}

/** The sessions running now, pushed by the hub when they change (again after a reconnect). */
export function followLiveSessions(handlers: { sessions(list: LiveSessionView[]): void; error(message: string): void }): () => void {
  return follow('live', [['live', (p: { sessions: LiveSessionView[] }) => handlers.sessions(p.sessions)]], handlers.error);
}

/** Access requests this person may see: the whole list, then each change as it happens (on any hub). */
export function followAccessRequests(handlers: { list(requests: AccessRequestView[]): void; changed(request: AccessRequestView): void; error(message: string): void }): () => void {
  return follow('access', [
    ['access:requests', (p: { requests: AccessRequestView[] }) => handlers.list(p.requests)],
    ['access:request', (p: { request: AccessRequestView }) => handlers.changed(p.request)],
  ], handlers.error);
}

export interface AnnotationHandlers {
  /** A note pinned to the recording, by anyone, on any hub (this viewer's own too). */
  note(annotation: AnnotationView): void;
  /** The hub follows the recording for this page (again after a reconnect: notes made meanwhile were not pushed). */
  followed(again: boolean): void;
  /** The connection dropped: nothing is pushed until it is followed again. */
  lost(): void;
  error(message: string): void;
}

/** The notes pinned to a recording as they are made, while the view is open. */
export function followAnnotations(sessionId: string, handlers: AnnotationHandlers): () => void {
  const s = connection();
  let times = 0;
  const onNote = (a: AnnotationView) => {
    if (a.sessionId === sessionId) handlers.note(a);
  };
  const followNow = () => {
    s.emit('annotations:follow', { sessionId }, (ack) => {
      if (!ack.ok) return handlers.error(ack.error.message);
      handlers.followed(times++ > 0);
    });
  };
  const onConnectError = (err: Error) => handlers.error(`live connection failed: ${err.message}`);
  const onDisconnect = () => handlers.lost();
  s.on('annotation', onNote);
  s.on('connect', followNow);
  s.on('disconnect', onDisconnect);
  s.on('connect_error', onConnectError);
  if (s.connected) followNow();
  return () => {
    s.off('annotation', onNote);
    s.off('connect', followNow);
    s.off('disconnect', onDisconnect);
    s.off('connect_error', onConnectError);
    if (s.connected) s.emit('annotations:unfollow', { sessionId }, () => undefined);
  };
}

type AuditEntry = import('../../../common/api-contract.ts').AuditEntry;

/**
 * The audit log as it grows (reviewers and admins; the hub refuses others): after each
 * (re)subscription, the id after which every entry will be pushed (`following`: what came before
 * it is read from GET /api/audit), then each new entry, written by any hub, oldest first.
 */
export function followAudit(handlers: { following(after: number): void; entries(entries: AuditEntry[]): void; error(message: string): void }): () => void {
  return follow('audit', [
    ['audit:following', (p: { after: number }) => handlers.following(p.after)],
    ['audit:entries', (p: { entries: AuditEntry[] }) => handlers.entries(p.entries)],
  ], handlers.error);
}
