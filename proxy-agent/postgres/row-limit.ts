// `maxRows` guardrails on one PostgreSQL session. A write a rule limits runs, and its
// CommandComplete's count decides (limited-write.ts); this is the session's side of it:
//   - which prepared statements (by name, the unnamed one included) carry a limit, and which
//     portals are bound from them, as the client's Parse, Bind and Close messages say; a message
//     that fails or is skipped undoes what it would have changed;
//   - what the server still owes for everything sent (answer-queue.ts): a simple Query's limited
//     write waits until all before it is answered, since whether it needs a transaction of its own
//     depends on the status then; an Execute goes at once, with a Flush so its answer comes
//     before the client's Sync;
//   - the line: nothing the client sent after a limited write goes on before its count is decided
//     (only the COPY data the write asks for);
//   - the server's messages: those of the agent's own statements are swallowed, a held
//     CommandComplete goes later or gives way to a refusal.
// A session whose target has no `maxRows` rule has none of this.
import crypto from 'node:crypto';
import type { Verdict } from './guardrail-gate.ts';
import type { ClientMessage } from './protocol/client-messages.ts';
import { BackendCode } from './protocol/backend-codes.ts';
import { AnswerQueue, type AnswerKind } from './answer-queue.ts';
import { FLUSH, LimitedWrite, REFUSAL_CODE, type LimitedStatement, type WriteHost, type WriteMode } from './limited-write.ts';
import type { Refusal } from './statement-refusals.ts';
import { partialExecuteMessage } from './row-count.ts';

export type { LimitedStatement } from './limited-write.ts';

/** A limited write as the recording knows it: the db.query it is. */
export type LimitedRun = LimitedStatement & { querySeq?: number };

/** What the session does for the limiter. */
export interface RowLimitHost {
  /** Writes the agent's own messages upstream. */
  send(bytes: Buffer): void;
  /** Server messages for the client (and the recorder), outside a server chunk. */
  deliver(messages: Buffer[]): void;
  /** The line may go on. */
  resume(): void;
  refuse(msg: ClientMessage, refusal: Refusal): Buffer;
  /** Records the guardrail hit (rows: the count, when one was read). */
  hit(run: LimitedRun, action: 'deny' | 'approve', rows?: number): void;
  /** Asks approvers about a write past its limit; null when approved, else why not. */
  approve(run: LimitedRun, rows: number): Promise<string | null>;
}

const COPY_IN = new Set<ClientMessage['type']>(['copy-data', 'copy-done', 'copy-fail']);

export class RowLimiter {
  private readonly answers = new AnswerQueue();
  private readonly statements = new Map<string, LimitedStatement>();
  private readonly portals = new Map<string, LimitedStatement>();
  private active: LimitedWrite | null = null;
  private readonly refusalPrefix = `vigil_row_limit_${crypto.randomBytes(6).toString('hex')}_`;
  private refusals = 0;

  constructor(private readonly host: RowLimitHost) {}

  /** A limited write awaits its count. */
  get busy(): boolean {
    return this.active !== null;
  }

  /** Whether the line waits before this client message (undefined: a piece of a streamed one). */
  blocks(msg: ClientMessage | undefined): boolean {
    if (!this.active) return false;
    return !(this.active.copyIn && (msg === undefined || COPY_IN.has(msg.type)));
  }

  /**
   * A reviewed client message going upstream: what to send for a limited write (a Promise while it
   * waits for what was sent before it), or null when the message goes as it is.
   */
  review(msg: ClientMessage, raw: Buffer, verdict: Verdict, querySeq?: number): Buffer | Promise<Buffer> | null {
    const limited = verdict?.kind === 'limit' ? { limit: verdict.limit, statement: verdict.statement } : undefined;
    if (msg.type === 'query' && limited) return this.query(raw, { ...limited, querySeq });
    const portal = msg.type === 'execute' ? this.portals.get(msg.portal) : undefined;
    if (msg.type === 'execute' && portal && !this.answers.skipping) return this.execute(msg.maxRows, raw, { ...portal, querySeq });
    this.sent(msg, limited);
    return null;
  }

