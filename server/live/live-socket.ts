// A dashboard connection on the hub, as the live modules see it: the person behind it (from the
// login cookie, at the handshake) and the typed contract of common/live/contract.ts.
import type { Socket } from 'socket.io';
import type { AnnotationView } from '../../common/api-contract.ts';
import type { ClientToServer, ServerToClient } from '../../common/live/contract.ts';
import type { Role } from '../../common/roles.ts';
import type { Actor } from '../access/access-policy.ts';

export interface SocketData {
  /** The login session behind the connection (express-session's id): what logout and rechecks find it by. */
  sid: string;
  user: string;
  name?: string;
  roles: Role[];
  groups: string[];
}

/** What hubs tell each other (Socket.IO's serverSideEmit, over the Redis adapter). */
export interface BetweenHubs {
  /** A note pinned to a recording: each hub gives it to the followers it holds who may read it. */
  annotation(annotation: AnnotationView): void;
  /** A login ended by logout on some hub: every hub ends the connections it holds for it. */
  loggedOut(sessionId: string): void;
}

export type LiveSocket = Socket<ClientToServer, ServerToClient, BetweenHubs, SocketData>;

export const actorOf = (data: SocketData): Actor => ({ subject: data.user, roles: data.roles, groups: data.groups });

/** One room per login session: its connections on this hub. */
export const loginRoom = (sid: string) => `login:${sid}`;

/** One room per session: its viewers on every hub (presence). */
export const room = (sessionId: string) => `session:${sessionId}`;
