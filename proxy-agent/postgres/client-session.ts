// One client connection through the agent, from the first byte to the close:
//   startup:    SSLRequest/GSSENCRequest are answered (TLS only when the listener has it),
//               CancelRequest is mapped to the upstream key and forwarded, StartupMessage moves on;
//   auth:       the client's password is a Vigil token, verified offline with the hub's key;
//   connecting: the agent logs into the upstream with the target's own credentials;
//   relay:      bytes flow both ways as they come, and the recorder builds events beside them
//               (with guardrails, client messages are read before they go on: guardrail-gate.ts).
// Any failure ends this connection only, with a FATAL ErrorResponse the client prints.
import crypto from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import type { Logger } from '../../common/log.ts';
import type { SessionEndReason } from '../../common/events/index.ts';
import type { PostgresTarget } from '../../common/config/schema.ts';
import type { TokenVerifier } from '../../common/tokens.ts';
import { TokenError } from '../../common/tokens.ts';
import type { Masker } from '../masking/masker.ts';
import { SessionEventSink, type RecordingOutlet } from '../recording/session-event-sink.ts';
import { ClientParser } from './protocol/client-parser.ts';
import { passwordText, type ClientMessage, type StartupPacket } from './protocol/client-messages.ts';
import { BackendFramer } from './protocol/backend-framer.ts';
import type { GuardrailDecision, GuardrailPolicy } from '../guardrails/guardrail-policy.ts';
import { parseDuration } from '../../common/config/schema.ts';
import { GuardrailGate } from './guardrail-gate.ts';
import * as server from './protocol/server-messages.ts';
import { PostgresRecorder } from './recording/postgres-recorder.ts';
import { cancelUpstream, loginUpstream, UpstreamError, type UpstreamSettings } from './upstream-login.ts';
import type { CancelRegistry } from './cancel-registry.ts';
import { grantEndEvent, type AccessGate, type Admission } from '../access/access-gate.ts';
import type { AccessState } from '../../common/control/control-bus.ts';

export interface PostgresTargetRuntime {
  config: PostgresTarget;
  upstream: UpstreamSettings;
  masker: Masker;
  tlsContext?: tls.SecureContext;
  /** The target's guardrails (without rules the relay forwards bytes as they come). */
  guardrails?: GuardrailPolicy;
}

export interface SessionContext {
  agentId: string;
  target: PostgresTargetRuntime;
  verifier: TokenVerifier;
  outlet: RecordingOutlet;
  cancels: CancelRegistry;
  /** Grants and requests for `access: jit` targets. */
  access: AccessGate;
  logger: Logger;
  /** Called once when the session is over. */
  onClosed(session: ClientSession): void;
}

type Phase = 'startup' | 'auth' | 'connecting' | 'relay' | 'closed';

const STARTUP_TIMEOUT_MS = 30_000;
/** What a client may send behind a held statement before its socket is paused (read again after). */
const HELD_BUFFER_MAX = 8 * 1024 * 1024;

export class ClientSession {
  readonly id = crypto.randomUUID();
  /** The access grant this session runs under (jit targets). */
  grant: Admission | null = null;
  private phase: Phase = 'startup';
  /** Guarded sessions: client messages read and waiting to be reviewed and forwarded, in order. */
  private readonly gated: { msg: ClientMessage; raw: Buffer }[] = [];
  /** A statement is held for approval: the line waits. */
  private holding = false;
  private gatedBytes = 0;
  private user = '';
  /** Cancels the statement the target is running for this session (CancelRequest). */
  private cancelRunning: (() => Promise<void>) | null = null;
  private heldQuerySeq: number | undefined;
  private readonly gone: Promise<void>;
  private markGone!: () => void;
  private downstream: net.Socket;
  private upstream: net.Socket | null = null;
  private readonly parser = new ClientParser();
  private readonly gate: GuardrailGate | null;
  private readonly framer = new BackendFramer();
  private recorder: PostgresRecorder | null = null;
  private sink: SessionEventSink | null = null;
  private startupParams: Record<string, string> = {};
  private early: { msg: ClientMessage; raw: Buffer }[] = [];
  private releaseCancelKey: (() => void) | null = null;
  private clientTerminated = false;
  private startedAt = Date.now();
  private bytesUp = 0;
  private bytesDown = 0;
  private recorderFailed = false;
  private readonly startupTimer: NodeJS.Timeout;
  private readonly log: Logger;
  readonly clientAddress: string;

