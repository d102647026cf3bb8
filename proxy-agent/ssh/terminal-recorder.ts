// Records one SSH channel's terminal traffic as events, beside the relay (which forwards the bytes
// untouched before they get here).
//
// Output: bytes are decoded as UTF-8 across chunk boundaries, masked as a stream (a secret split
// between two reads is still caught: the masker holds a bounded tail back), and gathered into one
// term.output event per burst: emitted when the program pauses (`idleMs`), when a burst runs long
// (`maxDelayMs`), or when it grows large (`maxChars`). On a pause the held tail goes out up to its
// last whitespace; a word still open at the end (perhaps the first part of a token printed in two
// writes) waits for its rest, or for `settleMs` of quiet before it goes out as it is. A secret
// that spans lines and is still open (a private key printed line by line) waits whole, through
// pauses and quiet, until it closes or the masker's bounds pass (then it goes out as its marker).
//
// Input: keystrokes are gathered per line (masking needs the whole line: a token typed key by key
// never matches one key at a time) and recorded at Enter or after `inputIdleMs`, once it is known
// whether the terminal echoed them (echo-watch.ts). On a terminal (a pty) a line whose characters
// did not all come back is recorded as a count of hidden characters, never as the characters,
// whatever the prompt said (`read -s`, `stty -echo`); at a prompt that asks for a secret the echo
// must come back at once. Without a terminal nothing echoes: a line typed after such a prompt is
// hidden unless the program printed it back.
import { StringDecoder } from 'node:string_decoder';
import type { MaskCounts } from '../../common/events/index.ts';
import type { EventData } from '../../common/events/index.ts';
import { mergeCounts, type Masker } from '../masking/masker.ts';
import { StreamMasker, type StreamMaskerOptions } from '../masking/stream-masker.ts';
import { type DecidedLine, EchoWatch } from './echo-watch.ts';
import { EscapeFilter } from './escape-filter.ts';

export interface TerminalEvents {
  output(data: EventData<'term.output'>, masked: MaskCounts | null): void;
  input(data: EventData<'term.input'>, masked: MaskCounts | null): void;
}

export interface TerminalRecorderOptions {
  channel: number;
  masker: Masker;
  events: TerminalEvents;
  /** The channel has a terminal: what it echoes decides whether a typed line was secret. */
  pty?: boolean;
  idleMs?: number;
  /** Quiet after which even an open word at the end is emitted (default 1 s). */
  settleMs?: number;
  maxDelayMs?: number;
  maxChars?: number;
  inputIdleMs?: number;
  /** How long a typed character may take to come back on the terminal (default 1 s). */
  echoWindowMs?: number;
  /** Bounds on holding an open multi-line secret (stream-masker.ts). */
  held?: Pick<StreamMaskerOptions, 'maxHeld' | 'maxHeldMs'>;
}

/** A prompt that asks for something secret, at the end of what the terminal shows. */
const SECRET_PROMPT = /\b(pass(word|phrase|code)?|pin|token|secret|otp|verification code)\b[^\n]{0,40}[:?]\s*$/i;
const TAIL_CHARS = 256;

class OutputStream {
  private readonly decoder = new StringDecoder('utf8');
  private readonly masker: StreamMasker;
  private pending = '';
  private counts: MaskCounts = {};
  private firstAt = 0;
  private idleTimer: NodeJS.Timeout | undefined;
  private settleTimer: NodeJS.Timeout | undefined;
  private holdTimer: NodeJS.Timeout | undefined;

  constructor(private readonly rec: TerminalRecorder, masker: Masker, private readonly stream: 'stdout' | 'stderr', held: TerminalRecorderOptions['held']) {
    this.masker = new StreamMasker(masker, held);
  }

  push(chunk: Buffer): string {
    const text = this.decoder.write(chunk);
    if (!text) return text;
    this.take(this.masker.push(text));
    this.firstAt ||= Date.now();
    clearTimeout(this.idleTimer);
    clearTimeout(this.settleTimer);
    clearTimeout(this.holdTimer);
    if (this.pending.length >= this.rec.maxChars || Date.now() - this.firstAt >= this.rec.maxDelayMs) this.emit();
    this.idleTimer = setTimeout(() => this.pause(), this.rec.idleMs);
    this.idleTimer.unref?.();
    this.settleTimer = setTimeout(() => this.quiet(), this.rec.settleMs);
    this.settleTimer.unref?.();
    return text;
  }

  /** The program paused: what is held back goes out, but for an open word at the very end. */
  pause(): void {
    clearTimeout(this.idleTimer);
    this.take(this.masker.settle());
    this.emit();
    this.awaitHeld();
  }

  /** Quiet for long enough: everything goes out but an open multi-line secret. */
  quiet(): void {
    clearTimeout(this.idleTimer);
    clearTimeout(this.settleTimer);
    this.take(this.masker.flush());
    this.emit();
    this.awaitHeld();
  }

