// One client connection through the agent, from the first byte to the close:
//   startup:    SSLRequest/GSSENCRequest are answered (TLS only when the listener has it),
//               CancelRequest is mapped to the upstream key and forwarded, StartupMessage moves on;
//   auth:       the client's password is a Vigil token, verified offline with the hub's key;
//   connecting: the agent logs into the upstream with the target's own credentials;
//   relay:      bytes flow both ways as they come, and the recorder builds events beside them
//               (with guardrails or client masking, client messages are read before they go
//               on: guardrail-gate.ts, client-masking/copy-gate.ts).
//               A message of any size PostgreSQL takes goes through as its bytes come; the
//               recorder reads a bounded stand-in of it (protocol/framer.ts).
// Any failure ends this connection only, with a FATAL ErrorResponse the client prints (a startup
// packet PostgreSQL would not even answer is not answered either).
import net from 'node:net';
import tls from 'node:tls';
import type { Logger } from '../../common/log.ts';
import type { SessionEndReason } from '../../common/events/index.ts';
import type { PostgresTarget } from '../../common/config/schema.ts';
import type { TokenVerifier } from '../../common/tokens.ts';
import { TokenError } from '../../common/tokens.ts';
import type { Masker } from '../masking/masker.ts';
import type { TableColumns } from './catalog/table-columns.ts';
import { StatementMasker } from './statement-masker.ts';
import type { SessionEventSink } from '../recording/session-event-sink.ts';
import { followThrottle, ReadValve } from '../read-valve.ts';
import { ClientParser } from './protocol/client-parser.ts';
import { ClientCode, passwordText, StartupCode, type ClientMessage, type StartupPacket } from './protocol/client-messages.ts';
import { BackendFramer } from './protocol/backend-framer.ts';
import { BackendCode } from './protocol/backend-codes.ts';
import { ProtocolError, UnsupportedProtocolError } from './protocol/errors.ts';
import type { MessageCut } from './protocol/message-cutter.ts';
import { NotificationPids } from './notification-pids.ts';
import { readStartupSettings, StartupRefusal, utf8Session } from './startup-settings.ts';
import type { GuardrailDecision, GuardrailPolicy } from '../guardrails/guardrail-policy.ts';
import { parseDuration } from '../../common/config/schema.ts';
import { GuardrailGate } from './guardrail-gate.ts';
import { StatementRefusals } from './statement-refusals.ts';
import { RowLimiter, type LimitedRun, type RowLimitHost } from './row-limit.ts';
import { approverStatement } from './row-count.ts';
import { ClientCopyGate } from './client-masking/copy-gate.ts';
import * as server from './protocol/server-messages.ts';
import { PostgresRecorder } from './recording/postgres-recorder.ts';
import { cancelUpstream, loginUpstream, UpstreamError, type UpstreamSettings } from './upstream-login.ts';
import type { CancelRegistry } from './cancel-registry.ts';
import { SessionLifecycle, type SessionServices } from '../session/session-lifecycle.ts';

export interface PostgresTargetRuntime {
  config: PostgresTarget;
  upstream: UpstreamSettings;
  masker: Masker;
  /** The target's table columns, for statements that write without a column list (null: not looked up). */
  tables: TableColumns | null;
  tlsContext?: tls.SecureContext;
  /** The target's guardrails (without rules the relay forwards bytes as they come). */
  guardrails?: GuardrailPolicy;
}

export interface SessionContext extends SessionServices {
  target: PostgresTargetRuntime;
  verifier: TokenVerifier;
  cancels: CancelRegistry;
  /**
   * Upstream backend pid -> the pid its client was given, for every session of this target (the
   * listener's), so a notification from any of them names the pid its client knows.
   */
  clientPids?: Map<number, number>;
}

type Phase = 'startup' | 'auth' | 'connecting' | 'relay' | 'closed';

const STARTUP_TIMEOUT_MS = 30_000;
/** What a client may send behind a held statement (or during login) before its socket is paused (read again after). */
const HELD_BUFFER_MAX = 8 * 1024 * 1024;
/** Guardrails read a statement whole: up to this size; a longer one is refused (built-in rule `statement-size`). */
const GUARDED_STATEMENT_MAX = 16 * 1024 * 1024;
/** With client masking a row is masked whole up to this size; past it, values over the value limit are withheld. */
const MASKED_ROW_MAX = 16 * 1024 * 1024;
const STATEMENT_CODES = new Set<number>([ClientCode.Query, ClientCode.Parse, ClientCode.FunctionCall]);

