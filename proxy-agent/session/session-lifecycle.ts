// The life of one session through the agent, the same for every protocol: who it is (user, token,
// grant), its admission (locks, then a jit target's grant), its recording (the event sink and the
// byte counts), and its end (kill, fail, close: once, with one reason). A protocol session
// (PostgreSQL, SSH, HTTP) owns one and says only how its client is told and what it closes; kill,
// revoke, a grant's end, a full spool and the agent's shutdown reach every kind through here.
import crypto from 'node:crypto';
import type { EventData, EventType, MaskCounts, SessionEndReason, VigilEvent } from '../../common/events/index.ts';
import type { Logger } from '../../common/log.ts';
import type { LockSubject } from '../../common/locks.ts';
import { inForce, type AccessState } from '../../common/control/control-bus.ts';
import type { LockGuard } from '../access/lock-guard.ts';
import type { LoginGuard } from '../access/login-guard.ts';
import { admissionOf, grantEndEvent, notGrantedMessage, recordOutcome, type AccessGate, type Admission, type WaitReport } from '../access/access-gate.ts';
import { SessionEventSink, type RecordingOutlet } from '../recording/session-event-sink.ts';
import type { ControlledSession } from '../session-control.ts';
import type { LiveSessions } from './live-sessions.ts';

/** What only the protocol knows about ending: how its client hears why, and what it closes. */
export interface ProtocolEnding {
  /**
   * Tells the client why the session ends (PostgreSQL: a FATAL ErrorResponse; SSH: a line on each
   * terminal; HTTP: open exchanges answered or cut). Returns how long its last words need before
   * the close (0: close at once). `code`: the protocol's own code for it, when the caller has one.
   */
  farewell(reason: SessionEndReason, message: string, code?: string): number;
  /** On a kill or a grant's end: stop what the target is running for the session now. */
  interrupt?(): void;
  /**
   * Closes the protocol's sockets and timers. Returns the reason as the protocol saw it (a client
   * that said goodbye before its socket closed ended the session itself).
   */
  teardown(reason: SessionEndReason): SessionEndReason;
}

/** What the lifecycle needs of a target's config. */
export interface LifecycleTarget {
  name: string;
  recording: 'required' | 'best-effort';
  access: 'open' | 'jit';
}

/** What every session of an agent uses, whatever its protocol (a protocol's context extends it). */
export interface SessionServices {
  agentId: string;
  outlet: RecordingOutlet;
  /** Grants, requests and held statements for jit targets and `approve` guardrails. */
  access: AccessGate;
  /** Locks in force: a locked user, target or token is refused before anything else. */
  locks?: LockGuard;
  /** Refused logins: audited, and an address that keeps failing is refused at once. */
  logins?: LoginGuard;
  logger: Logger;
  /** The listener's live sessions: a session is there until it closes. */
  live: LiveSessions;
}

export interface SessionLifecycleOptions {
  protocol: VigilEvent['protocol'];
  /** Null until the login names it (SSH: the user name picks the target). */
  target: LifecycleTarget | null;
  clientAddress: string;
  ending: ProtocolEnding;
}

/** Why a session may not go on: a lock, or a jit target without a grant in force. */
export interface Refusal {
  reason: 'locked' | 'access_refused';
  message: string;
  /** Locks and pending requests: not allowed (28000); no way to ask or decide: unavailable (57P03). */
  kind: 'not_allowed' | 'unavailable';
}

export class SessionLifecycle implements ControlledSession {
  readonly id = crypto.randomUUID();
  /** The access grant it runs under (jit targets), once admitted. */
  grant: Admission | null = null;
  user = '';
  /** The jti of the token it logged in with (none with a registered SSH key): locks may name it. */
  tokenId: string | undefined;
  readonly startedAt = Date.now();
  readonly log: Logger;
  /** Resolves when the session is closed: what waits on its behalf (a grant, an approval) stops. */
  readonly gone: Promise<void>;
  private markGone!: () => void;
  private sink: SessionEventSink | null = null;
  private targetConfig: LifecycleTarget | null;
  private bytesUp = 0;
  private bytesDown = 0;
  private ending = false;
  private closed = false;
  /** Why fail() ended the session, kept through the grace before the close. */
  private endedFor: { reason: SessionEndReason; message?: string } | null = null;

  constructor(private readonly opts: SessionLifecycleOptions, private readonly services: SessionServices) {
    this.targetConfig = opts.target;
    this.log = services.logger.child({ session: this.id, ...(opts.target ? { target: opts.target.name } : {}), client: opts.clientAddress });
    this.gone = new Promise((resolve) => (this.markGone = resolve));
    services.live.add(this);
  }

  get target(): string {
    return this.targetConfig?.name ?? '';
  }

  /** The login named its target and user (before admission and recording). */
  loggedIn(target: LifecycleTarget, user: string, tokenId?: string): void {
    this.targetConfig = target;
    this.user = user;
    this.tokenId = tokenId;
  }

  get clientAddress(): string {
    return this.opts.clientAddress;
  }

  get recordingRequired(): boolean {
    return this.targetConfig?.recording === 'required';
  }

  /** Recording and not over: what a full spool ends when recording is required. */
  get isRelaying(): boolean {
    return this.sink !== null && !this.closed;
  }