  constructor(socket: net.Socket, private readonly ctx: SessionContext) {
    this.gone = new Promise((resolve) => (this.markGone = resolve));
    this.gate = ctx.target.guardrails?.empty === false ? new GuardrailGate(ctx.target.guardrails) : null;
    this.downstream = socket;
    this.clientAddress = `${socket.remoteAddress}:${socket.remotePort}`;
    this.log = ctx.logger.child({ session: this.id, target: ctx.target.config.name, client: this.clientAddress });
    socket.setNoDelay(true);
    this.attachDownstream(socket);
    this.startupTimer = setTimeout(() => this.fail('protocol_error', '08P01', 'startup did not complete in time'), STARTUP_TIMEOUT_MS);
  }

  get recordingRequired(): boolean {
    return this.ctx.target.config.recording === 'required';
  }

  /** The last seq this session's recording has emitted (0 before it has one). */
  get lastSeq(): number {
    return this.sink?.lastSeq ?? 0;
  }

  get isRelaying(): boolean {
    return this.phase === 'relay';
  }

  // ---- downstream ---------------------------------------------------------------------------

  private attachDownstream(socket: net.Socket): void {
    socket.on('data', this.onDownstreamData);
    socket.on('error', (err) => {
      this.log.debug({ err: err.message }, 'client socket error');
      this.close('client_disconnect');
    });
    socket.on('close', () => this.close(this.clientTerminated ? 'client_terminate' : 'client_disconnect'));
  }

  private readonly onDownstreamData = (chunk: Buffer): void => {
    if (this.phase === 'relay') {
      this.bytesUp += chunk.length;
      if (this.gate) return this.gatedClientData(chunk);
      this.forward(this.downstream, this.upstream!, chunk);
      this.observeClient(chunk);
      return;
    }
    try {
      this.parser.feed(chunk, this.onPreRelayMessage);
    } catch (err) {
      this.fail('protocol_error', '08P01', `invalid message: ${(err as Error).message}`);
    }
  };

  /** Client messages before the relay starts: the handshake, then whatever a client pipelines. */
  private readonly onPreRelayMessage = (msg: ClientMessage | StartupPacket, raw: Buffer): void => {
    switch (this.phase) {
      case 'startup':
        return this.onStartupPacket(msg as StartupPacket);
      case 'auth':
        if (msg.type !== 'password') return this.fail('protocol_error', '08P01', `expected a password message, got ${msg.type}`);
        this.phase = 'connecting';
        void this.authenticate(passwordText(msg));
        return;
      case 'connecting':
        this.early.push({ msg: msg as ClientMessage, raw: Buffer.from(raw) });
        return;
      default:
        return;
    }
  };

  private onStartupPacket(packet: StartupPacket): void {
    switch (packet.type) {
      case 'ssl-request': {
        const context = this.ctx.target.tlsContext;
        if (context && this.parser.pendingBytes().length) {
          return this.fail('protocol_error', '08P01', 'received unencrypted data after SSL request');
        }
        this.downstream.write(server.sslResponse(Boolean(context)));
        if (context) this.upgradeToTls(context);
        return;
      }
      case 'gssenc-request':
        this.downstream.write(server.sslResponse(false));
        return;
      case 'cancel-request': {
        const target = this.ctx.cancels.lookup(packet.processId, packet.secretKey);
        // As PostgreSQL does: no answer either way, so keys cannot be probed.
        if (target) target.cancel().catch((err) => this.log.warn({ err: err.message }, 'forwarding a cancel request failed'));
        this.phase = 'closed';
        clearTimeout(this.startupTimer);
        this.downstream.end();
        this.ctx.onClosed(this);
        return;
      }
      case 'startup':
        if (!packet.params.user) return this.fail('auth_failed', '28000', 'no user name in the startup message');
        // Guardrails read SQL as UTF-8: the server must read the same text.
        if (this.gate && !utf8Session(packet.params)) {
          return this.fail('protocol_error', '22023', 'this target has guardrails, which read SQL as UTF-8: connect with client_encoding UTF8');
        }
        this.startupParams = packet.params;
        this.phase = 'auth';
        this.downstream.write(server.authenticationCleartextPassword());
        return;
    }
  }

