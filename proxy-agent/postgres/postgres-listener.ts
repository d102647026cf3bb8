// Accepts clients for one PostgreSQL target and keeps track of its live sessions.
import net from 'node:net';
import { ClientSession, type SessionContext } from './client-session.ts';
import { LiveSessions } from '../session/live-sessions.ts';
import { listenOn } from '../listen-on.ts';

export type ListenerContext = Omit<SessionContext, 'live'>;

export class PostgresListener {
  private readonly server: net.Server;
  readonly sessions = new LiveSessions();
  /** Upstream backend pid -> the pid its client was given (notifications name the latter). */
  private readonly clientPids = new Map<number, number>();

  constructor(private readonly ctx: ListenerContext) {
    this.server = net.createServer((socket) => this.accept(socket));
    // A listener error (e.g. EMFILE on accept) is logged; it never takes the agent down.
    this.server.on('error', (err) => ctx.logger.error({ err: err.message, target: ctx.target.config.name }, 'listener error'));
  }

  private accept(socket: net.Socket): void {
    try {
      new ClientSession(socket, { ...this.ctx, clientPids: this.clientPids, live: this.sessions });
    } catch (err) {
      this.ctx.logger.error({ err: (err as Error).message }, 'could not start a session');
      socket.destroy();
    }
  }

  listen(host: string, port: number): Promise<net.AddressInfo> {
    return listenOn(this.server, host, port, `target ${this.ctx.target.config.name}`);
  }

  async close(): Promise<void> {
    this.sessions.endAll('agent_shutdown', 'the Vigil agent is shutting down');
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
