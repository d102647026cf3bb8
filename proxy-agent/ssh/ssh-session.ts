// One client's SSH connection to the agent: it logs in with a Vigil token (as the password, or
// answering keyboard-interactive) or with a public key its owner registered in the dashboard
// (looked up in the key directory, the signature checked here), the user name picks the target, the agent logs in to the target
// with the target's own credentials, and each session channel is bridged (channel-bridge.ts).
// The recording is one Vigil session per connection. Port forwarding (-L, -W, -R) is relayed only
// when the target allows it; each forwarding and each refusal is recorded. Any failure ends this connection, never the agent.
import ssh2, { type AuthContext, type ClientChannel, type Client as SshClient, type Connection, type PublicKeyAuthContext, type ServerChannel } from 'ssh2';
import { fingerprintOf } from '../../common/ssh-public-key.ts';
import type { SshKeyDirectory } from '../../common/ssh-key-directory.ts';
import type { SessionEndReason } from '../../common/events/index.ts';
import type { Logger } from '../../common/log.ts';
import type { SshTarget } from '../../common/config/schema.ts';
import { TokenError, type TokenVerifier } from '../../common/tokens.ts';
import type { Masker } from '../masking/masker.ts';
import type { GuardrailPolicy } from '../guardrails/guardrail-policy.ts';
import { bridgeSession, type OpenChannel } from './channel-bridge.ts';
import { parseLoginName } from './login-name.ts';
import { connectUpstream, type SshUpstreamSettings } from './upstream-ssh.ts';
import { parseDuration } from '../../common/config/schema.ts';
import { SessionLifecycle, type SessionServices } from '../session/session-lifecycle.ts';

export interface SshTargetRuntime {
  config: SshTarget;
  upstream: SshUpstreamSettings;
  masker: Masker;
  /** Command-line rules for exec requests. */
  guardrails: GuardrailPolicy;
}

export interface SshSessionContext extends SessionServices {
  targets: Map<string, SshTargetRuntime>;
  verifier: TokenVerifier;
  /** Registered public keys; without it only tokens log in. */
  keys?: SshKeyDirectory;
}

const { utils } = ssh2;
const AUTH_METHODS: AuthContext['method'][] = ['publickey', 'password', 'keyboard-interactive'];
/** Why a session is not let through to its target: not admitted (jit), or locked out. */
class AccessRefused extends Error {
  constructor(message: string, readonly reason: 'access_refused' | 'locked' = 'access_refused') {
    super(message);
  }
}

/** A client that logs in and asks for nothing (no channel, no forwarding) is let go after this long. */
const IDLE_LOGIN_MS = 60_000;

export class SshSession {
  /** Who, admission, recording and end (shared with every protocol). */
  readonly life: SessionLifecycle;
  private target: SshTargetRuntime | null = null;
  /** What the client is told while its channels wait (access approval), and who listens. */
  private readonly notices: string[] = [];
  private readonly noticeWriters = new Set<(line: string) => void>();
  private user = '';
  /** The jti of the token it logged in with (none with a registered key); locks may name it. */
  private tokenId: string | undefined;
  private upstream: Promise<SshClient> | null = null;
  private upstreamClient: SshClient | null = null;
  private readonly channels = new Set<OpenChannel>();
  private channelCount = 0;
  /** Something was asked for after login (a channel or a forwarding): not an idle connection. */
  private used = false;
  private remoteForwarding = false;
  private readonly log: Logger;
  private readonly idleTimer: NodeJS.Timeout;

  constructor(private readonly client: Connection, private readonly clientAddress: string, private readonly ctx: SshSessionContext) {
    this.life = new SessionLifecycle({
      protocol: 'ssh',
      target: null,
      clientAddress,
      ending: {
        // The reason on each open terminal; the connection ends once those last words are out.
        farewell: (_reason, message) => {
          for (const ch of [...this.channels]) ch.end(message);
          return 100;
        },
        teardown: (reason) => {
          clearTimeout(this.idleTimer);
          this.upstreamClient?.end();
          this.client.end();
          return reason;
        },
      },
    }, ctx);
    this.log = this.life.log;
    client.on('authentication', (auth) => this.authenticate(auth));
    client.on('ready', () => this.ready());
    client.on('error', (err: Error) => {
      this.log.info({ err: err.message }, 'ssh client connection error');
      this.close('client_disconnect', err.message);
    });
    client.on('close', () => this.close('client_disconnect'));
    this.idleTimer = setTimeout(() => {
      if (!this.used) this.close('client_disconnect', 'nothing asked for after login');
    }, IDLE_LOGIN_MS);
    this.idleTimer.unref();
  }

  get id(): string {
    return this.life.id;
  }