  private upgradeToTls(context: tls.SecureContext): void {
    const plain = this.downstream;
    plain.off('data', this.onDownstreamData);
    plain.removeAllListeners('close');
    plain.removeAllListeners('error');
    const secure = new tls.TLSSocket(plain, { isServer: true, secureContext: context });
    this.downstream = secure;
    this.attachDownstream(secure);
  }

  // ---- authentication and upstream login ----------------------------------------------------

  private async authenticate(token: string): Promise<void> {
    const { config, upstream } = this.ctx.target;
    let user: string;
    try {
      const claims = await this.ctx.verifier.verifyConnection(token);
      if (claims.target !== config.name) throw new TokenError(`the Vigil token is for target "${claims.target}", not "${config.name}"`);
      if (claims.user !== this.startupParams.user) throw new TokenError(`the Vigil token was issued to "${claims.user}", not "${this.startupParams.user}"`);
      user = claims.user;
    } catch (err) {
      const message = err instanceof TokenError ? err.message : 'the Vigil token could not be verified';
      this.log.info({ reason: message }, 'client authentication refused');
      return this.fail('auth_failed', '28P01', message);
    }
    if (this.recordingRequired && !this.ctx.outlet.hasRoom()) {
      return this.fail('recording_unavailable', '57P03', `target "${config.name}" requires recording and the recording pipeline is unavailable; try again later`);
    }
    if (config.access === 'jit' && !(await this.admit(user))) return;
    try {
      const session = await loginUpstream(upstream, this.startupParams);
      if (this.phase === 'closed') {
        session.socket.destroy();
        return;
      }
      this.upstream = session.socket;
      const upstreamKey = session.key;
      const cancel = async () => {
        if (upstreamKey) await cancelUpstream(upstream, upstreamKey);
      };
      this.cancelRunning = cancel;
      const registration = this.ctx.cancels.register({ cancel });
      this.releaseCancelKey = registration.release;
      this.startRelay(user, session.greeting, session.readyForQuery, registration.key, session.leftover);
    } catch (err) {
      const e = err instanceof UpstreamError ? err : new UpstreamError(`the target failed: ${(err as Error).message}`);
      this.log.warn({ err: e.message }, 'upstream login failed');
      this.fail('upstream_error', e.sqlstate, e.message);
    }
  }

  /** A jit target: in only under a grant in force; otherwise the client learns which request to wait for. */
  private async admit(user: string): Promise<boolean> {
    const name = this.ctx.target.config.name;
    const check = await this.ctx.access.check(user, name, { client: this.clientAddress, sessionId: this.id });
    if (this.phase === 'closed') return false;
    if ('admitted' in check) {
      this.grant = check.admitted;
      return true;
    }
    if ('refused' in check) this.fail('access_refused', '57P03', check.refused);
    else this.fail('access_refused', '28000', `access to ${name} needs approval: request #${check.pending} is waiting for an approver; connect again once it is granted`);
    return false;
  }

