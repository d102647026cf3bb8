// Records one SSH channel's terminal traffic as events, beside the relay (which forwards the bytes
// untouched before they get here).
//
// Output: bytes are decoded as UTF-8 across chunk boundaries, masked as a stream (a secret split
// between two reads is still caught: the masker holds a bounded tail back), and gathered into one
// term.output event per burst: emitted when the program pauses (`idleMs`), when a burst runs long
// (`maxDelayMs`), or when it grows large (`maxChars`). On a pause the held tail goes out up to its
// last whitespace; a word still open at the end (perhaps the first part of a token printed in two
// writes) waits for its rest, or for `settleMs` of quiet before it goes out as it is.
//
// Input: keystrokes are gathered per line (masking needs the whole line: a token typed key by key
// never matches one key at a time) and recorded at Enter or after `inputIdleMs`. A line typed
// right after a password-like prompt that the terminal did not echo is recorded as a count of
// hidden characters, never as the characters.
import { StringDecoder } from 'node:string_decoder';
import type { MaskCounts } from '../../common/events/index.ts';
import type { EventData } from '../../common/events/index.ts';
import { mergeCounts, type Masker } from '../masking/masker.ts';
import { StreamMasker } from '../masking/stream-masker.ts';

export interface TerminalEvents {
  output(data: EventData<'term.output'>, masked: MaskCounts | null): void;
  input(data: EventData<'term.input'>, masked: MaskCounts | null): void;
}

export interface TerminalRecorderOptions {
  channel: number;
  masker: Masker;
  events: TerminalEvents;
  idleMs?: number;
  /** Quiet after which even an open word at the end is emitted (default 1 s). */
  settleMs?: number;
  maxDelayMs?: number;
  maxChars?: number;
  inputIdleMs?: number;
}

/** A prompt that asks for something secret, at the end of what the terminal shows. */
const SECRET_PROMPT = /\b(pass(word|phrase|code)?|pin|token|secret|otp|verification code)\b[^\n]{0,40}[:?]\s*$/i;
/** Escape sequences (CSI, OSC, single-character) removed before looking for prompts and echoes. */
// eslint-disable-next-line no-control-regex
const ESCAPES = /\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[@-Z\\-_])/g;
const TAIL_CHARS = 256;
/** What the terminal showed since a line began, kept to tell echo from silence. */
const ECHO_CHARS = 4 * TAIL_CHARS;

class OutputStream {
  private readonly decoder = new StringDecoder('utf8');
  private readonly masker: StreamMasker;
  private pending = '';
  private counts: MaskCounts = {};
  private firstAt = 0;
  private idleTimer: NodeJS.Timeout | undefined;
  private settleTimer: NodeJS.Timeout | undefined;

  constructor(private readonly rec: TerminalRecorder, masker: Masker, private readonly stream: 'stdout' | 'stderr') {
    this.masker = new StreamMasker(masker);
  }

  push(chunk: Buffer): string {
    const text = this.decoder.write(chunk);
    if (!text) return text;
    this.take(this.masker.push(text));
    this.firstAt ||= Date.now();
    clearTimeout(this.idleTimer);
    clearTimeout(this.settleTimer);
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
  }

  /** Quiet for long enough: everything goes out. */
  quiet(): void {
    clearTimeout(this.idleTimer);
    clearTimeout(this.settleTimer);
    this.take(this.masker.flush());
    this.emit();
  }

  end(): void {
    const rest = this.decoder.end();
    if (rest) this.take(this.masker.push(rest));
    this.quiet();
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
  private readonly masker: Masker;
  private readonly stdout: OutputStream;
  private readonly stderr: OutputStream;
  private readonly inputDecoder = new StringDecoder('utf8');
  /** The last characters shown (escapes removed): where prompts are looked for. Never recorded. */
  private shown = '';
  private line = '';
  /** The line being typed answers a secret prompt. */
  private secretLine = false;
  /** What the terminal showed since the line began (to tell echo from silence). Never recorded. */
  private echoed = '';
  private inputTimer: NodeJS.Timeout | undefined;

  constructor(opts: TerminalRecorderOptions) {
    this.channel = opts.channel;
    this.events = opts.events;
    this.masker = opts.masker;
    this.idleMs = opts.idleMs ?? 30;
    this.settleMs = opts.settleMs ?? 1000;
    this.maxDelayMs = opts.maxDelayMs ?? 100;
    this.maxChars = opts.maxChars ?? 32 * 1024;
    this.inputIdleMs = opts.inputIdleMs ?? 1000;
    this.stdout = new OutputStream(this, this.masker, 'stdout');
    this.stderr = new OutputStream(this, this.masker, 'stderr');
  }

  output(chunk: Buffer, stream: 'stdout' | 'stderr' = 'stdout'): void {
    const text = (stream === 'stderr' ? this.stderr : this.stdout).push(chunk);
    if (!text) return;
    // Prompts and echoes are looked for at the end of what is shown: a bulk output's last part is
    // all that can matter, so only that is cleaned of escapes (not every byte of a large `cat`).
    const plain = (text.length > ECHO_CHARS ? text.slice(-ECHO_CHARS) : text).replace(ESCAPES, '');
    this.shown = (this.shown + plain).slice(-TAIL_CHARS);
    if (this.line) this.echoed = (this.echoed + plain).slice(-ECHO_CHARS);
  }

  input(chunk: Buffer): void {
    const text = this.inputDecoder.write(chunk);
    for (const ch of text) {
      if (!this.line) this.beginLine();
      this.line += ch;
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
  }

  private beginLine(): void {
    this.secretLine = SECRET_PROMPT.test(this.shown);
    this.echoed = '';
  }

  private endLine(): void {
    clearTimeout(this.inputTimer);
    const line = this.line;
    this.line = '';
    if (!line) return;
    if (this.secretLine && !this.wasEchoed(line)) {
      // Control characters (Enter, Ctrl-C) are not part of what was typed in secret.
      const hidden = [...line].filter((c) => c >= ' ' && c !== '\u007f').length;
      this.events.input({ channel: this.channel, hidden }, null);
      return;
    }
    const masked = this.masker.maskText(line);
    this.events.input({ channel: this.channel, text: masked.text }, masked.counts);
  }

  /** Whether the printable characters typed came back on the terminal, in order. */
  private wasEchoed(line: string): boolean {
    const typed = [...line].filter((c) => c > ' ' && c !== '\u007f');
    if (typed.length === 0) return true;
    let at = 0;
    for (const c of this.echoed) if (c === typed[at] && ++at === typed.length) return true;
    return false;
  }
}