/**
 * A client message read before it goes on (with guardrails, or while the login is under way): a
 * whole message (msg and raw), a piece of a streamed one (raw only: passed on as it is), a
 * streamed one read (msg only: recorded), or a streamed statement the guardrails cannot read
 * whole (refused, with why).
 */
interface Held {
  msg?: ClientMessage;
  raw?: Buffer;
  refuse?: string;
}

export class ClientSession {
  /** Who, admission, recording and end (shared with every protocol). */
  readonly life: SessionLifecycle;
  private phase: Phase = 'startup';
  /** Client messages read and waiting to be reviewed (guardrails) and forwarded, in order. */
  private readonly gated: Held[] = [];
  /** A statement is held for approval: the line waits. */
  private holding = false;
  private gatedBytes = 0;
  /** Cancels the statement the target is running for this session (CancelRequest). */
  private cancelRunning: (() => Promise<void>) | null = null;
  private heldQuerySeq: number | undefined;
  private downstream: net.Socket;
  private upstream: net.Socket | null = null;
  /** Who stops reading each socket, and why (a full write buffer, a held statement, the spool). */
  private downValve: ReadValve;
  private upValve: ReadValve | null = null;
  private unfollowThrottle: (() => void) | null = null;
  private readonly parser: ClientParser;
  private readonly gate: GuardrailGate | null;
  /** Statements the agent answers with an error in place of the target's (guardrails, client masking). */
  private readonly refusals: StatementRefusals | null;
  /** With `maxRows` rules: writes whose count decides (row-limit.ts). */
  private readonly limiter: RowLimiter | null;
  /** With client masking: COPY TO STDOUT statements read before they go on (set with the recorder). */
  private copyGate: ClientCopyGate | null = null;
  /** Client messages are read before they go on (guardrails or client masking), not only beside the relay. */
  private readonly reviewing: boolean;
  private readonly framer: BackendFramer;
  private pids: NotificationPids | null = null;
  private upstreamPid: number | null = null;
  private clientPid = 0;
  private recorder: PostgresRecorder | null = null;
  /** Masks what the session's statements write as secrets (set with the recorder). */
  private statements: StatementMasker | null = null;
  private sink: SessionEventSink | null = null;
  private startupParams: Record<string, string> = {};
  /** What the client may set on the target (startup-settings.ts). */
  private settings: Record<string, string> = {};
  private releaseCancelKey: (() => void) | null = null;
  private clientTerminated = false;
  private recorderFailed = false;
  private readonly startupTimer: NodeJS.Timeout;
  private readonly log: Logger;
  readonly clientAddress: string;

  constructor(socket: net.Socket, private readonly ctx: SessionContext) {
    const { maxValueBytes, masking } = ctx.target.config;
    const guarded = ctx.target.guardrails?.empty === false;
    this.reviewing = guarded || masking.client;
    this.refusals = this.reviewing ? new StatementRefusals() : null;
    this.gate = guarded ? new GuardrailGate(ctx.target.guardrails!, this.refusals!) : null;
    this.limiter = guarded && ctx.target.config.guardrails.some((g) => g.maxRows !== undefined) ? new RowLimiter(this.rowLimitHost()) : null;
    this.parser = new ClientParser({ keepValueBytes: maxValueBytes, ...(this.reviewing ? { wholeStatementBytes: GUARDED_STATEMENT_MAX } : {}) });
    this.framer = new BackendFramer({
      keepValueBytes: maxValueBytes,
      ...(masking.client ? { wholeMessageBytes: (code: number) => (code === BackendCode.DataRow ? MASKED_ROW_MAX : 1024 * 1024) } : {}),
    });
    this.downstream = socket;
    this.downValve = new ReadValve(socket);
    this.clientAddress = `${socket.remoteAddress}:${socket.remotePort}`;
    const { config } = ctx.target;
    this.life = new SessionLifecycle({
      protocol: 'postgres',
      target: config,
      clientAddress: this.clientAddress,
      ending: {
        farewell: (reason, message, code) => this.farewell(reason, message, code),
        interrupt: () => this.interrupt(),
        teardown: (reason) => this.teardown(reason),
      },
    }, ctx);
    this.log = this.life.log;
    socket.setNoDelay(true);
    this.attachDownstream(socket);
    this.startupTimer = setTimeout(() => this.fail('protocol_error', '08P01', 'startup did not complete in time'), STARTUP_TIMEOUT_MS);
  }