  private startRelay(user: string, greeting: Buffer[], readyForQuery: Buffer, key: { processId: number; secretKey: Buffer }, leftover: Buffer): void {
    clearTimeout(this.startupTimer);
    this.user = user;
    const { config, masker } = this.ctx.target;
    this.sink = new SessionEventSink(
      { sessionId: this.id, user, target: config.name, protocol: 'postgres', connection: { client: this.clientAddress, agent: this.ctx.agentId } },
      this.ctx.outlet,
    );
    this.recorder = new PostgresRecorder(this.sink, masker, {
      maxRows: config.maxRows,
      maxCopyBytes: config.maxCopyBytes,
      clientMasking: config.masking.client,
    });
    this.sink.emit('session.start', {
      database: this.startupParams.database,
      ...(this.startupParams.application_name ? { applicationName: this.startupParams.application_name } : {}),
      upstream: `${this.ctx.target.upstream.host}:${this.ctx.target.upstream.port}/${this.ctx.target.upstream.database}`,
      recording: config.recording,
      clientMasking: config.masking.client,
    });
    if (this.grant) this.sink.emit('access', { action: 'granted', ...this.grant });

    const upstream = this.upstream!;
    upstream.on('data', this.onUpstreamData);
    upstream.on('error', (err) => {
      this.log.warn({ err: err.message }, 'upstream socket error');
      this.fail('upstream_error', '08006', `connection to the target failed: ${err.message}`);
    });
    upstream.on('close', () => this.close('upstream_closed'));

    this.downstream.write(Buffer.concat([server.authenticationOk(), ...greeting, server.backendKeyData(key.processId, key.secretKey), readyForQuery]));
    this.phase = 'relay';
    // What the client sent while the agent was logging in goes out now, in order.
    const early = this.early;
    this.early = [];
    if (this.gate) {
      // Reviewed like everything after it. A message not complete yet stays in the parser and is
      // reviewed whole when the rest arrives: nothing of it goes out before.
      for (const { msg, raw } of early) {
        this.gated.push({ msg: msg as ClientMessage, raw });
        this.gatedBytes += raw.length;
      }
      this.pumpGated();
    } else {
      const out = Buffer.concat([...early.map((e) => e.raw), this.parser.pendingBytes()]);
      if (out.length) upstream.write(out);
      for (const { msg } of early) this.onClientFrame(msg);
    }
    if (leftover.length) this.onUpstreamData(leftover);
  }

  // ---- relay --------------------------------------------------------------------------------

  private readonly onUpstreamData = (chunk: Buffer): void => {
    this.bytesDown += chunk.length;
    if (!this.ctx.target.config.masking.client && !this.gate) {
      // Recorded first: the events of a statement are in the outbox before its end reaches the
      // client, so an agent killed right after still has them (the decoder only reads the chunk).
      this.observeServer(chunk);
      this.ctx.outlet.commit();
      if (this.phase !== 'closed') this.forward(this.upstream!, this.downstream, chunk);
      return;
    }
    const out: Buffer[] = [];
    this.maskedOut = out;
    this.observeServer(chunk);
    this.maskedOut = null;
    this.ctx.outlet.commit();
    if (out.length) this.forward(this.upstream!, this.downstream, out.length === 1 ? out[0] : Buffer.concat(out));
  };

  /** Writes with backpressure: a slow reader pauses the other side instead of growing memory. */
  private forward(from: net.Socket, to: net.Socket, chunk: Buffer): void {
    if (!to.write(chunk)) {
      from.pause();
      to.once('drain', () => from.resume());
    }
  }

  /**
   * With guardrails: each message is read before it goes on, and a denied Query or Parse is
   * replaced (guardrail-gate.ts). A held one stops the line: it and everything after it wait in
   * order until approvers decide. The client is still read meanwhile, into the line; only past
   * HELD_BUFFER_MAX bytes waiting is its socket paused.
   */
  private gatedClientData(chunk: Buffer): void {
    try {
      // Copies: the parser may reuse what it handed out, and a held line waits.
      this.parser.feed(chunk, (msg, raw) => {
        this.gated.push({ msg: msg as ClientMessage, raw: Buffer.from(raw) });
        this.gatedBytes += raw.length;
      });
    } catch (err) {
      this.fail('protocol_error', '08P01', `invalid message: ${(err as Error).message}`);
      return;
    }
    if (this.holding && this.gatedBytes > HELD_BUFFER_MAX) this.downstream.pause();
    this.pumpGated();
  }

