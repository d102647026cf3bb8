// The agent's one SSH port: accepts clients for every SSH target (the SSH user name picks it) and
// keeps track of their live sessions. A client that speaks garbage or breaks the protocol loses
// its own connection; the listener and every other session go on.
import type net from 'node:net';
import ssh2 from 'ssh2';
import { SshSession, type SshSessionContext } from './ssh-session.ts';
import { LiveSessions } from '../session/live-sessions.ts';
import { listenOn } from '../listen-on.ts';

const { Server } = ssh2;

export type SshListenerContext = Omit<SshSessionContext, 'live'>;

export class SshListener {
  private readonly server: InstanceType<typeof Server>;
  readonly sessions = new LiveSessions();

  constructor(private readonly ctx: SshListenerContext, hostKey: string) {
    this.server = new Server({ hostKeys: [hostKey], ident: 'Vigil' }, (client, info) => {
      try {
        new SshSession(client, `${info.ip}:${info.port}`, { ...this.ctx, live: this.sessions });
      } catch (err) {
        ctx.logger.error({ err: (err as Error).message }, 'could not start an ssh session');
        client.end();
      }
    });
    this.server.on('error', (err: Error) => ctx.logger.error({ err: err.message }, 'ssh listener error'));
  }

  listen(host: string, port: number): Promise<net.AddressInfo> {
    return listenOn(this.server, host, port, 'SSH');
  }

  async close(): Promise<void> {
    this.sessions.endAll('agent_shutdown', 'the Vigil agent is shutting down');
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
