// Socket.IO on the hub's HTTP server: people logged in to the dashboard watch sessions live.
// A viewer asks to `watch` a session (authorized per session: reviewers and admins any, others
// their own), gets its backlog and then the live tail with no gap and no duplicate (ViewerFeed),
// and resumes after a reconnect from the first seq it lacks. Everyone watching a session sees who
// else is, across hubs: with Redis configured the Socket.IO Redis adapter joins the hubs' rooms.
//
// Every handler validates its payload and answers through the ack; a bad payload or a failing
// store gets an error for that request only, never an exception out of the handler.
//
// Bounded per connection (config hub.live): the sessions it watches (SocketWatches) and the bytes
// the hub holds for it unread (OutboundBacklog); a viewer past that bound is dropped with the
// reason and resumes from the store when it comes back.
import type http from 'node:http';
import { createAdapter } from '@socket.io/redis-adapter';
import type { RequestHandler } from 'express';
import { closeRedis, createRedisConnection, type RedisConnection } from '../../common/redis-connection.ts';
import { Server } from 'socket.io';
import type { EventBus } from '../../common/bus/event-bus.ts';
import { HubLive } from '../../common/config/schema.ts';
import {
  FollowAnnotations, UnwatchRequest, WATCH_NOT_FOUND, WatchRequest, type Ack, type ClientToServer, type LiveSessionView, type ServerToClient, type Viewer,
} from '../../common/live/contract.ts';
import type { Logger } from '../../common/log.ts';
import { isRole } from '../../common/roles.ts';
import type { RecordingStore } from '../recordings/store/recording-store.ts';
import { actorOf, loginRoom, room, type BetweenHubs, type LiveSocket, type SocketData } from './live-socket.ts';
import type { LoginSession } from '../http/auth.ts';
import { LOGGED_OUT, type LoginChecker, type LoginVerdict } from '../http/login-check.ts';
import type { ShareStore } from '../shares/share-store.ts';
import type { AnnotationView } from '../../common/api-contract.ts';
import { OutboundBacklog } from './outbound-backlog.ts';
import { SessionTaps } from './session-taps.ts';
import { SocketWatches } from './socket-watches.ts';
import { TerminalMirrors } from './terminal-mirror.ts';
import type { AccessService } from '../access/access-service.ts';
import type { AccessStore } from '../access/access-store.ts';
import { maySeeSession, type Actor } from '../access/access-policy.ts';
import type { ControlBus } from '../../common/control/control-bus.ts';
import { AUDIT_FOLLOWERS, AuditFeed, deliverAudit, serveAuditSubscription } from './audit-feed.ts';

export interface LiveServerOptions {
  httpServer: http.Server;
  bus: EventBus;
  store: RecordingStore;
  logger: Logger;
  /** The login session middleware (web-login.ts): the socket is authenticated by the same cookie. */
  sessionMiddleware: RequestHandler;
  /** The dashboard's origin; a browser's handshake from any other is refused. */
  origin: string;
  /** With Redis, hubs share rooms and presence (Socket.IO Redis adapter). */
  redisUrl?: string;
  /** The deployment's Redis key prefix: hubs with the same one form one Socket.IO cluster. */
  redisKeyPrefix?: string;
  /** Where live views are put on record (the hub's audit log); also what `audit:subscribe` follows. */
  audit?: AccessStore;
  /** Access requests for the inbox (`access:subscribe`), and the control bus their changes travel on. */
  access?: { service: AccessService; control: ControlBus };
  /** What one connection may cost (config hub.live; default: its defaults). */
  limits?: HubLive;
  /** Shares let more people see a recording (and follow its notes). */
  shares?: ShareStore;
  /** Whether a login is still good (login-check.ts): asked every half recheck interval and before each subscription. */
  logins?: LoginChecker;
}

export interface LiveServer {
  viewers(): number;
  /** Sends a new note to everyone following the recording's notes, on every hub. */
  announceAnnotation(annotation: AnnotationView): void;
  /** Bytes held for viewers that they have not read yet, and viewers dropped for falling behind. */
  outbound(): { bufferedBytes: number; dropped: number };
  /** A login ended by logout on this hub: its connections end here and on every other hub. */
  loggedOut(sessionId: string): void;
  close(): Promise<void>;
}
/** Sockets that follow the list of running sessions. */
const LIVE_LIST = 'live-list';
const LIVE_LIST_EVERY_MS = 1000;
const LIVE_LIST_MAX = 200;
/** Sockets that follow access requests (the inbox, the requester's page). */
const ACCESS_FOLLOWERS = 'access';
const ACCESS_LIST_MAX = 200;
/** How long a dropped viewer has to read what the hub already holds for it (then the reason). */
const DROP_GRACE_MS = 10_000;