  end(): void {
    clearTimeout(this.idleTimer);
    clearTimeout(this.settleTimer);
    clearTimeout(this.holdTimer);
    const rest = this.decoder.end();
    if (rest) this.take(this.masker.push(rest));
    this.take(this.masker.end());
    this.emit();
  }

  /** A secret held open with no more output coming is masked when its time bound passes. */
  private awaitHeld(): void {
    clearTimeout(this.holdTimer);
    const due = this.masker.heldUntil();
    if (due === null) return;
    this.holdTimer = setTimeout(() => this.quiet(), Math.max(0, due - Date.now()));
    this.holdTimer.unref?.();
  }

  private take(r: { text: string; counts: MaskCounts | null }): void {
    this.pending += r.text;
    mergeCounts(this.counts, r.counts);
  }

  private emit(): void {
    this.firstAt = 0;
    if (!this.pending) return;
    const counts = Object.keys(this.counts).length ? this.counts : null;
    this.rec.events.output({ channel: this.rec.channel, text: this.pending, ...(this.stream === 'stderr' ? { stream: 'stderr' as const } : {}) }, counts);
    this.pending = '';
    this.counts = {};
  }
}

export class TerminalRecorder {
  readonly channel: number;
  readonly events: TerminalEvents;
  readonly idleMs: number;
  readonly settleMs: number;
  readonly maxDelayMs: number;
  readonly maxChars: number;
  private readonly inputIdleMs: number;
  private readonly pty: boolean;
  private readonly masker: Masker;
  private readonly stdout: OutputStream;
  private readonly stderr: OutputStream;
  private readonly inputDecoder = new StringDecoder('utf8');
  /** Typed keys and shown text without their escape sequences (echoes are looked for in these). */
  private readonly keys = new EscapeFilter();
  private readonly screen = new EscapeFilter();
  private readonly echo: EchoWatch;
  /** The last characters shown (escapes removed): where prompts are looked for. Never recorded. */
  private shown = '';
  private line = '';
  private inputTimer: NodeJS.Timeout | undefined;

  constructor(opts: TerminalRecorderOptions) {
    this.channel = opts.channel;
    this.events = opts.events;
    this.masker = opts.masker;
    this.pty = opts.pty ?? false;
    this.idleMs = opts.idleMs ?? 30;
    this.settleMs = opts.settleMs ?? 1000;
    this.maxDelayMs = opts.maxDelayMs ?? 100;
    this.maxChars = opts.maxChars ?? 32 * 1024;
    this.inputIdleMs = opts.inputIdleMs ?? 1000;
    this.stdout = new OutputStream(this, this.masker, 'stdout', opts.held);
    this.stderr = new OutputStream(this, this.masker, 'stderr', opts.held);
    this.echo = new EchoWatch({ windowMs: opts.echoWindowMs, onLine: (line) => this.record(line) });
  }

  output(chunk: Buffer, stream: 'stdout' | 'stderr' = 'stdout'): void {
    const text = (stream === 'stderr' ? this.stderr : this.stdout).push(chunk);
    if (!text) return;
    const plain = this.screen.feed(text);
    this.shown = plain.length >= TAIL_CHARS ? plain.slice(-TAIL_CHARS) : (this.shown + plain).slice(-TAIL_CHARS);
    this.echo.shown(plain);
  }

  input(chunk: Buffer): void {
    const text = this.inputDecoder.write(chunk);
    for (const ch of text) {
      if (!this.line) this.beginLine();
      this.line += ch;
      const key = this.keys.feed(ch);
      if (key && isPrintable(key.codePointAt(0)!)) this.echo.typed(key);
      if (ch === '\r' || ch === '\n' || ch === '\u0003' || ch === '\u0004') {
        this.endLine();
      }
    }
    clearTimeout(this.inputTimer);
    if (this.line) {
      this.inputTimer = setTimeout(() => this.endLine(), this.inputIdleMs);
      this.inputTimer.unref?.();
    }
  }

  /** The channel closed: whatever is gathered is recorded. */
  close(): void {
    this.stdout.end();
    this.stderr.end();
    const rest = this.inputDecoder.end();
    if (rest) this.line += rest;
    this.endLine();
    this.echo.close();
  }

  private beginLine(): void {
    const secretPrompt = SECRET_PROMPT.test(this.shown);
    if (this.pty) this.echo.beginLine(secretPrompt ? 'strict' : 'echo');
    else this.echo.beginLine(secretPrompt ? 'echo' : 'none');
  }

  private endLine(): void {
    clearTimeout(this.inputTimer);
    const line = this.line;
    this.line = '';
    if (line) this.echo.endLine(line);
  }

  private record(line: DecidedLine): void {
    if (line.missed > 0) {
      this.events.input({ channel: this.channel, hidden: line.typed }, null);
      return;
    }
    const masked = this.masker.maskText(line.text);
    this.events.input({ channel: this.channel, text: masked.text }, masked.counts);
  }
}

/** A character that is typed to be shown: not a control character (C0, DEL, C1). */
const isPrintable = (c: number) => c >= 0x20 && c !== 0x7f && (c < 0x80 || c > 0x9f);