  private authenticate(auth: AuthContext): void {
    const login = parseLoginName(auth.username);
    const refused = (reason: string) => this.ctx.logins?.refused({ protocol: 'ssh', client: this.clientAddress, target: login.target, user: login.user, reason });
    const admitted = this.ctx.logins?.admit({ protocol: 'ssh', client: this.clientAddress, target: login.target, user: login.user });
    if (admitted && !admitted.ok) {
      auth.reject();
      return;
    }
    const target = this.ctx.targets.get(login.target);
    if (!target) {
      this.log.info({ username: auth.username }, 'ssh login for an unknown target');
      refused(`no target named ${login.target}`);
      auth.reject();
      return;
    }
    /** In as `user` (null: refused); `probe`: the client only asks whether its key would do. */
    const decide = (user: string | null, probe = false) => {
      if (!user || this.life.isClosed) return auth.reject(AUTH_METHODS);
      if (!probe) {
        this.target = target;
        this.user = user;
      }
      auth.accept();
    };
    const check = (token: string | undefined) => void this.verify(token ?? '', target, login.user).then((user) => decide(user));
    if (auth.method === 'publickey') {
      void this.verifyKey(auth, target, login.user).then((user) => decide(user, !auth.signature), () => decide(null));
    } else if (auth.method === 'password') check(auth.password);
    else if (auth.method === 'keyboard-interactive') {
      auth.prompt([{ prompt: 'Vigil token: ', echo: false }], 'Vigil', `Log in to ${target.config.name} with your Vigil token.`, (answers) => check(answers[0]));
    } else auth.reject(AUTH_METHODS);
  }

  /** The token's user when it is valid for this target (and names the user given, if any). */
  private async verify(token: string, target: SshTargetRuntime, wanted: string | undefined): Promise<string | null> {
    try {
      const claims = await this.ctx.verifier.verifyConnection(token.trim());
      if (claims.target !== target.config.name) throw new TokenError(`the token is for target ${claims.target}, not ${target.config.name}`);
      if (wanted !== undefined && wanted !== claims.user) throw new TokenError(`the token is ${claims.user}'s, not ${wanted}'s`);
      this.tokenId = claims.jti;
      return claims.user;
    } catch (err) {
      this.log.info({ err: (err as Error).message, target: target.config.name }, 'ssh login refused');
      const reason = err instanceof TokenError ? err.message : 'the Vigil token could not be verified';
      this.ctx.logins?.refused({ protocol: 'ssh', client: this.clientAddress, target: target.config.name, user: wanted, reason });
      return null;
    }
  }

  /** The key's owner when it is registered (and the signature, when given, is the key's). */
  private async verifyKey(auth: PublicKeyAuthContext, target: SshTargetRuntime, wanted: string | undefined): Promise<string | null> {
    const fingerprint = fingerprintOf(auth.key.data);
    const user = await this.ctx.keys?.userOf(fingerprint);
    if (!user || (wanted !== undefined && wanted !== user)) {
      this.log.info({ fingerprint, target: target.config.name }, 'ssh key not registered (for this user)');
      return null;
    }
    if (auth.signature) {
      const key = utils.parseKey(auth.key.data);
      if (!auth.blob || key instanceof Error || Array.isArray(key) || key.verify(auth.blob, auth.signature, auth.hashAlgo) !== true) {
        this.log.info({ fingerprint }, 'ssh key signature refused');
        this.ctx.logins?.refused({ protocol: 'ssh', client: this.clientAddress, target: target.config.name, user, reason: `the signature of key ${fingerprint} is not valid` });
        return null;
      }
    }
    return user;
  }

