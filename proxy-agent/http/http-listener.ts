// Accepts clients for one HTTP target: HTTP/1.1 in the clear, or with TLS HTTP/2 and HTTP/1.1 (by
// ALPN). Each request proves its login (client-token.ts); the login's session (one per token,
// http-session.ts) records and relays it. A request the HTTP parser refuses (malformed, headers
// too large, conflicting Content-Length and Transfer-Encoding) gets 400 (431 for headers) and its
// connection closes; no other connection or session notices.
import fs from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import type net from 'node:net';
import type { Duplex } from 'node:stream';
import type { SessionEndReason } from '../../common/events/index.ts';
import type { Logger } from '../../common/log.ts';
import { TokenError, type ConnectionClaims, type TokenVerifier } from '../../common/tokens.ts';
import { listenOn } from '../listen-on.ts';
import { LiveSessions } from '../session/live-sessions.ts';
import { presentedToken, type PresentedToken } from './client-token.ts';
import { AGENT_PATH, clearLoginCookie, isBrowserNavigation, loginRedirect, readLoginForm, setLoginCookie } from './browser-login.ts';
import type { ClientRequest, ClientResponse } from './exchange.ts';
import { HttpSession, type HttpSessionContext } from './http-session.ts';
import { answerError, answerErrorOnSocket } from './agent-answers.ts';

export interface HttpListenerContext extends Omit<HttpSessionContext, 'live'> {
  verifier: TokenVerifier;
  /** The hub's public URL: a browser without a login is sent there to log in (browser-login.ts). */
  hubUrl: string;
}

/** Ends after which a token starts no new session (it was ended on purpose); others (idle) may. */
const FINAL = new Set<SessionEndReason>(['killed', 'revoked', 'grant_expired', 'locked']);
/** Headers beyond this many bytes get 431 (Node's own default is 16 KiB). */
const MAX_HEADER_BYTES = 32 * 1024;

type Admitted = { session: HttpSession } | { status: number; message: string };

export class HttpListener {
  readonly sessions = new LiveSessions();
  private readonly server: http.Server | http2.Http2SecureServer;
  /** The session of each token (jti) while it lives (or while it is being admitted). */
  private readonly byToken = new Map<string, Promise<Admitted>>();
  /** Tokens whose session was ended on purpose, with what their requests are told, until they expire. */
  private readonly ended = new Map<string, { message: string; until: number }>();
  /** Tokens already verified (the signature is checked once per token, its expiry every time). */
  private readonly verified = new Map<string, ConnectionClaims>();
  private readonly log: Logger;
  private readonly sockets = new Set<net.Socket>();

