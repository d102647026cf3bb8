// Guardrails on the lines typed at an interactive shell. Keys are not the command: history
// recall, tab completion and line editing make the line the shell runs out of what the shell drew.
// So the gate keeps a terminal model of the channel (a headless xterm fed the target's output)
// and, when the client presses Enter, reads the line as it stands on that model, the way the user
// sees it, and checks it before the Enter reaches the target:
// - allow: the Enter goes on; an incomplete line (an open quote, `do` without `done`) is kept so
//   the next Enter checks the whole command;
// - deny: the Enter never goes; the client reads why, and a Ctrl-C makes the shell drop the line
//   and draw a fresh prompt;
// - approve: the Enter waits until approvers decide (Ctrl-C stops waiting).
// A line starts where the cursor stood when its first key went to the target (the end of the
// prompt). Full-screen programs (the alternate screen: vim, less, top) are not shells: their
// Enters pass. What the client sends is forwarded as it was typed; only Enters wait.
import { Writable } from 'node:stream';
import xtermHeadless from '@xterm/headless';
import { SEVERITY } from '../guardrails/decision-order.ts';
import { denialText } from '../guardrails/decision-text.ts';
import type { GuardrailDecision } from '../guardrails/guardrail-policy.ts';

// A CommonJS package: its named exports exist only on the default import at run time.
const { Terminal } = xtermHeadless;
type Term = InstanceType<typeof Terminal>;
type Buf = Term['buffer']['active'];
type Marker = NonNullable<ReturnType<Term['registerMarker']>>;

export interface LinePolicy {
  checkCommand(line: string): GuardrailDecision | Promise<GuardrailDecision>;
}

/** The target's side of the channel. */
export interface GateHost {
  write(chunk: Buffer): boolean;
  end(): void;
  on(event: 'drain', listener: () => void): unknown;
}

export interface TypedLineGateOptions {
  policy: LinePolicy;
  host: GateHost;
  cols: number;
  rows: number;
  /** Writes Vigil's own lines on the client's terminal. */
  tell(text: string): void;
  /** A rule decided about a line (the caller masks and records it). */
  hit(rule: string, action: 'deny' | 'approve', line: string, form?: string): void;
  /** An `approve` rule holds the line: null when it may run, else why not. */
  hold(line: string, rule: string, notice: (text: string) => void): Promise<string | null>;
  /** How long the target's output must pause before a line is read (its echo settled). */
  quietMs?: number;
  /** The longest an Enter waits for the echo to settle. */
  maxWaitMs?: number;
  /** Client bytes held back while an Enter waits; past this the client is paused. */
  maxBuffered?: number;
}

const CR = 0x0d;
const LF = 0x0a;
const ETX = 0x03; // Ctrl-C
const EOT = 0x04; // Ctrl-D
// Ctrl-O runs the line too in bash (operate-and-get-next) and zsh (accept-line-and-down-history).
const SI = 0x0f;
/** Rows of history the model keeps; a line whose start scrolled past them cannot be read. */
const SCROLLBACK = 200;
/** Where a prompt ends (`user@host:~$ `, `# `, `% `, `> `): to cut it off a line whose start was lost. */
const PROMPT_END = /^[^\n]*?[$#%>] /;

const clampSize = (n: number) => Math.max(2, Math.min(500, Math.floor(n) || 2));
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(1, ms)).unref?.());

interface LineStart {
  marker: Marker;
  x: number;
}

export class TypedLineGate extends Writable {
  private readonly term: Term;
  private readonly policy: LinePolicy;
  private readonly host: GateHost;
  private readonly opts: TypedLineGateOptions;
  private readonly quietMs: number;
  private readonly maxWaitMs: number;
  private readonly maxBuffered: number;
  /** Client bytes not yet sent on (they wait behind an Enter being checked). */
  private readonly queue: Buffer[] = [];
  private queued = 0;
  private running = false;
  private disposed = false;
  /** The target's side asked to wait (write returned false). */
  private blocked = false;
  /** The stream's callback for the last client chunk, held while the client must wait. */
  private waiting: (() => void) | null = null;
  private finishing: (() => void) | null = null;
  private cancelHold: (() => void) | null = null;
  /** A key of the current line went to the target: its start is (being) noted. */
  private begun = false;
  private start: LineStart | null = null;
  /** The text before the last start noted: the prompt, cut off a line whose start was lost. */
  private prompt = '';
  /** The lines of a command the shell still waits to complete. */
  private pending = '';
  /** The last Enter sent was a lone CR: an LF right after belongs to it. */
  private afterCR = false;
  private outputs = 0;
  private outputsAtSend = 0;
  private lastOutputAt = 0;
  private lastSentAt = Date.now();
  /** No line was typed yet: the first waits for the target's first prompt (keys sent at once do). */
  private fresh = true;