  private pumpGated(): void {
    if (this.holding || this.phase !== 'relay') return;
    const out: Buffer[] = [];
    while (this.gated.length > 0) {
      const { msg, raw } = this.gated.shift()!;
      this.gatedBytes -= raw.length;
      const passed = this.reviewed(msg, raw);
      if (Buffer.isBuffer(passed)) {
        out.push(passed);
        continue;
      }
      this.holding = true;
      void this.holdStatement(msg, raw, passed.hold).then((send) => {
        this.holding = false;
        if (this.phase !== 'relay') return;
        this.upstream!.write(send);
        if (this.downstream.isPaused()) this.downstream.resume();
        this.pumpGated();
      });
      break;
    }
    if (out.length) this.forward(this.downstream, this.upstream!, out.length === 1 ? out[0] : Buffer.concat(out));
  }

  /** A statement an `approve` rule holds: what goes out once approvers decided (it, or a refusal). */
  private async holdStatement(msg: ClientMessage, raw: Buffer, decision: GuardrailDecision & { sql: string }): Promise<Buffer> {
    const { config, masker } = this.ctx.target;
    const statement = masker.maskText(decision.statement ?? decision.sql);
    const rule = decision.rule ?? '';
    this.log.info({ rule }, 'statement held for approval');
    const refusal = await this.ctx.access.hold(
      { scope: 'statement', user: this.user, target: config.name, sessionId: this.id, statement: statement.text, rule, client: this.clientAddress },
      parseDuration(config.approval.holdTimeout),
      { record: (data) => this.sink?.emit('access', data), cancelled: this.gone, ...(msg.type === 'query' ? { querySeq: this.heldQuerySeq } : {}) },
    );
    if (refusal === null) return raw;
    return this.gate!.refuse(msg, `Vigil guardrail ${rule} held this statement and it was not approved: ${refusal}`);
  }

  /** One client message past the guardrails: what to forward for it (recorded on the way), or hold it. */
  private reviewed(client: ClientMessage, raw: Buffer): Buffer | { hold: GuardrailDecision & { sql: string } } {
    const verdict = this.gate!.review(client);
    this.onClientFrame(client);
    if (!verdict) return raw;
    const decision = verdict.kind === 'deny' ? verdict.denial.decision : verdict.decision;
    const statement = this.ctx.target.masker.maskText(decision.statement ?? (verdict.kind === 'deny' ? verdict.denial.sql : verdict.sql));
    if (this.sink) {
      if (client.type === 'query') this.heldQuerySeq = this.sink.lastSeq;
      this.sink.emit('guardrail.hit', {
        rule: decision.rule ?? '',
        action: verdict.kind === 'deny' ? 'deny' : 'approve',
        ...(client.type === 'query' ? { querySeq: this.heldQuerySeq } : {}),
        statement: statement.text,
      }, statement.counts);
    }
    if (verdict.kind === 'hold') return { hold: { ...decision, sql: verdict.sql } };
    this.log.info({ rule: decision.rule }, 'statement denied by a guardrail');
    return verdict.replacement;
  }

  private observeClient(chunk: Buffer): void {
    try {
      this.parser.feed(chunk, this.onClientFrame);
    } catch (err) {
      this.fail('protocol_error', '08P01', `invalid message: ${(err as Error).message}`);
    }
  }

  private observeServer(chunk: Buffer): void {
    try {
      this.framer.push(chunk, this.onServerFrame);
    } catch (err) {
      this.fail('upstream_error', '08P01', `the target sent an invalid message: ${(err as Error).message}`);
    }
  }

  // The frame handlers are bound once: the relay calls them for every message, so they allocate
  // no closures. A recorder fault never breaks the relay: it is logged once and the session goes
  // on unrecorded.
  private readonly onClientFrame = (msg: ClientMessage | StartupPacket): void => {
    if (msg.type === 'terminate') this.clientTerminated = true;
    if (this.recorderFailed) return;
    try {
      this.recorder!.onClientMessage(msg as ClientMessage);
    } catch (err) {
      this.recordingFailed(err);
    }
  };