export async function startLiveServer(opts: LiveServerOptions): Promise<LiveServer> {
  const log = opts.logger.child({ component: 'live' });
  const limits = opts.limits ?? HubLive.parse({});
  const io = new Server<ClientToServer, ServerToClient, BetweenHubs, SocketData>(opts.httpServer, {
    serveClient: false,
    // Cross-site WebSocket hijacking: a page elsewhere could open a socket with our cookie.
    allowRequest: (req, callback) => {
      const origin = req.headers.origin;
      callback(null, origin === undefined || origin === opts.origin);
    },
  });

  const redisClients: RedisConnection[] = [];
  if (opts.redisUrl) {
    const onError = (err: Error) => log.debug({ err: err.message }, 'socket.io adapter: redis error');
    const pub = createRedisConnection(opts.redisUrl, onError);
    const sub = createRedisConnection(opts.redisUrl, onError);
    redisClients.push(pub, sub);
    await Promise.all([pub.connect(), sub.connect()]);
    io.adapter(createAdapter(pub, sub, { key: `${opts.redisKeyPrefix ?? 'vigil:'}socket.io` }));
  }

  io.engine.use(opts.sessionMiddleware);
  io.use((socket, next) => {
    const request = socket.request as http.IncomingMessage & { sessionID?: string; session?: { login?: LoginSession } };
    const login = request.session?.login;
    if (!login || !request.sessionID) {
      next(new Error('unauthorized: log in first'));
      return;
    }
    socket.data = { sid: request.sessionID, ...personOf(login) };
    next();
  });

  // Only this hub's sockets: every hub has its own tap of the session.
  const taps = new SessionTaps(opts.bus, log, (ids, sessionId, events) => io.local.to(ids).emit('events', { sessionId, events }));
  const mirrors = new TerminalMirrors(opts.store, taps, log);

  /** This hub's sockets in a room (each hub pushes to its own). */
  const localMembers = (name: string): LiveSocket[] =>
    [...(io.of('/').adapter.rooms.get(name) ?? [])].map((id) => io.of('/').sockets.get(id)).filter((s): s is LiveSocket => !!s);

  /** Each person once, in name order. */
  const toViewers = (data: Iterable<SocketData | undefined>): Viewer[] => {
    const byUser = new Map<string, Viewer>();
    for (const d of data) if (d?.user) byUser.set(d.user, { user: d.user, name: d.name });
    return [...byUser.values()].sort((a, b) => a.user.localeCompare(b.user));
  };

  /** Who watches a session, on any hub (with the Redis adapter, fetchSockets asks them all). */
  const viewersOf = async (sessionId: string): Promise<Viewer[]> =>
    toViewers((await io.in(room(sessionId)).fetchSockets()).map((s) => s.data));


  let closing = false;
  const presence = async (sessionId: string) => {
    // Closing: the sockets leaving now would broadcast through a Redis adapter being closed.
    if (closing) return;
    try {
      const viewers = await viewersOf(sessionId);
      if (closing) return;
      io.to(room(sessionId)).emit('presence', { sessionId, viewers });
    } catch (err) {
      log.warn({ err: (err as Error).message, sessionId }, 'presence update failed');
    }
  };

  // The Live page: the running sessions from the store (where every hub's persister writes), with
  // their viewers, pushed to the followers on this hub when it changed. One read per hub per tick,
  // whatever the number of followers.
  /** What each follower was sent last (JSON), so an unchanged list is not sent again. */
  const lastList = new Map<string, string>();
  const liveList = async (): Promise<LiveSessionView[]> => {
    const running = await opts.store.listSessions({ live: true, limit: LIVE_LIST_MAX });
    return Promise.all(running.map(async (s) => ({
      id: s.id, user: s.user, target: s.target, protocol: s.protocol, startedAt: s.startedAt,
      queryCount: s.queryCount, errorCount: s.errorCount, viewers: await viewersOf(s.id),
    })));
  };
  const accessService = opts.access?.service;
  const approves = accessService && ((actor: Actor, target: string) => accessService.approves(actor, target));
  const visibleTo = (data: SocketData, sessions: LiveSessionView[]) => sessions.filter((s) => maySeeSession(actorOf(data), s, approves));
  const mayFollow = async (actor: Actor, sessionId: string) => {
    const session = await opts.store.getSession(sessionId);
    if (!session) return false;
    if (maySeeSession(actor, session, approves)) return true;
    return !!opts.shares && (await opts.shares.access(sessionId, { subject: actor.subject, groups: actor.groups })).inForce !== null;
  };
  // A note goes to each follower this hub holds who may still read the recording: a share revoked
  // or lapsed since they followed ends what they get (they leave the room). Every hub checks its own.
  const deliverAnnotation = async (annotation: AnnotationView) => {
    const room = annotationsRoom(annotation.sessionId);
    for (const socket of localMembers(room)) {
      const allowed = await mayFollow(actorOf(socket.data), annotation.sessionId).catch((err: Error) => {
        log.warn({ err: err.message }, 'annotation delivery: access check failed');
        return false;
      });
      if (allowed) socket.emit('annotation', annotation);
      else void socket.leave(room);
    }
  };
  io.on('annotation', (annotation) => void deliverAnnotation(annotation));
  const sendList = async (only?: LiveSocket) => {
    const followers = only ? [only] : localMembers(LIVE_LIST);
    if (followers.length === 0) return;
    const sessions = await liveList();
    for (const socket of followers) {
      const mine = visibleTo(socket.data, sessions);
      const text = JSON.stringify(mine);
      if (only || lastList.get(socket.id) !== text) socket.emit('live', { sessions: mine });
      lastList.set(socket.id, text);
    }
  };
  let listing = false;
  const listTimer = setInterval(() => {
    if (listing) return;
    listing = true;
    sendList().catch((err: Error) => log.warn({ err: err.message }, 'live list update failed')).finally(() => (listing = false));
  }, LIVE_LIST_EVERY_MS);
  listTimer.unref();

  // Access requests: every change is published on the control bus (by whichever hub made it);
  // each hub reads the request once and pushes it to its own followers who may see it.
  const access = opts.access;
  const unsubscribeAccess = access ? await access.control.subscribe((message) => {
    if (message.kind !== 'access') return;
    const followers = localMembers(ACCESS_FOLLOWERS);
    if (followers.length === 0) return;
    access.service.find(message.requestId).then((request) => {
      if (!request) return;
      for (const socket of followers) {
        const actor = actorOf(socket.data);
        if (access.service.maySee(actor, request)) socket.emit('access:request', { request: access.service.view(actor, request) });
      }
    }, (err: Error) => log.warn({ err: err.message }, 'access update failed'));
  }) : null;

  // The Audit page: the store's new audit rows, read by this hub while someone on it follows.
  const auditFeed = opts.audit ? new AuditFeed({
    source: opts.audit, logger: log,
    wanted: () => localMembers(AUDIT_FOLLOWERS).length > 0,
    deliver: (entries) => deliverAudit(localMembers(AUDIT_FOLLOWERS), entries),
  }) : null;

  const backlogs = new Set<OutboundBacklog>();
  let dropped = 0;
  /** A viewer that does not read what it is sent (or reads slower than its sessions run). */
  const drop = (socket: LiveSocket, backlog: OutboundBacklog) => {
    dropped++;
    log.info({ user: socket.data.user, bytes: backlog.bytes }, 'viewer dropped: too much waits for it unread');
    backlog.drop(() => {
      socket.emit('dropped', { reason: 'slow_consumer', message: 'this connection fell too far behind; connect again to resume' });
      socket.disconnect(true);
    }, DROP_GRACE_MS);
  };

  // Live access follows the login. Logout on any hub ends its connections on every hub at once;
  // every connection's login is read again every half recheck interval and before each new
  // subscription, so an expired login, or one the provider no longer accepts, ends within one
  // interval, and a change of roles applies to what the connection watches and follows.
  const socketWatches = new Map<string, SocketWatches>();
  const endLogin = (sid: string, reason: 'logged_out' | 'login_ended', message: string) => {
    for (const socket of localMembers(loginRoom(sid))) {
      socket.emit('dropped', { reason, message });
      socket.disconnect(true);
    }
  };
  io.on('loggedOut', (sid) => endLogin(sid, 'logged_out', LOGGED_OUT));
  /** Applies the login's verdict to one connection: false when it has ended. */
  const applyVerdict = async (socket: LiveSocket, verdict: LoginVerdict | null): Promise<boolean> => {
    if (!verdict) return true;
    if (!verdict.ok) {
      endLogin(socket.data.sid, verdict.reason, verdict.message);
      return false;
    }
    const person = personOf(verdict.login);
    if (person.roles.join() === socket.data.roles.join() && person.groups.join() === socket.data.groups.join()) return true;
    socket.data = { ...socket.data, ...person };
    await socketWatches.get(socket.id)?.revalidate();
    if (socket.rooms.has(LIVE_LIST)) await sendList(socket);
    return true;
  };
  const logins = opts.logins;
  /** Before a subscription: the login as it is now. */
  const stillLoggedIn = async (socket: LiveSocket): Promise<boolean> => (logins ? applyVerdict(socket, await logins.check(socket.data.sid)) : true);
  let rechecking = false;
  const recheckTimer = logins ? setInterval(() => {
    if (rechecking) return;
    rechecking = true;
    const bySid = new Map<string, LiveSocket[]>();
    for (const socket of io.of('/').sockets.values()) bySid.set(socket.data.sid, [...(bySid.get(socket.data.sid) ?? []), socket]);
    (async () => {
      for (const [sid, sockets] of bySid) {
        const verdict = await logins.check(sid);
        for (const socket of sockets) await applyVerdict(socket, verdict);
      }
    })().catch((err: Error) => log.warn({ err: err.message }, 'login recheck failed')).finally(() => (rechecking = false));
  }, logins.recheckMs / 2) : null;
  recheckTimer?.unref();
  const notLoggedIn: Ack = { ok: false, error: { code: 'unauthorized', message: 'your login has ended: log in again' } };

  io.on('connection', (socket: LiveSocket) => {
    void socket.join(loginRoom(socket.data.sid));
    const backlog = new OutboundBacklog(socket.conn, limits.maxBufferedBytesPerSocket, () => drop(socket, backlog));
    backlogs.add(backlog);
    // Counted until the connection is closed: a dropped viewer's last bytes are still held in its grace.
    socket.conn.once('close', () => backlogs.delete(backlog));
    const watches = new SocketWatches(socket, {
      store: opts.store, taps, mirrors, approves, log, audit: opts.audit,
      maxWatches: limits.maxWatchesPerSocket,
      paced: () => backlog.below(limits.maxBufferedBytesPerSocket / 2),
      changed: (sessionId) => void presence(sessionId),
      // After the watch took its place: an unwatch sent meanwhile still cancels it.
      admit: async () => ((await stillLoggedIn(socket)) ? null : notLoggedIn),
    });
    socketWatches.set(socket.id, watches);
    /** Runs a subscription once the login is confirmed still good. */
    const confirmed = (reply: (ack: Ack) => void, then: () => void) => {
      stillLoggedIn(socket).then((ok) => (ok ? then() : reply(notLoggedIn)), (err: Error) => {
        log.warn({ err: err.message }, 'login check failed');
        reply({ ok: false, error: { code: 'unavailable', message: 'your login cannot be checked right now; try again' } });
      });
    };

    socket.on('watch', (raw, ack) => {
      const reply = typeof ack === 'function' ? ack : () => undefined;
      const parsed = WatchRequest.safeParse(raw);
      if (!parsed.success) return reply(invalid(parsed.error.issues[0]?.message));
      // Not stored, or not this person's to see (SocketWatches refuses both, and audits the
      // refusal of one that exists): the same words for both, so existence does not leak.
      void watches.watch(parsed.data, (result) => reply(!result.ok && result.error.code === 'not_found' ? WATCH_NOT_FOUND : result));
    });

    socket.on('unwatch', (raw, ack) => {
      const reply = typeof ack === 'function' ? ack : () => undefined;
      const parsed = UnwatchRequest.safeParse(raw);
      if (!parsed.success) return reply(invalid(parsed.error.issues[0]?.message));
      watches.unwatch(parsed.data.sessionId);
      reply({ ok: true });
    });

    socket.on('live:subscribe', (ack) => {
      const reply = typeof ack === 'function' ? ack : () => undefined;
      confirmed(reply, () => {
        void socket.join(LIVE_LIST);
        sendList(socket).then(() => reply({ ok: true }), (err: Error) => {
          log.warn({ err: err.message }, 'live list failed');
          reply({ ok: false, error: { code: 'unavailable', message: 'the list of running sessions cannot be read right now' } });
        });
      });
    });

    socket.on('live:unsubscribe', (ack) => {
      void socket.leave(LIVE_LIST);
      lastList.delete(socket.id);
      if (typeof ack === 'function') ack({ ok: true });
    });

    socket.on('access:subscribe', (ack) => {
      const reply = typeof ack === 'function' ? ack : () => undefined;
      if (!access) return reply({ ok: false, error: { code: 'unavailable', message: 'this hub has no access requests' } });
      confirmed(reply, () => {
        // Joined first: a change while the list is read is pushed after it (the page keeps the newest).
        void socket.join(ACCESS_FOLLOWERS);
        access.service.list(actorOf(socket.data), { limit: ACCESS_LIST_MAX }).then((requests) => {
          socket.emit('access:requests', { requests });
          reply({ ok: true });
        }, (err: Error) => {
          log.warn({ err: err.message }, 'access list failed');
          reply({ ok: false, error: { code: 'unavailable', message: 'access requests cannot be read right now' } });
        });
      });
    });

    socket.on('access:unsubscribe', (ack) => {
      void socket.leave(ACCESS_FOLLOWERS);
      if (typeof ack === 'function') ack({ ok: true });
    });

    serveAuditSubscription(socket, { feed: auditFeed, confirmed, logger: log });

    socket.on('annotations:follow', (raw, ack) => {
      const reply = typeof ack === 'function' ? ack : () => undefined;
      const parsed = FollowAnnotations.safeParse(raw);
      if (!parsed.success) return reply(invalid(parsed.error.issues[0]?.message));
      const { sessionId } = parsed.data;
      stillLoggedIn(socket).then(async (ok) => (ok ? mayFollow(actorOf(socket.data), sessionId) : null)).then((allowed) => {
        if (allowed === null) return reply(notLoggedIn);
        if (!allowed) return reply({ ok: false, error: { code: 'not_found', message: `no session ${sessionId}` } });
        void socket.join(annotationsRoom(sessionId));
        reply({ ok: true });
      }, (err: Error) => {
        log.warn({ err: err.message }, 'annotations follow failed');
        reply({ ok: false, error: { code: 'unavailable', message: 'the recording cannot be read right now' } });
      });
    });

    socket.on('annotations:unfollow', (raw, ack) => {
      const parsed = FollowAnnotations.safeParse(raw);
      if (parsed.success) void socket.leave(annotationsRoom(parsed.data.sessionId));
      if (typeof ack === 'function') ack(parsed.success ? { ok: true } : invalid(parsed.error.issues[0]?.message));
    });

    socket.on('disconnect', () => {
      socketWatches.delete(socket.id);
      lastList.delete(socket.id);
      watches.endAll();
    });
  });

  return {
    viewers: () => io.of('/').sockets.size,
    announceAnnotation: (annotation) => {
      void deliverAnnotation(annotation);
      if (redisClients.length > 0) io.serverSideEmit('annotation', annotation);
    },
    outbound: () => ({ bufferedBytes: [...backlogs].reduce((sum, b) => sum + b.bytes, 0), dropped }),
    loggedOut: (sid) => {
      endLogin(sid, 'logged_out', LOGGED_OUT);
      if (redisClients.length > 0 && !closing) io.serverSideEmit('loggedOut', sid);
    },
    async close() {
      closing = true;
      clearInterval(listTimer);
      if (recheckTimer) clearInterval(recheckTimer);
      auditFeed?.stop();
      await unsubscribeAccess?.();
      mirrors.close();
      // Closes the sockets, not the HTTP server: the hub closes that.
      io.disconnectSockets(true);
      io.removeAllListeners();
      await Promise.all(redisClients.map((c) => closeRedis(c)));
    },
  };
}

const annotationsRoom = (sessionId: string) => `annotations:${sessionId}`;


/** Who a login is, as a connection keeps it. */
function personOf(login: LoginSession): Omit<SocketData, 'sid'> {
  return { user: login.subject, name: login.name, roles: login.roles.filter(isRole), groups: login.groups ?? [] };
}

function invalid(message = 'invalid request'): Ack {
  return { ok: false, error: { code: 'bad_request', message } };
}