  constructor(opts: TypedLineGateOptions) {
    super();
    this.opts = opts;
    this.policy = opts.policy;
    this.host = opts.host;
    this.quietMs = opts.quietMs ?? 30;
    this.maxWaitMs = opts.maxWaitMs ?? 500;
    this.maxBuffered = opts.maxBuffered ?? 1024 * 1024;
    this.term = new Terminal({ cols: clampSize(opts.cols), rows: clampSize(opts.rows), scrollback: SCROLLBACK, allowProposedApi: true, logLevel: 'off' });
    this.host.on('drain', () => {
      this.blocked = false;
      this.release();
    });
  }

  /** What the target showed (stdout or stderr), as it passes to the client. */
  output(chunk: Buffer): void {
    if (this.disposed) return;
    this.outputs++;
    this.lastOutputAt = Date.now();
    this.term.write(chunk);
  }

  resize(cols: number, rows: number): void {
    if (!this.disposed) this.term.resize(clampSize(cols), clampSize(rows));
  }

  /** The channel is gone: nothing more is sent, a held line is let go. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.cancelHold?.();
    this.queue.length = 0;
    this.queued = 0;
    this.term.dispose();
    this.release();
    this.maybeEnd();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (err?: Error | null) => void): void {
    if (this.disposed) return done();
    if (this.cancelHold && chunk.includes(ETX)) this.cancelHold();
    this.queue.push(chunk);
    this.queued += chunk.length;
    if (!this.running) void this.run();
    this.waiting = done;
    this.release();
  }

  /** The client's EOF: passed on once what waits behind an Enter went (or was refused). */
  override _final(done: (err?: Error | null) => void): void {
    this.finishing = done;
    this.maybeEnd();
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    this.dispose();
    done(err);
  }

  /** The client may send more while little waits here and the target takes it. */
  private release(): void {
    if (!this.waiting || (!this.disposed && (this.blocked || this.queued >= this.maxBuffered))) return;
    const done = this.waiting;
    this.waiting = null;
    done();
  }

  private maybeEnd(): void {
    if (!this.finishing || this.running || (this.queue.length > 0 && !this.disposed)) return;
    const done = this.finishing;
    this.finishing = null;
    if (!this.disposed) this.host.end();
    done();
  }

  /** Sends the queue on, key by key where it matters; waits at each Enter. One run at a time. */
  private async run(): Promise<void> {
    this.running = true;
    try {
      if (this.fresh) {
        this.fresh = false;
        await this.settle();
      }
      while (this.queue.length > 0 && !this.disposed) {
        const chunk = this.queue[0];
        if (this.afterCR && chunk[0] === LF) {
          this.afterCR = false;
          this.send(this.take(1));
          await this.lineEnded();
          continue;
        }
        this.afterCR = false;
        const at = keyAt(chunk);
        if (at !== 0) {
          this.beginLine();
          this.send(this.take(at < 0 ? chunk.length : at));
          continue;
        }
        const key = chunk[0];
        if (key === ETX || key === EOT) {
          // The shell drops what it was given of a multi-line command.
          this.pending = '';
          this.send(this.take(1));
          if (key === ETX) await this.lineEnded();
          continue;
        }
        // An Enter sent as CR LF is one Enter.
        const enter = Buffer.from(this.take(key === CR && chunk[1] === LF ? 2 : 1));
        await this.enter(enter);
      }
    } catch (err) {
      this.destroy(err as Error);
    } finally {
      this.running = false;
    }
    this.release();
    this.maybeEnd();
  }