  get id(): string {
    return this.life.id;
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
      this.life.countBytes(chunk.length, 0);
      if (this.reviewing) return this.gatedClientData(chunk);
      this.downValve.forward(this.upstream!, chunk);
      this.observeClient(chunk);
      return;
    }
    try {
      this.parser.feed(chunk, this.onPreRelayMessage, this.onPreRelayRaw);
    } catch (err) {
      this.preRelayFailed(err as Error);
    }
  };

  /** Client messages before the relay starts: the handshake, then whatever a client pipelines. */
  private readonly onPreRelayMessage = (msg: ClientMessage | StartupPacket, raw: Buffer, cut: MessageCut | null): void => {
    switch (this.phase) {
      case 'startup':
        return this.onStartupPacket(msg as StartupPacket);
      case 'auth':
        if (msg.type !== 'password') return this.fail('protocol_error', '08P01', `expected a password message, got ${msg.type}`);
        this.phase = 'connecting';
        void this.authenticate(passwordText(msg));
        return;
      case 'connecting':
        // Held in order until the relay starts (the guardrails review them then).
        return this.holdClientMessage(msg as ClientMessage, raw, cut);
      default:
        return;
    }
  };

  private readonly onPreRelayRaw = (bytes: Buffer, code: number): void => {
    if (this.phase === 'connecting') this.holdClientRaw(bytes, code);
  };

  /**
   * A startup packet PostgreSQL would not answer (a length it cannot frame, a malformed cancel
   * request) is not answered; one asking for another protocol is answered as PostgreSQL answers.
   */
  private preRelayFailed(err: Error): void {
    if (this.phase === 'startup' && err instanceof ProtocolError) {
      if (err.quiet) {
        this.log.debug({ err: err.message }, 'invalid startup packet: closed without an answer, as PostgreSQL does');
        return this.close('protocol_error', err.message);
      }
      if (err instanceof UnsupportedProtocolError) {
        this.downstream.write(err.version >>> 16 < 3
          ? server.protocol2Error(err.message)
          : server.errorResponse({ severity: 'FATAL', code: '0A000', message: err.message }));
        return this.close('protocol_error', err.message);
      }
      return this.fail('protocol_error', '08P01', err.message);
    }
    this.fail('protocol_error', '08P01', `invalid message: ${err.message}`);
  }

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
        // Not a session: nothing is recorded, the socket closes.
        this.close('client_disconnect');
        return;
      }
      case 'startup': {
        if (!packet.params.user) return this.fail('auth_failed', '28000', 'no PostgreSQL user name specified in startup packet');
        const { config } = this.ctx.target;
        const admitted = this.ctx.logins?.admit({ protocol: 'postgres', client: this.clientAddress, target: config.name, user: packet.params.user });
        if (admitted && !admitted.ok) {
          return this.fail('auth_failed', '28000', `too many failed logins from this address; try again in ${admitted.retryAfterSeconds} s`);
        }
        let read: ReturnType<typeof readStartupSettings>;
        try {
          read = readStartupSettings(packet.params, config.startupSettings, config.name);
        } catch (err) {
          if (!(err instanceof StartupRefusal)) throw err;
          this.log.info({ reason: err.message }, 'start-up setting refused');
          return this.fail('protocol_error', err.sqlstate, err.message);
        }
        // Guardrails read SQL as UTF-8: the server must read the same text.
        if (this.gate && !utf8Session(read.settings)) {
          return this.fail('protocol_error', '22023', 'this target has guardrails, which read SQL as UTF-8: connect with client_encoding UTF8');
        }
        this.startupParams = packet.params;
        this.settings = read.settings;
        this.phase = 'auth';
        // As PostgreSQL 15 does: a newer 3.x or `_pq_.` options get protocol 3.0 named back.
        const negotiate = (packet.protocolVersion & 0xffff) > 0 || read.protocolOptions.length > 0;
        this.downstream.write(negotiate
          ? Buffer.concat([server.negotiateProtocolVersion(StartupCode.ProtocolV3, read.protocolOptions), server.authenticationCleartextPassword()])
          : server.authenticationCleartextPassword());
        return;
      }
    }
  }

  private upgradeToTls(context: tls.SecureContext): void {
    const plain = this.downstream;
    plain.off('data', this.onDownstreamData);
    plain.removeAllListeners('close');
    plain.removeAllListeners('error');
    const secure = new tls.TLSSocket(plain, { isServer: true, secureContext: context });
    this.downstream = secure;
    this.downValve = new ReadValve(secure);
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
      this.life.loggedIn(config, user, claims.jti);
    } catch (err) {
      const message = err instanceof TokenError ? err.message : 'the Vigil token could not be verified';
      this.log.info({ reason: message }, 'client authentication refused');
      this.ctx.logins?.refused({ protocol: 'postgres', client: this.clientAddress, target: config.name, user: this.startupParams.user, reason: message });
      return this.fail('auth_failed', '28P01', message);
    }
    if (!this.life.recordingAvailable()) {
      return this.fail('recording_unavailable', '57P03', `target "${config.name}" requires recording and the recording pipeline is unavailable; try again later`);
    }
    // Locked out, or a jit target without a grant: psql is told which request to wait for.
    const refused = await this.life.admit();
    if (refused) return this.fail(refused.reason, refused.kind === 'unavailable' ? '57P03' : '28000', refused.message);
    try {
      const session = await loginUpstream(upstream, this.settings);
      if (this.phase === 'closed') {
        session.socket.destroy();
        return;
      }
      this.upstream = session.socket;
      const upstreamKey = session.key;
      this.upstreamPid = upstreamKey?.processId ?? null;
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

  private startRelay(user: string, greeting: Buffer[], readyForQuery: Buffer, key: { processId: number; secretKey: Buffer }, leftover: Buffer): void {
    clearTimeout(this.startupTimer);
    const { config, masker, tables } = this.ctx.target;
    this.statements = new StatementMasker(masker, tables);
    if (config.masking.client) this.copyGate = new ClientCopyGate(this.statements, tables);
    this.sink = this.life.startRecording({
      database: this.startupParams.database,
      ...(this.settings.application_name ? { applicationName: this.settings.application_name } : {}),
      upstream: `${this.ctx.target.upstream.host}:${this.ctx.target.upstream.port}/${this.ctx.target.upstream.database}`,
      recording: config.recording,
      clientMasking: config.masking.client,
    });
    this.recorder = new PostgresRecorder(this.sink, this.statements, {
      maxRows: config.maxRows,
      maxCopyBytes: config.maxCopyBytes,
      maxValueBytes: config.maxValueBytes,
      clientMasking: config.masking.client,
    });
    this.clientPid = key.processId;
    if (this.upstreamPid !== null) {
      const own = this.upstreamPid;
      this.ctx.clientPids?.set(own, key.processId);
      this.pids = new NotificationPids((pid) => (pid === own ? key.processId : this.ctx.clientPids?.get(pid)));
    }

    const upstream = this.upstream!;
    this.upValve = new ReadValve(upstream);
    // Both ways: results make events, and so do the client's statements (a pipelined flood).
    this.unfollowThrottle = followThrottle(this.ctx.outlet, [this.downValve, this.upValve]);
    upstream.on('data', this.onUpstreamData);
    upstream.on('error', (err) => {
      this.log.warn({ err: err.message }, 'upstream socket error');
      this.fail('upstream_error', '08006', `connection to the target failed: ${err.message}`);
    });
    upstream.on('close', () => this.close('upstream_closed'));

    this.downstream.write(Buffer.concat([server.authenticationOk(), ...greeting, server.backendKeyData(key.processId, key.secretKey), readyForQuery]));
    this.phase = 'relay';
    // What the client sent while the agent was logging in goes out now, in order.
    if (this.reviewing) {
      // Reviewed like everything after it. A message not complete yet stays in the parser and is
      // reviewed whole when the rest arrives: nothing of it goes out before.
      this.pumpGated();
    } else {
      const early = this.gated.splice(0);
      this.gatedBytes = 0;
      const out = Buffer.concat([...early.flatMap((e) => (e.raw ? [e.raw] : [])), this.parser.pendingBytes()]);
      if (out.length) upstream.write(out);
      for (const { msg } of early) if (msg) this.onClientFrame(msg);
    }
    if (!this.holding) this.downValve.release('held');
    if (leftover.length) this.onUpstreamData(leftover);
  }

  // ---- relay --------------------------------------------------------------------------------

  private readonly onUpstreamData = (received: Buffer): void => {
    this.life.countBytes(0, received.length);
    const chunk = this.pids ? this.pids.rewrite(received) : received;
    if (chunk.length === 0) return;
    if (!this.ctx.target.config.masking.client && !this.gate) {
      // Recorded first: the events of a statement are in the outbox before its end reaches the
      // client, so an agent killed right after still has them (the decoder only reads the chunk).
      this.observeServer(chunk);
      this.ctx.outlet.commit();
      if (this.phase !== 'closed') this.upValve!.forward(this.downstream, chunk);
      return;
    }
    const out: Buffer[] = [];
    this.maskedOut = out;
    this.observeServer(chunk);
    this.maskedOut = null;
    this.ctx.outlet.commit();
    // A session ended while reading the chunk (a row it could not mask) sends nothing more.
    if (out.length && this.phase !== 'closed') this.upValve!.forward(this.downstream, out.length === 1 ? out[0] : Buffer.concat(out));
  };

  /**
   * With guardrails or client masking: each message is read before it goes on, and a denied or
   * refused Query or Parse is replaced (guardrail-gate.ts, client-masking/copy-gate.ts). A held
   * one (for approvers, or for the catalog) stops the line: it and everything after it wait in
   * order until it is decided. The client is still read meanwhile, into the line; only past
   * HELD_BUFFER_MAX bytes waiting is its socket paused.
   */
  private gatedClientData(chunk: Buffer): void {
    try {
      this.parser.feed(chunk, this.onGatedMessage, this.onGatedRaw);
    } catch (err) {
      this.protocolFailed(err as Error);
      return;
    }
    this.pumpGated();
  }

  private readonly onGatedMessage = (msg: ClientMessage | StartupPacket, raw: Buffer, cut: MessageCut | null): void =>
    this.holdClientMessage(msg as ClientMessage, raw, cut);

  private readonly onGatedRaw = (bytes: Buffer, code: number): void => this.holdClientRaw(bytes, code);

  /** Copies: a held line waits, and the chunk a message came in is not the session's to keep. */
  private holdClientMessage(msg: ClientMessage, raw: Buffer, cut: MessageCut | null): void {
    if (cut === null) return this.hold({ msg, raw: Buffer.from(raw) });
    if (this.gate && STATEMENT_CODES.has(ClientCodeOf[msg.type] ?? 0)) {
      const limit = GUARDED_STATEMENT_MAX / (1024 * 1024);
      return this.hold({ msg, refuse: `Vigil guardrail statement-size: guardrails read statements of up to ${limit} MiB, this one is ${cut.size} bytes; it did not run` });
    }
    this.hold({ msg: msg.type === 'copy-data' ? { type: 'copy-data', data: Buffer.from(msg.data) } : msg });
  }

  /** A piece of a streamed message passes as it is, except a statement the guardrails must refuse. */
  private holdClientRaw(bytes: Buffer, code: number): void {
    if (this.gate && STATEMENT_CODES.has(code)) return;
    this.hold({ raw: Buffer.from(bytes) });
  }

  private hold(held: Held): void {
    this.gated.push(held);
    this.gatedBytes += heldBytes(held);
    // Reading stops past the limit while nothing can go out (a held statement, or the login).
    if ((this.holding || this.limiter?.busy || this.phase !== 'relay') && this.gatedBytes > HELD_BUFFER_MAX) this.downValve.hold('held');
  }

  private pumpGated(): void {
    if (this.holding || this.phase !== 'relay') return;
    const out: Buffer[] = [];
    while (this.gated.length > 0) {
      if (this.limiter?.blocks(this.gated[0].msg)) break;
      const held = this.gated.shift()!;
      this.gatedBytes -= heldBytes(held);
      const { msg, raw } = held;
      if (!msg) {
        out.push(raw!);
        continue;
      }
      if (held.refuse !== undefined) {
        this.limiter?.sent(msg);
        out.push(this.refuseLong(msg, held.refuse));
        continue;
      }
      if (!raw) {
        this.limiter?.sent(msg);
        this.onClientFrame(msg);
        continue;
      }
      const passed = this.reviewed(msg, raw);
      if (Buffer.isBuffer(passed)) {
        out.push(passed);
        continue;
      }
      this.holding = true;
      void passed.then((send) => {
        this.holding = false;
        if (this.phase !== 'relay') return;
        this.upstream!.write(send);
        this.downValve.release('held');
        this.pumpGated();
      });
      break;
    }
    // (A recorder fault under client masking may have ended the session meanwhile.)
    if (out.length && this.phase === 'relay') this.downValve.forward(this.upstream!, out.length === 1 ? out[0] : Buffer.concat(out));
  }

  /** A statement as approvers and the recording see it (held or denied): its secrets masked. */
  private maskStatement(sql: string) {
    return this.statements!.record(sql, undefined, this.ctx.target.config.maxValueBytes);
  }

  /** A statement an `approve` rule holds: what goes out once approvers decided (it, or a refusal). */
  private async holdStatement(msg: ClientMessage, raw: Buffer, decision: GuardrailDecision & { sql: string }): Promise<Buffer> {
    const statement = this.maskStatement(decision.statement ?? decision.sql);
    const rule = decision.rule ?? '';
    this.log.info({ rule }, 'statement held for approval');
    const refusal = await this.askApprovers(statement.text, rule, msg.type === 'query' ? this.heldQuerySeq : undefined);
    if (refusal === null) return raw;
    return this.gate!.refuse(msg, `Vigil guardrail ${rule} held this statement and it was not approved: ${refusal}`);
  }

  /** Opens a request for a held statement (as recorded) and waits: null when approved, else why not. */
  private askApprovers(statement: string, rule: string, querySeq: number | undefined): Promise<string | null> {
    const { config } = this.ctx.target;
    return this.ctx.access.hold(
      { scope: 'statement', user: this.life.user, target: config.name, sessionId: this.id, statement, rule, client: this.clientAddress },
      parseDuration(config.approval.holdTimeout),
      { ...this.life.waitReport(), querySeq },
    );
  }

  /** What the row limiter does through the session: the wire both ways, the recording, approvers. */
  private rowLimitHost(): RowLimitHost {
    return {
      send: (bytes) => {
        if (this.phase === 'relay') this.upstream!.write(bytes);
      },
      deliver: (messages) => this.deliverToClient(messages),
      // Not while the server message that decided is still being read: its recording comes first.
      resume: () => queueMicrotask(() => {
        if (this.phase !== 'relay' || this.holding) return;
        this.downValve.release('held');
        this.pumpGated();
      }),
      refuse: (msg, refusal) => this.refusals!.refuse(msg, refusal),
      hit: (run, action, rows) => this.recordRowLimitHit(run, action, rows),
      approve: (run, rows) => this.askApprovers(approverStatement(this.maskStatement(run.statement).text, run.limit, rows), run.limit.rule, run.querySeq),
    };
  }

  private recordRowLimitHit({ limit, statement, querySeq }: LimitedRun, action: 'deny' | 'approve', rows?: number): void {
    this.log.info({ rule: limit.rule, rows }, action === 'deny' ? 'write refused by its row limit' : 'write past its row limit held for approval');
    if (!this.sink) return;
    const masked = this.maskStatement(statement);
    this.sink.emit('guardrail.hit', { rule: limit.rule, action, ...(querySeq ? { querySeq } : {}), statement: masked.text, ...(rows !== undefined ? { rows } : {}) }, masked.counts);
  }

  /** A statement too long for the guardrails to read: recorded, and a refusal goes in its place. */
  private refuseLong(msg: ClientMessage, message: string): Buffer {
    this.onClientFrame(msg);
    if (this.sink) {
      if (msg.type === 'query') this.heldQuerySeq = this.sink.lastSeq;
      const statement = msg.type === 'query' || msg.type === 'parse'
        ? this.statements!.record(msg.sql, msg.sqlCut, this.ctx.target.config.maxValueBytes)
        : { text: msg.type === 'function-call' ? `function oid ${msg.functionOid}` : '', counts: null };
      this.sink.emit('guardrail.hit', {
        rule: 'statement-size',
        action: 'deny',
        ...(msg.type === 'query' ? { querySeq: this.heldQuerySeq } : {}),
        statement: statement.text,
      }, statement.counts);
    }
    this.log.info({ rule: 'statement-size' }, 'statement too long for the guardrails refused');
    return this.gate!.refuse(msg, message);
  }

  /**
   * One client message past client masking's COPY gate and the guardrails: what to forward for it
   * (recorded on the way), or, while it is held, what will be forwarded once it is decided.
   * `waited`: the catalog was waited for already.
   */
  private reviewed(client: ClientMessage, raw: Buffer, waited = false): Buffer | Promise<Buffer> {
    const copy = this.copyGate?.review(client, waited) ?? null;
    if (copy?.kind === 'wait') {
      // Nothing is recorded yet: the recorder reads the statement once the catalog has answered.
      return copy.ready.then(() => (this.phase === 'relay' ? this.reviewed(client, raw, true) : raw));
    }
    if (copy?.kind === 'refuse') {
      this.onClientFrame(client);
      this.limiter?.sent(client);
      this.log.info('statement refused: client masking cannot mask what it would send');
      return this.refusals!.refuse(client, copy.refusal);
    }
    if (!this.gate) {
      this.onClientFrame(client);
      return raw;
    }
    const verdict = this.gate.review(client);
    this.onClientFrame(client);
    const limited = this.limiter?.review(client, raw, verdict, this.sink?.lastSeq);
    if (limited) return limited;
    if (!verdict || verdict.kind === 'limit') return raw;
    const decision = verdict.kind === 'deny' ? verdict.denial.decision : verdict.decision;
    const statement = this.maskStatement(decision.statement ?? (verdict.kind === 'deny' ? verdict.denial.sql : verdict.sql));
    if (this.sink) {
      if (client.type === 'query') this.heldQuerySeq = this.sink.lastSeq;
      this.sink.emit('guardrail.hit', {
        rule: decision.rule ?? '',
        action: verdict.kind === 'deny' ? 'deny' : 'approve',
        ...(client.type === 'query' ? { querySeq: this.heldQuerySeq } : {}),
        statement: statement.text,
        ...(decision.form ? { form: decision.form } : {}),
      }, statement.counts);
    }
    if (verdict.kind === 'hold') return this.holdStatement(client, raw, { ...decision, sql: verdict.sql });
    this.log.info({ rule: decision.rule }, 'statement denied by a guardrail');
    return verdict.replacement;
  }

  private observeClient(chunk: Buffer): void {
    try {
      this.parser.feed(chunk, this.onClientFrame);
    } catch (err) {
      this.protocolFailed(err as Error);
    }
  }

  private protocolFailed(err: Error): void {
    this.log.warn({ err: err.message }, 'invalid message from the client: session ended');
    this.fail('protocol_error', '08P01', `invalid message: ${err.message}`);
  }

  private observeServer(chunk: Buffer): void {
    try {
      this.framer.push(chunk, this.onServerFrame, this.maskedOut ? this.onServerRaw : null);
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'invalid message from the target: session ended');
      this.fail('upstream_error', '08P01', `the target sent an invalid message: ${(err as Error).message}`);
    }
  }

  // The frame handlers are bound once: the relay calls them for every message, so they allocate
  // no closures. A recorder fault never breaks the relay: it is logged once and the session goes
  // on unrecorded (with client masking, which the recorder does, the session ends instead).
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

  private readonly onServerFrame = (code: number, original: Buffer, cut: MessageCut | null): void => {
    if (this.phase === 'closed') return; // ended while reading this chunk: nothing more goes out
    const instead = this.limiter?.fromServer(code, original, cut);
    if (!instead) return this.toClient(code, original, cut);
    for (const message of instead) this.toClient(message[0], message, null);
  };

  /** Server messages the agent hands the client later (a write approvers let through), read as if they came now. */
  private deliverToClient(messages: Buffer[]): void {
    if (this.phase !== 'relay') return;
    const out: Buffer[] = [];
    this.maskedOut = out;
    for (const message of messages) this.toClient(message[0], message, null);
    this.maskedOut = null;
    this.ctx.outlet.commit();
    if (out.length && this.phase === 'relay') this.upValve!.forward(this.downstream, Buffer.concat(out));
  }

  /** One server message on its way to the client: rewritten if a refusal's, recorded, and passed on. */
  private toClient(code: number, original: Buffer, cut: MessageCut | null): void {
    // The server's error for a refused statement says why, for the client and the recording alike.
    const message = cut === null ? (this.refusals?.rewrite(code, original) ?? original) : original;
    let replacement: Buffer | undefined = message === original ? undefined : message;
    if (!this.recorderFailed) {
      try {
        replacement = this.recorder!.onServerMessage(code, message, cut) ?? replacement;
      } catch (err) {
        this.recordingFailed(err);
      }
    }
    if (cut === null) this.maskedOut?.push(replacement ?? message);
    else if (this.maskedOut && this.withheld(code)) {
      // A streamed row under client masking went nowhere as it came: its masked re-encoding goes.
      if (replacement) this.maskedOut.push(replacement);
      else this.fail('protocol_error', '08P01', 'a row too large to hold could not be masked for the client');
    }
  }

  /** Raw pieces of a streamed server message, passed on as they come, unless masking must rewrite it. */
  private readonly onServerRaw = (bytes: Buffer, code: number): void => {
    if (this.phase !== 'closed' && !this.withheld(code)) this.maskedOut?.push(bytes);
  };

  /** Messages whose masked re-encoding goes to the client in place of their bytes: rows, and COPY data out. */
  private withheld(code: number): boolean {
    if (!this.ctx.target.config.masking.client) return false;
    return code === BackendCode.DataRow || (code === BackendCode.CopyData && this.recorder?.masksCopyOut === true);
  }

  /**
   * Without client masking the session goes on unrecorded. With it, the recorder is what masks
   * the client's stream: the session ends rather than pass the target's bytes on unmasked.
   */
  private recordingFailed(err: unknown): void {
    this.recorderFailed = true;
    if (this.ctx.target.config.masking.client) {
      this.log.error({ err: (err as Error).stack }, 'client masking failed; the session is ended');
      this.fail('protocol_error', '08P01', `Vigil could not mask what the target sent for this client (${(err as Error).message}); the session was ended rather than pass it unmasked`);
      return;
    }
    this.log.error({ err: (err as Error).stack }, 'recording failed; the session continues unrecorded from here');
  }

  // ---- ending -------------------------------------------------------------------------------

  /** Ends the session with a FATAL message to the client (the lifecycle's fail). */
  fail(reason: SessionEndReason, sqlstate: string, message: string): void {
    this.life.fail(reason, message, sqlstate);
  }

  close(reason: SessionEndReason, message?: string): void {
    this.life.close(reason, message);
  }

  /** The client reads why in a FATAL ErrorResponse (the lifecycle's farewell). */
  private farewell(reason: SessionEndReason, message: string, sqlstate?: string): number {
    if (this.phase !== 'closed' && !this.downstream.destroyed && this.downstream.writable) {
      this.downstream.write(server.errorResponse({ severity: 'FATAL', code: sqlstate ?? sqlstateOf(reason), message }));
    }
    return 0;
  }

  /**
   * A kill or a grant's end: a statement begun before the decision must not run on to its end
   * (and commit) after it. The target stops reading the socket while it runs, so the Terminate
   * alone would come too late. (Only when something may be running: a cancel costs the target a
   * connection of its own.)
   */
  private interrupt(): void {
    const idle = !this.recorderFailed && this.recorder?.idle === true;
    if (!idle) this.cancelRunning?.().catch((err: Error) => this.log.warn({ err: err.message }, 'cancelling the running statement failed'));
  }

  private teardown(reason: SessionEndReason): SessionEndReason {
    this.phase = 'closed';
    this.unfollowThrottle?.();
    clearTimeout(this.startupTimer);
    this.releaseCancelKey?.();
    if (this.upstreamPid !== null && this.ctx.clientPids?.get(this.upstreamPid) === this.clientPid) this.ctx.clientPids.delete(this.upstreamPid);
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
    // After the client's Terminate the upstream closes too; whichever socket closes first, the
    // client ended the session.
    if (this.clientTerminated && (reason === 'upstream_closed' || reason === 'client_disconnect')) return 'client_terminate';
    return reason;
  }
}

/** The SQLSTATE of an end from outside: the spool (57P03 cannot_connect_now), else admin_shutdown. */
function sqlstateOf(reason: SessionEndReason): string {
  return reason === 'recording_unavailable' ? '57P03' : '57P01';
}

const TERMINATE = Buffer.from([0x58, 0, 0, 0, 4]); // X

const ClientCodeOf: Partial<Record<ClientMessage['type'], number>> = {
  query: ClientCode.Query,
  parse: ClientCode.Parse,
  'function-call': ClientCode.FunctionCall,
};

function heldBytes({ msg, raw }: Held): number {
  return (raw?.length ?? 0) + (msg?.type === 'copy-data' ? msg.data.length : 0);
}
