// A dashboard connection on the hub, as the live modules see it: the person behind it (from the
// login cookie, at the handshake) and the typed contract of common/live/contract.ts.
import type { Socket } from 'socket.io';
import type { ClientToServer, ServerToClient } from '../../common/live/contract.ts';
import type { Role } from '../../common/roles.ts';
import type { Actor } from '../access/access-policy.ts';

export interface SocketData {
  user: string;
  name?: string;
  roles: Role[];
  groups: string[];
}

export type LiveSocket = Socket<ClientToServer, ServerToClient, Record<string, never>, SocketData>;

export const actorOf = (data: SocketData): Actor => ({ subject: data.user, roles: data.roles, groups: data.groups });

/** One room per session: its viewers on every hub (presence). */
export const room = (sessionId: string) => `session:${sessionId}`;
