// Accepts clients for one PostgreSQL target and keeps track of its live sessions.
import net from 'node:net';
import { ClientSession, type SessionContext } from './client-session.ts';

export type ListenerContext = Omit<SessionContext, 'onClosed'>;

export class PostgresListener {
  private readonly server: net.Server;
  readonly sessions = new Set<ClientSession>();
  /** Upstream backend pid -> the pid its client was given (notifications name the latter). */
  private readonly clientPids = new Map<number, number>();

  constructor(private readonly ctx: ListenerContext) {
    this.server = net.createServer((socket) => this.accept(socket));
    // A listener error (e.g. EMFILE on accept) is logged; it never takes the agent down.
    this.server.on('error', (err) => ctx.logger.error({ err: err.message, target: ctx.target.config.name }, 'listener error'));
  }

  private accept(socket: net.Socket): void {
    try {
      const session = new ClientSession(socket, {
        ...this.ctx,
        clientPids: this.clientPids,
        onClosed: (s) => this.sessions.delete(s),
      });
      this.sessions.add(session);
    } catch (err) {
      this.ctx.logger.error({ err: (err as Error).message }, 'could not start a session');
      socket.destroy();
    }
  }

  listen(host: string, port: number): Promise<net.AddressInfo> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(new Error(`cannot listen on ${host}:${port} for target ${this.ctx.target.config.name}: ${err.message}`));
      this.server.once('error', onError);
      this.server.listen(port, host, () => {
        this.server.off('error', onError);
        resolve(this.server.address() as net.AddressInfo);
      });
    });
  }

  /** Ends every live session that requires recording (the spool is full). */
  endRecordingRequired(message: string): void {
    for (const s of this.sessions) if (s.recordingRequired && s.isRelaying) s.fail('recording_unavailable', '57P03', message);
  }

  async close(): Promise<void> {
    for (const s of this.sessions) s.fail('agent_shutdown', '57P01', 'the Vigil agent is shutting down');
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