  private async enter(key: Buffer): Promise<void> {
    this.beginLine();
    await this.flush();
    if (!this.disposed && this.normalScreen()) await this.settle();
    if (this.disposed) return;
    // A full-screen program's Enter: sent at once (a paste into an editor stays fast).
    if (!this.normalScreen()) return this.sent(key);
    const texts = this.readLine();
    if (texts === null) return this.refuse(`this line is longer than the guardrails can read (over ${SCROLLBACK} rows); it was not sent`);
    // Checked only when the line shows something. The model holds what the target displayed,
    // never the keys: an answer read with echo off (a password at sudo, `read -s`) is not on it,
    // so it never reaches the policy or a guardrail.hit, and such a line passes unchecked. (So
    // does a command typed blind after `stty -echo` with line editing off: guardrails catch slips,
    // not someone set on getting round them.) TerminalRecorder's EchoWatch answers the same
    // question key by key, up to a second after the line; the model answers it at the Enter.
    if (texts.every((t) => t.trim() === '')) return this.pass(key);
    const { decision, line } = await this.decide(texts);
    if (this.disposed) return;
    const command = this.pending + line;
    const rule = decision.rule ?? '';
    if (decision.action === 'deny') {
      this.opts.hit(rule, 'deny', command, decision.form);
      return this.refuse(denialText(decision, 'command'));
    }
    if (decision.action === 'approve') {
      this.opts.hit(rule, 'approve', command, decision.form);
      const refusal = await this.approval(command, rule);
      if (this.disposed) return;
      if (refusal !== null) return this.refuse(refusal);
    }
    this.pending = decision.incomplete ? `${command}\n` : '';
    return this.pass(key);
  }

  /** The strictest decision over the readings of the line (one, unless its start was lost). */
  private async decide(texts: string[]): Promise<{ decision: GuardrailDecision; line: string }> {
    let best: { decision: GuardrailDecision; line: string } | null = null;
    for (const line of texts) {
      const decision = await this.policy.checkCommand(this.pending + line);
      if (!best || SEVERITY[decision.action] > SEVERITY[best.decision.action]) best = { decision, line };
    }
    return best!;
  }

  private async approval(command: string, rule: string): Promise<string | null> {
    const cancelled = new Promise<string>((resolve) => {
      this.cancelHold = () => resolve('Ctrl-C: no longer waiting for approval; the command was not sent');
    });
    const decided = this.opts.hold(command, rule, (text) => this.tell(text)).catch((err: Error) => `approval could not be asked: ${err.message}`);
    try {
      return await Promise.race([decided, cancelled]);
    } finally {
      this.cancelHold = null;
    }
  }

  private async pass(key: Buffer): Promise<void> {
    this.sent(key);
    await this.lineEnded();
  }

  private sent(key: Buffer): void {
    this.send(key);
    this.begun = false;
    this.afterCR = key.length === 1 && key[0] === CR;
  }

  private async refuse(message: string): Promise<void> {
    // What the client sent after the refused Enter, and what it sends while its line is checked,
    // was typed blind to the refusal: it is dropped (a pasted script stops at the refused line).
    // What comes once the refusal is on its screen waits for the fresh prompt, then goes on.
    this.queue.length = 0;
    this.queued = 0;
    this.pending = '';
    this.release();
    this.tell(message);
    // An interactive shell (bash, sh, zsh) drops its line on Ctrl-C and draws a fresh prompt.
    this.send(Buffer.from([ETX]));
    await this.lineEnded();
  }

  private tell(line: string): void {
    if (!this.disposed) this.opts.tell(`\r\nvigil: ${line}\r\n`);
  }

  /**
   * The next key starts a new line, once the target answered this one: its prompt must be on the
   * model before the next line's start is noted (keys typed or pasted ahead wait till then).
   */
  private async lineEnded(): Promise<void> {
    this.begun = false;
    await this.flush();
    if (!this.disposed && this.normalScreen()) await this.settle();
  }

  private beginLine(): void {
    if (this.begun) return;
    this.begun = true;
    // After the output that came before this key: the write callback runs once it is parsed.
    this.term.write('', () => this.markStart());
  }