  get isOver(): boolean {
    return this.ending || this.closed;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** The last seq its recording has emitted (0 before it has one). */
  get lastSeq(): number {
    return this.sink?.lastSeq ?? 0;
  }

  get lockSubject(): LockSubject | null {
    return this.user && this.targetConfig ? { user: this.user, target: this.targetConfig.name, token: this.tokenId } : null;
  }

  /** Bytes the client sent (up) and the target sent (down), for session.end. */
  countBytes(up: number, down: number): void {
    this.bytesUp += up;
    this.bytesDown += down;
  }

  /** Whether a `recording: required` session could start now (fail closed when it could not). */
  recordingAvailable(): boolean {
    return !this.recordingRequired || this.services.outlet.hasRoom();
  }

  /** The recording begins: session.start, then the grant it was admitted under (if any). */
  startRecording(start: EventData<'session.start'>): SessionEventSink {
    this.sink = new SessionEventSink(
      { sessionId: this.id, user: this.user, target: this.target, protocol: this.opts.protocol, connection: { client: this.opts.clientAddress, agent: this.services.agentId } },
      this.services.outlet,
    );
    this.sink.emit('session.start', { ...start, ...(this.tokenId ? { token: this.tokenId } : {}) });
    if (this.grant) this.sink.emit('access', { action: 'granted', ...this.grant });
    return this.sink;
  }

  /** One event into the recording (nothing before it starts); its seq, or 0. */
  emit<T extends EventType>(type: T, data: EventData<T>, masked?: MaskCounts | null): number {
    return this.sink?.emit(type, data, masked) ?? 0;
  }

  /** How a held statement or a waiting login reports into this recording. */
  waitReport(notice?: (line: string) => void): WaitReport {
    return { record: (data) => this.emit('access', data), cancelled: this.gone, ...(notice ? { notice } : {}) };
  }

  // ---- admission -------------------------------------------------------------------------------

  /**
   * Locks first (refused before any access request is opened: a reconnect after a kill-and-lock
   * must not land in an approver's inbox), then a jit target's grant. Null: it may go on.
   * With `wait`, a pending request is waited for (the client is told on `notice`); without, the
   * client is told which request to wait for and the session ends. A refusal is audited as one
   * with a good credential (never counted against the address).
   */
  async admit(wait?: { pendingMs: number; notice(line: string): void }): Promise<Refusal | null> {
    const name = this.target;
    const audit = (message: string) => this.services.logins?.audit({ protocol: this.opts.protocol, client: this.opts.clientAddress, target: name, user: this.user, reason: message });
    const locked = this.services.locks?.refusal({ user: this.user, target: name, token: this.tokenId });
    if (locked) {
      this.log.info({ reason: locked }, 'client locked out');
      audit(locked);
      return { reason: 'locked', message: locked, kind: 'not_allowed' };
    }
    if (this.targetConfig?.access !== 'jit') return null;
    const check = await this.services.access.check(this.user, name, { client: this.opts.clientAddress, sessionId: this.id });
    if (this.isOver) return { reason: 'access_refused', message: 'the client left while its access was checked', kind: 'unavailable' };
    if ('admitted' in check) {
      this.admitted(check.admitted);
      return null;
    }
    if ('refused' in check) {
      audit(check.refused);
      return { reason: 'access_refused', message: check.refused, kind: 'unavailable' };
    }
    const id = check.pending;
    if (!wait) {
      const message = `access to ${name} needs approval: request #${id} is waiting for an approver; connect again once it is granted`;
      audit(message);
      return { reason: 'access_refused', message, kind: 'not_allowed' };
    }
    const report = this.waitReport();
    report.record({ action: 'requested', requestId: id });
    wait.notice(`access to ${name} needs approval: waiting for approval (request #${id})`);
    const state = await this.services.access.waitFor(id, wait.pendingMs, this.gone);
    if (this.isOver) return { reason: 'access_refused', message: 'the client left while waiting for approval', kind: 'unavailable' };
    if (!state || !inForce(state)) {
      recordOutcome(id, state, report);
      const message = notGrantedMessage(id, state);
      audit(message);
      return { reason: 'access_refused', message, kind: 'not_allowed' };
    }
    wait.notice(`request #${id} was granted by ${state.by ?? 'an approver'}`);
    this.admitted(admissionOf(state));
    return null;
  }

  private admitted(grant: Admission): void {
    this.grant = grant;
    this.emit('access', { action: 'granted', ...grant });
  }

  // ---- ending ----------------------------------------------------------------------------------

  /** Ended from outside (a kill order, a lock, the grant's end): the client is told who and why. */
  kill(message: string, reason: SessionEndReason = 'killed', access?: AccessState): void {
    if (this.isOver) return;
    this.sink?.finish();
    const ended = grantEndEvent(this.grant, reason, access);
    if (ended) this.emit('access', ended);
    this.opts.ending.interrupt?.();
    this.fail(reason, message);
  }

  /** Ends the session: the client hears why, then everything closes. */
  fail(reason: SessionEndReason, message: string, code?: string): void {
    if (this.isOver) return;
    this.ending = true;
    this.endedFor = { reason, message };
    // What it records from here to its end is taken even by a full spool.
    this.sink?.finish();
    const grace = this.opts.ending.farewell(reason, message, code);
    if (grace > 0) setTimeout(() => this.close(reason, message), grace).unref();
    else this.close(reason, message);
  }

  /** Closes now (the client or the target went away, or the end fail() began). */
  close(reason: SessionEndReason, message?: string): void {
    if (this.closed) return;
    // The client leaving during the grace after fail() does not change why the session ended.
    if (this.endedFor) ({ reason, message } = this.endedFor);
    this.ending = true;
    this.closed = true;
    this.sink?.finish();
    this.markGone();
    const final = this.opts.ending.teardown(reason);
    this.sink?.end(final, message, this.startedAt, { down: this.bytesDown, up: this.bytesUp });
    this.services.live.delete(this);
  }
}
