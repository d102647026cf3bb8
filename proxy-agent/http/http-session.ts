// One HTTP session: everything one login (a Vigil token, or the browser login's cookie that holds
// one) does through the agent, as one recording, from its first request until it ends: killed,
// revoked, locked, its grant or token expired, or idle for the target's idleTimeout. Its requests
// are exchanges (exchange.ts), any number at once, over any connections. Ending it answers the
// requests still waiting and cuts the ones under way (streams too) at once.
import type { Http2ServerRequest } from 'node:http2';
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import type { SessionEndReason } from '../../common/events/index.ts';
import { parseDuration } from '../../common/config/schema.ts';
import { SessionLifecycle, type Refusal, type SessionServices } from '../session/session-lifecycle.ts';
import { Exchange, type ClientRequest, type ClientResponse } from './exchange.ts';
import { answerError, answerErrorOnSocket } from './agent-answers.ts';
import type { HttpTargetRuntime } from './http-target.ts';
import { relayWebSocket, type WebSocketRelay } from './websocket-relay.ts';

export interface HttpSessionContext extends SessionServices {
  target: HttpTargetRuntime;
}

export interface HttpLogin {
  user: string;
  tokenId: string;
  expiresAt: Date;
  via: 'bearer' | 'basic' | 'cookie';
  clientAddress: string;
}

/** What ends an exchange still waiting when its session ends: 503 when the agent cannot serve, else 403. */
const UNAVAILABLE = new Set<SessionEndReason>(['recording_unavailable', 'agent_shutdown']);

export class HttpSession {
  readonly life: SessionLifecycle;
  private readonly exchanges = new Set<Exchange>();
  private readonly sockets = new Set<WebSocketRelay>();
  private idleTimer: NodeJS.Timeout | null = null;
  private readonly expiryTimer: NodeJS.Timeout;
  /** What the client was told when it ended (later requests with its token are told the same). */
  private endMessage: string | undefined;

  constructor(private readonly login: HttpLogin, private readonly ctx: HttpSessionContext, onEnded: (session: HttpSession, reason: SessionEndReason, message: string) => void) {
    const { config } = ctx.target;
    this.life = new SessionLifecycle({
      protocol: 'http',
      target: config,
      clientAddress: login.clientAddress,
      ending: {
        farewell: (reason, message) => {
          this.endMessage = message;
          const status = UNAVAILABLE.has(reason) ? 503 : 403;
          for (const x of [...this.exchanges]) x.endFor(status, message);
          for (const ws of [...this.sockets]) ws.end(message);
          return 0;
        },
        teardown: (reason) => {
          if (this.idleTimer) clearTimeout(this.idleTimer);
          clearTimeout(this.expiryTimer);
          for (const ws of [...this.sockets]) ws.end('the session ended');
          onEnded(this, reason, this.endMessage ?? reason);
          return reason;
        },
      },
    }, ctx);
    this.life.loggedIn(config, login.user, login.tokenId);
    // The session runs under its token: it ends when the token does (setTimeout's bound is ~24.8 days).
    this.expiryTimer = setTimeout(() => this.end('token_expired', 'the Vigil token this session runs under expired; get a new one'), Math.min(Math.max(login.expiresAt.getTime() - Date.now(), 0), 2 ** 31 - 1));
    this.expiryTimer.unref();
  }

  get id(): string {
    return this.life.id;
  }

  /** Admission (recording available, locks, a jit target's grant), then the recording begins. Null: in. */
  async start(): Promise<Refusal | { reason: 'recording_unavailable'; message: string } | null> {
    const { config } = this.ctx.target;
    if (!this.life.recordingAvailable()) {
      const message = `target ${config.name} requires recording and the recording pipeline is unavailable; try again later`;
      this.life.close('recording_unavailable', message);
      return { reason: 'recording_unavailable', message };
    }
    const refused = await this.life.admit();
    if (refused) {
      this.endMessage = refused.message;
      this.life.close(refused.reason, refused.message);
      return refused;
    }
    this.life.startRecording({ upstream: this.ctx.target.upstream.origin + this.ctx.target.basePath, recording: config.recording, clientMasking: false, auth: this.login.via });
    this.idle();
    return null;
  }

  handle(req: ClientRequest, res: ClientResponse): void {
    if (this.life.isOver) {
      return answerError(res, 403, 'this session has ended');
    }
    this.busy();
    const exchange = new Exchange(req, res, { target: this.ctx.target, life: this.life, access: this.ctx.access, outlet: this.ctx.outlet }, (x) => {
      this.exchanges.delete(x);
      this.idle();
    });
    this.exchanges.add(exchange);
    exchange.run().catch((err: Error) => {
      this.life.log.error({ err: err.stack }, 'an exchange failed');
      exchange.endFor(502, `Vigil failed on this request: ${err.message}`);
    });
  }

  /** A WebSocket upgrade (HTTP/1.1): relayed message by message, each recorded. */
  upgrade(req: http.IncomingMessage | Http2ServerRequest, socket: Duplex, head: Buffer): void {
    if (this.life.isOver) {
      return answerErrorOnSocket(socket, 403, 'this session has ended');
    }
    this.busy();
    const relay = relayWebSocket(req as http.IncomingMessage, socket, head, { target: this.ctx.target, life: this.life, access: this.ctx.access, outlet: this.ctx.outlet }, () => {
      this.sockets.delete(relay);
      this.idle();
    });
    this.sockets.add(relay);
  }

  /** Ended from here (idle, the token's end). */
  private end(reason: SessionEndReason, message: string): void {
    this.endMessage = message;
    this.life.fail(reason, message);
  }

  private busy(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
  }

  private idle(): void {
    if (this.exchanges.size > 0 || this.sockets.size > 0 || this.life.isOver) return;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    const after = parseDuration(this.ctx.target.config.idleTimeout);
    this.idleTimer = setTimeout(() => this.end('idle', `no request for ${this.ctx.target.config.idleTimeout}`), after);
    this.idleTimer.unref();
  }
}