  private markStart(): void {
    if (this.disposed) return;
    this.start?.marker.dispose();
    this.start = null;
    const buf = this.term.buffer.active;
    const marker = buf.type === 'normal' ? this.term.registerMarker(0) : undefined;
    if (!marker) return;
    this.start = { marker, x: buf.cursorX };
    this.prompt = buf.getLine(marker.line)?.translateToString(false, 0, buf.cursorX) ?? '';
  }

  /**
   * The line as the model shows it: from its start to the end of the cursor's line, wrapped rows
   * followed. When the shell drew it again below (after a list of completions) or its start is
   * gone (the screen was cleared, the line began in a full-screen program): the cursor's whole
   * line without its prompt; an unknown prompt makes several readings, the strictest decides.
   * Null when the line's beginning scrolled out of the model.
   */
  private readLine(): string[] | null {
    const buf = this.term.buffer.active;
    const cursor = buf.baseY + buf.cursorY;
    let first = cursor;
    while (first > 0 && buf.getLine(first)?.isWrapped) first--;
    let last = cursor;
    while (buf.getLine(last + 1)?.isWrapped) last++;
    const whole = rowsText(buf, first, 0, last);
    const redrawn = this.prompt !== '' && whole.startsWith(this.prompt);
    const start = this.start && !this.start.marker.isDisposed && this.start.marker.line <= cursor ? this.start : null;
    if (start && !(redrawn && first > start.marker.line)) return [rowsText(buf, start.marker.line, start.x, last)];
    if (buf.getLine(first)?.isWrapped) return null;
    if (redrawn) return [whole.slice(this.prompt.length)];
    const prompt = PROMPT_END.exec(whole);
    return prompt ? [whole, whole.slice(prompt[0].length)] : [whole];
  }

  private normalScreen(): boolean {
    return this.term.buffer.active.type === 'normal';
  }

  /** Resolves once everything the target sent so far is on the model. */
  private flush(): Promise<void> {
    if (this.disposed) return Promise.resolve();
    return new Promise((resolve) => this.term.write('', resolve));
  }

  /**
   * Waits until the target answered what was last sent (its echo, or the next prompt) and its
   * output has paused for `quietMs`; at most `maxWaitMs` (a key that draws nothing, a password
   * typed with echo off, a program that keeps printing).
   */
  private async settle(): Promise<void> {
    const deadline = Date.now() + this.maxWaitMs;
    for (;;) {
      if (this.disposed) return;
      const now = Date.now();
      const answered = this.outputs > this.outputsAtSend || now - this.lastSentAt >= this.maxWaitMs;
      const quiet = now - this.lastOutputAt;
      if (now >= deadline || (answered && quiet >= this.quietMs)) break;
      await sleep(Math.min(answered ? this.quietMs - quiet : this.quietMs, deadline - now));
    }
    await this.flush();
  }

  private take(n: number): Buffer {
    const head = this.queue[0];
    const part = head.subarray(0, n);
    if (n >= head.length) this.queue.shift();
    else this.queue[0] = head.subarray(n);
    this.queued -= part.length;
    this.release();
    return part;
  }

  private send(bytes: Buffer): void {
    if (this.disposed || bytes.length === 0) return;
    this.outputsAtSend = this.outputs;
    this.lastSentAt = Date.now();
    if (!this.host.write(bytes)) this.blocked = true;
  }
}

/** Where the next key that ends or drops a line is: Enter (CR, LF, Ctrl-O), Ctrl-C, Ctrl-D; -1: none. */
function keyAt(chunk: Buffer): number {
  for (let i = 0; i < chunk.length; i++) {
    const b = chunk[i];
    if (b === CR || b === LF || b === SI || b === ETX || b === EOT) return i;
  }
  return -1;
}

/** Rows first..last of the model, the first from column x; a row break not from wrapping is a newline. */
function rowsText(buf: Buf, first: number, x: number, last: number): string {
  let text = '';
  for (let row = first; row <= last; row++) {
    const line = buf.getLine(row);
    if (!line) break;
    const wraps = row < last && !!buf.getLine(row + 1)?.isWrapped;
    // A wrapped row is read whole: a space at its end is part of the line.
    text += line.translateToString(!wraps, row === first ? x : 0);
    if (row < last && !wraps) text += '\n';
  }
  return text;
}