  /** A client message going upstream as it is (or a refusal of the same type in its place). */
  sent(msg: ClientMessage, limited?: LimitedStatement): void {
    switch (msg.type) {
      case 'parse':
        return this.mark('parse', this.statements, msg.statement, limited);
      case 'bind':
        return this.mark('bind', this.portals, msg.portal, this.statements.get(msg.statement));
      case 'close':
        return this.mark('close', msg.target === 'S' ? this.statements : this.portals, msg.name, undefined);
      case 'describe':
      case 'execute':
      case 'sync':
      case 'query':
        this.answers.push({ kind: msg.type });
        return;
      case 'function-call':
        this.answers.push({ kind: 'function' });
        return;
      default:
        return;
    }
  }

  /** A server message: null passes it on, a list goes to the client in its place. */
  fromServer(code: number, message: Buffer, cut: unknown): Buffer[] | null {
    // Not an answer to anything sent: the server's state, as it is.
    if (code === BackendCode.NotificationResponse || code === BackendCode.ParameterStatus) return null;
    const tap = cut === null ? this.answers.head?.tap : undefined;
    const out = tap ? tap(code, message) : null;
    this.answers.consume(code, message);
    return out;
  }

  private query(raw: Buffer, run: LimitedRun): Buffer | Promise<Buffer> {
    const start = (): Buffer => {
      const { status, skipping } = this.answers;
      // The server ignores it (skipping to a Sync) or refuses it (an aborted block): nothing to count.
      if (skipping || status === 'E') {
        this.answers.push({ kind: 'query' });
        return raw;
      }
      const write = this.start(run, status === 'I' ? 'wrapped' : 'block');
      if (write.mode === 'block') {
        this.answers.push({ kind: 'query', tap: write.statementTap });
        return raw;
      }
      const { bytes, answer } = write.begin(raw);
      this.answers.push(answer);
      return bytes;
    };
    if (this.answers.idle) return start();
    // Extended messages sent before it without a Sync may sit unanswered in the server's buffer.
    queueMicrotask(() => this.host.send(FLUSH));
    return this.answers.drained().then(start);
  }

  private execute(maxRows: number, raw: Buffer, run: LimitedRun): Buffer {
    if (maxRows !== 0) {
      // Its first rows would reach the client (PortalSuspended) before any count.
      this.host.hit(run, 'deny');
      this.answers.push({ kind: 'parse' });
      return this.host.refuse(this.refusalParse(), {
        code: REFUSAL_CODE,
        message: partialExecuteMessage(run.limit),
        hint: 'Execute it with no row count (0); it did not run.',
      });
    }
    const write = this.start(run, 'extended');
    this.answers.push({ kind: 'execute', tap: write.executeTap, unanswered: write.unanswered });
    return Buffer.concat([raw, FLUSH]);
  }

  private start(run: LimitedRun, mode: WriteMode): LimitedWrite {
    const host: WriteHost = {
      send: (bytes, ...answers) => {
        for (const answer of answers) this.answers.push(answer);
        this.host.send(bytes);
      },
      deliver: (messages) => this.host.deliver(messages),
      refuse: (msg, refusal) => this.host.refuse(msg, refusal),
      refusalName: () => this.refusalParse().statement,
      hit: (action, rows) => this.host.hit(run, action, rows),
      approve: (rows) => this.host.approve(run, rows),
      done: () => {
        if (this.active !== write) return;
        this.active = null;
        this.host.resume();
      },
    };
    const write = new LimitedWrite(host, run.limit, mode);
    this.active = write;
    return write;
  }

  /** A Parse under a name of the agent's own: failing, it creates nothing, and replaces none of the client's. */
  private refusalParse(): Extract<ClientMessage, { type: 'parse' }> {
    return { type: 'parse', statement: `${this.refusalPrefix}${++this.refusals}`, sql: '', paramTypes: [] };
  }

  /** A Parse, Bind or Close changes what `name` is, unless it fails or the server skips it. */
  private mark(kind: AnswerKind, marks: Map<string, LimitedStatement>, name: string, value: LimitedStatement | undefined): void {
    const before = marks.get(name);
    const restore = () => (before ? marks.set(name, before) : marks.delete(name));
    if (!this.answers.push({ kind, unanswered: restore })) return;
    if (value) marks.set(name, value);
    else marks.delete(name);
  }
}