  private ready(): void {
    const target = this.target!;
    this.life.loggedIn(target.config, this.user, this.tokenId);
    if (!this.life.recordingAvailable()) {
      // Fail closed: no recording, no session. The client is told on its first channel.
      this.upstream = Promise.reject(new Error('the recording pipeline is unavailable and this target requires recording'));
      this.upstream.catch(() => undefined);
    } else {
      this.life.startRecording({ upstream: `${target.upstream.host}:${target.upstream.port}`, recording: target.config.recording, clientMasking: target.config.maskOutput });
      // Locked out, or a jit target without a grant: the client waits on its channel, or reads why.
      const admitted = this.life.admit({ pendingMs: parseDuration(target.config.approval.pendingTtl), notice: (line) => this.notice(line) }).then((refused) => {
        if (refused) throw new AccessRefused(refused.message, refused.reason);
      });
      this.upstream = admitted.then(() => connectUpstream(target.upstream));
      this.upstream.then((up) => {
        this.upstreamClient = up;
        up.on('error', (err: Error) => this.close('upstream_error', err.message));
        up.on('close', () => this.close('upstream_closed'));
        if (this.life.isClosed) up.end();
      }, (err: Error) => {
        const refused = err instanceof AccessRefused;
        this.log[refused ? 'info' : 'warn']({ err: err.message }, refused ? 'ssh session not admitted' : 'upstream ssh login failed');
        // The client reads the reason on its channel; the session ends once it is shown.
        setTimeout(() => this.close(refused ? err.reason : 'upstream_error', err.message), 2000).unref();
      });
    }
    const upstream = this.upstream;

    this.client.on('session', (accept) => {
      this.used = true;
      this.channelCount++;
      const number = this.channelCount - 1;
      bridgeSession(accept(), {
        number,
        upstream: () => upstream,
        emit: (type, data, masked) => this.life.emit(type, data, masked),
        masker: target.masker,
        guardrails: target.guardrails,
        maskClientOutput: target.config.maskOutput,
        throttle: this.ctx.outlet,
        logger: this.log.child({ channel: number }),
        countBytes: (up, down) => this.life.countBytes(up, down),
        denied: (request, detail) => this.denied(request, detail),
        onNotice: (write) => {
          this.notices.forEach(write);
          this.noticeWriters.add(write);
          return () => this.noticeWriters.delete(write);
        },
        hold: (command, rule, notice) => this.ctx.access.hold(
          { scope: 'statement', user: this.user, target: target.config.name, sessionId: this.id, statement: command, rule, client: this.clientAddress },
          parseDuration(target.config.approval.holdTimeout),
          { ...this.life.waitReport(), notice },
        ),
        opened: (ch) => this.channels.add(ch),
        closed: (ch) => this.channels.delete(ch),
      });
    });
    this.client.on('tcpip', (accept, reject, info) => {
      this.used = true;
      const where = `${info.destIP}:${info.destPort}`;
      if (!target.config.allowPortForwarding) {
        this.denied('direct-tcpip', `port forwarding to ${where} is not allowed for ${target.config.name}`);
        return reject();
      }
      void upstream.then((up) => {
        up.forwardOut(info.srcIP, info.srcPort, info.destIP, info.destPort, (err, remote) => {
          if (err) return reject();
          this.life.emit('ssh.forward', { direction: 'local', host: info.destIP, port: info.destPort });
          joinChannels(accept(), remote);
        });
      }, () => reject());
    });
    this.client.on('request', (accept, reject, name, info) => {
      this.used = true;
      const bind = info as { bindAddr?: string; bindPort?: number };
      if (name === 'tcpip-forward' && target.config.allowPortForwarding && bind.bindAddr !== undefined && bind.bindPort !== undefined) {
        void this.forwardRemote(upstream, bind.bindAddr, bind.bindPort).then((port) => accept?.(port), () => reject?.());
        return;
      }
      if (name === 'cancel-tcpip-forward' && target.config.allowPortForwarding) {
        void upstream.then((up) => up.unforwardIn(bind.bindAddr ?? '', bind.bindPort ?? 0, (err) => (err ? reject?.() : accept?.())), () => reject?.());
        return;
      }
      this.denied(name, name === 'tcpip-forward' ? `remote port forwarding is not allowed for ${target.config.name}` : undefined);
      reject?.();
    });
  }

  private notice(line: string): void {
    this.notices.push(line);
    for (const write of this.noticeWriters) write(line);
  }

  /** ssh -R: the target listens; each connection it gets is opened back to the client. */
  private async forwardRemote(upstream: Promise<SshClient>, bindAddr: string, bindPort: number): Promise<number> {
    const up = await upstream;
    if (!this.remoteForwarding) {
      this.remoteForwarding = true;
      up.on('tcp connection', (details, acceptUp, rejectUp) => {
        this.client.forwardOut(details.destIP, details.destPort, details.srcIP, details.srcPort, (err, local) => {
          if (err) return rejectUp();
          joinChannels(local, acceptUp());
        });
      });
    }
    const port = await new Promise<number>((resolve, reject) => up.forwardIn(bindAddr, bindPort, (err, chosen) => (err ? reject(err) : resolve(chosen || bindPort))));
    this.life.emit('ssh.forward', { direction: 'remote', host: bindAddr, port });
    return port;
  }

  private denied(request: string, detail?: string): void {
    this.log.info({ request, detail }, 'ssh request refused');
    this.life.emit('ssh.denied', { request, ...(detail ? { detail } : {}) });
  }

  /** Ends the session: the reason is written on each open terminal, then everything closes. */
  fail(reason: SessionEndReason, message: string): void {
    this.life.fail(reason, message);
  }

  close(reason: SessionEndReason, message?: string): void {
    this.life.close(reason, message);
  }
}

/** Two forwarded channels joined both ways; an error on either closes both. */
function joinChannels(a: ServerChannel | ClientChannel, b: ServerChannel | ClientChannel): void {
  a.pipe(b).pipe(a);
  a.on('error', () => b.close());
  b.on('error', () => a.close());
}