  /** With client masking, `maskedOut` collects what to forward instead of the original chunk. */
  private maskedOut: Buffer[] | null = null;

  private readonly onServerFrame = (code: number, original: Buffer): void => {
    // The server's error for a denied statement says why, for the client and the recording alike.
    const message = this.gate?.rewrite(code, original) ?? original;
    let replacement: Buffer | undefined = message === original ? undefined : message;
    if (!this.recorderFailed) {
      try {
        replacement = this.recorder!.onServerMessage(code, message) ?? replacement;
      } catch (err) {
        this.recordingFailed(err);
      }
    }
    this.maskedOut?.push(replacement ?? message);
  };

  private recordingFailed(err: unknown): void {
    this.recorderFailed = true;
    this.log.error({ err: (err as Error).stack }, 'recording failed; the session continues unrecorded from here');
  }

  // ---- ending -------------------------------------------------------------------------------

  /** Ended from outside (a kill order, the grant's end): FATAL admin_shutdown with who and why, then close. */
  kill(message: string, reason: SessionEndReason = 'killed', access?: AccessState): void {
    if (this.phase === 'closed') return;
    const ended = grantEndEvent(this.grant, reason, access);
    if (ended) this.sink?.emit('access', ended);
    // A statement begun before the decision must not run on to its end (and commit) after it: the
    // target stops reading the socket while it runs, so the Terminate alone would come too late.
    // (Only when something may be running: a cancel costs the target a connection of its own.)
    const idle = !this.recorderFailed && this.recorder?.idle === true;
    if (!idle) this.cancelRunning?.().catch((err: Error) => this.log.warn({ err: err.message }, 'cancelling the running statement failed'));
    this.fail(reason, '57P01', message);
  }

  /** Ends the session with a FATAL message to the client. */
  fail(reason: SessionEndReason, sqlstate: string, message: string): void {
    if (this.phase === 'closed') return;
    if (!this.downstream.destroyed && this.downstream.writable) {
      this.downstream.write(server.errorResponse({ severity: 'FATAL', code: sqlstate, message }));
    }
    this.close(reason, message);
  }

  close(reason: SessionEndReason, message?: string): void {
    if (this.phase === 'closed') return;
    this.phase = 'closed';
    this.markGone();
    // After the client's Terminate the upstream closes too; whichever socket closes first, the
    // client ended the session.
    if (this.clientTerminated && (reason === 'upstream_closed' || reason === 'client_disconnect')) reason = 'client_terminate';
    clearTimeout(this.startupTimer);
    this.releaseCancelKey?.();
    this.downstream.end();
    this.downstream.destroySoon?.();
    setTimeout(() => this.downstream.destroy(), 1000).unref();
    if (this.upstream) {
      // Nothing more goes to the client or the recording (a cancelled statement's error, say).
      this.upstream.off('data', this.onUpstreamData);
      if (!this.upstream.destroyed) {
        // The client's own Terminate was already relayed; otherwise say goodbye for it.
        if (this.clientTerminated) this.upstream.end();
        else this.upstream.end(TERMINATE);
      }
      setTimeout(() => this.upstream?.destroy(), 1000).unref();
    }
    this.sink?.end(reason, message, this.startedAt, { down: this.bytesDown, up: this.bytesUp });
    this.ctx.onClosed(this);
  }
}

const TERMINATE = Buffer.from([0x58, 0, 0, 0, 4]); // X

/**
 * The client asks for no encoding but UTF-8. (Left to the server, the default is the database's
 * encoding; the encodings that could hide SQL from a UTF-8 reader, SJIS, GBK, BIG5 and the like,
 * exist only on the client side.)
 */
function utf8Session(params: Record<string, string>): boolean {
  const encoding = params.client_encoding?.replace(/[-_]/g, '').toLowerCase();
  if (encoding !== undefined && encoding !== 'utf8' && encoding !== 'unicode') return false;
  // `options` may set it too (-c client_encoding=...).
  return !/client[_-]encoding/i.test(params.options ?? '');
}