  constructor(private readonly ctx: HttpListenerContext) {
    const { config } = ctx.target;
    this.log = ctx.logger.child({ target: config.name });
    const onRequest = (req: ClientRequest, res: ClientResponse) => void this.onRequest(req, res).catch((err: Error) => {
      this.log.error({ err: err.stack }, 'http request failed');
      answerError(res, 500, 'Vigil failed on this request');
    });
    if (config.tls) {
      this.server = http2.createSecureServer({
        cert: fs.readFileSync(config.tls.certFile),
        key: fs.readFileSync(config.tls.keyFile),
        allowHTTP1: true,
        maxSessionMemory: 64,
        // HTTP/1.1 over TLS gets the same header bound as in the clear.
        maxHeaderSize: MAX_HEADER_BYTES,
      } as http2.SecureServerOptions, onRequest);
    } else {
      this.server = http.createServer({ maxHeaderSize: MAX_HEADER_BYTES, requestTimeout: 0, headersTimeout: 30_000 }, onRequest);
    }
    this.server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => void this.onUpgrade(req, socket, head).catch((err: Error) => {
      this.log.error({ err: err.stack }, 'websocket upgrade failed');
      socket.destroy();
    }));
    this.server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => this.badRequest(err, socket));
    this.server.on('error', (err) => this.log.error({ err: err.message }, 'http listener error'));
    // Every client connection, HTTP/1.1 or HTTP/2, clear or TLS: closed when the agent stops (a
    // browser keeps its connections open, and the server would wait for them).
    this.server.on('connection', (socket: net.Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
  }

  listen(host: string, port: number): Promise<net.AddressInfo> {
    return listenOn(this.server, host, port, `target ${this.ctx.target.config.name}`);
  }

  async close(): Promise<void> {
    this.sessions.endAll('agent_shutdown', 'the Vigil agent is shutting down');
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    // The answers of the sessions just ended go out first.
    setTimeout(() => {
      for (const socket of this.sockets) socket.destroy();
    }, 100).unref();
    this.ctx.target.agent.destroy();
    await closed;
  }

  private async onRequest(req: ClientRequest, res: ClientResponse): Promise<void> {
    if (req.url?.startsWith(AGENT_PATH)) return this.agentPath(req, res);
    const presented = presentedToken(req.headers, this.ctx.target.cookieName);
    if (!presented && isBrowserNavigation(req.method, req.headers)) {
      res.writeHead(302, { location: loginRedirect(this.ctx.hubUrl, this.ctx.target.config.name, req.url), 'cache-control': 'no-store' });
      res.end();
      return;
    }
    const admitted = await this.admit(req, presented);
    if ('status' in admitted) {
      answerError(res, admitted.status, admitted.message, admitted.status === 401 ? { 'www-authenticate': 'Bearer realm="vigil", Basic realm="vigil"' } : {});
      return;
    }
    admitted.session.handle(req, res);
  }

  /** The agent's own paths: the browser login's hand-off from the hub, and logging out. */
  private async agentPath(req: ClientRequest, res: ClientResponse): Promise<void> {
    const { config, cookieName } = this.ctx.target;
    const secure = Boolean(config.tls);
    const path = req.url!.split('?')[0];
    if (path === `${AGENT_PATH}logout`) return clearLoginCookie(res, cookieName, secure);
    if (path !== `${AGENT_PATH}login` || req.method !== 'POST') return answerError(res, 404, `no such page: ${AGENT_PATH}login and ${AGENT_PATH}logout are the agent's own`);
    const form = await readLoginForm(req);
    if (!form) return answerError(res, 400, 'expected the login form the hub sends');
    const client = `${req.socket.remoteAddress}:${req.socket.remotePort}`;
    const claims = await this.verify({ token: form.token, via: 'cookie' }, client);
    if ('status' in claims) return answerError(res, claims.status, claims.message);
    setLoginCookie(res, cookieName, form.token, claims.expiresAt, secure, form.return);
  }

  private async onUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', () => socket.destroy());
    const admitted = await this.admit(req, presentedToken(req.headers, this.ctx.target.cookieName));
    if ('status' in admitted) return answerErrorOnSocket(socket, admitted.status, admitted.message);
    admitted.session.upgrade(req, socket, head);
  }

  /** The request's login, and its session (started on its first request). */
  private async admit(req: ClientRequest, presented: PresentedToken | null): Promise<Admitted> {
    const { config } = this.ctx.target;
    const client = `${req.socket.remoteAddress}:${req.socket.remotePort}`;
    if (!presented || !presented.token) return { status: 401, message: `log in to ${config.name} with your Vigil token: Authorization: Bearer TOKEN (or as the basic-auth password)` };
    const limited = this.ctx.logins?.admit({ protocol: 'http', client, target: config.name, user: presented.basicUser || undefined });
    if (limited && !limited.ok) return { status: 429, message: `too many failed logins from this address; try again in ${limited.retryAfterSeconds} s` };
    const claims = await this.verify(presented, client);
    if ('status' in claims) return claims;
    const ended = this.ended.get(claims.jti);
    if (ended) {
      if (ended.until > Date.now()) return { status: 403, message: ended.message };
      this.ended.delete(claims.jti);
    }
    let admitted = this.byToken.get(claims.jti);
    if (!admitted) {
      admitted = this.startSession(claims, presented.via, client);
      this.byToken.set(claims.jti, admitted);
    }
    return admitted;
  }

  private async verify(presented: PresentedToken, client: string): Promise<ConnectionClaims | { status: number; message: string }> {
    const { config } = this.ctx.target;
    try {
      let claims = this.verified.get(presented.token);
      if (!claims) {
        claims = await this.ctx.verifier.verifyConnection(presented.token);
        if (this.verified.size >= 10_000) this.verified.clear();
        this.verified.set(presented.token, claims);
      }
      if (claims.expiresAt.getTime() <= Date.now()) throw new TokenError('the Vigil token has expired');
      if (claims.target !== config.name) throw new TokenError(`the Vigil token is for target ${claims.target}, not ${config.name}`);
      if (presented.basicUser && presented.basicUser !== claims.user) throw new TokenError(`the Vigil token was issued to ${claims.user}, not ${presented.basicUser}`);
      return claims;
    } catch (err) {
      const reason = err instanceof TokenError ? err.message : 'the Vigil token could not be verified';
      this.log.info({ reason, client }, 'http login refused');
      this.ctx.logins?.refused({ protocol: 'http', client, target: config.name, user: presented.basicUser || undefined, reason });
      return { status: 401, message: reason };
    }
  }

  private async startSession(claims: ConnectionClaims, via: PresentedToken['via'], client: string): Promise<Admitted> {
    const session = new HttpSession({ user: claims.user, tokenId: claims.jti, expiresAt: claims.expiresAt, via, clientAddress: client }, { ...this.ctx, live: this.sessions }, (s, reason, message) => {
      this.byToken.delete(claims.jti);
      // A login refused at admission (a lock, a pending request) may be let in later; one ended on purpose may not.
      if (FINAL.has(reason) && s.life.lastSeq > 0) this.ended.set(claims.jti, { message, until: claims.expiresAt.getTime() });
      this.forgetExpired();
    });
    const refused = await session.start();
    if (!refused) return { session };
    this.byToken.delete(claims.jti);
    return { status: refused.reason === 'recording_unavailable' || ('kind' in refused && refused.kind === 'unavailable') ? 503 : 403, message: refused.message };
  }

  private forgetExpired(): void {
    const now = Date.now();
    for (const [jti, e] of this.ended) if (e.until <= now) this.ended.delete(jti);
  }

  /** What the HTTP parser refused: 400 (431 for headers too large), and this connection closes. */
  private badRequest(err: NodeJS.ErrnoException, socket: Duplex): void {
    this.log.info({ code: err.code, err: err.message }, 'malformed http request refused');
    if (!socket.writable || (socket as net.Socket).bytesWritten > 0) return void socket.destroy();
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    answerErrorOnSocket(socket, status, `Vigil refused a malformed request (${err.code ?? 'bad request'})`);
  }
}
