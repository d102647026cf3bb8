// Masks a stream of text (COPY content, terminal output) whose chunks can cut a secret anywhere.
// A bounded tail stays unflushed until the next chunk: text is emitted only once what follows it
// can no longer change how it is masked.
//
// Where the emitted part ends (the cut):
// - at least `holdBack` characters before the end of what has arrived;
// - not inside a run of non-space characters (a token whose end has not arrived may not match
//   yet), unless that would keep more than 4 x holdBack;
// - never inside a match: a match that is complete moves the cut past it, one that still touches
//   the end (a PEM block without its END line yet) moves the cut before it;
// - never into a secret that spans lines and is still open (open-secrets.ts: a PEM block without
//   its END line, a string literal after PASSWORD not closed yet), not even on a pause or a flush:
//   it is held whole until it closes, for at most `maxHeld` characters and `maxHeldMs`. Past
//   either bound it is masked as it stands (fail closed: its marker, never its text), and the rest
//   of it, as it arrives, is still dropped: a key's base64 lines up to its END line (key-rest.ts),
//   or, for the others, what the detector reads as its continuation (its beginning is kept as
//   context). (A key printed line by line with pauses used to go out as its marker at the first
//   pause; the next lines, no longer seen after their BEGIN line, went out in clear.)
// Kept tails are bounded by 4 x holdBack: past that, an open match is emitted as its marker and
// the stream remembers the match's beginning so its continuation is still recognised and dropped.
// So a secret is always masked when what identifies it (a whole JWT, a PEM header, "PASSWORD '")
// fits in the tail; the default 4096 covers every format the detectors know.
// Already-emitted text is kept as left context (e.g. "PASSWORD " before a literal in the next
// chunk) but never emitted twice.
import type { MaskCounts } from '../../common/events/schema.ts';
import type { Masker, MaskResult } from './masker.ts';
import { keyLineUnderWay, keyRestEnd } from './key-rest.ts';
import { type OpenSecret, OpenSecrets, opensKey } from './open-secrets.ts';
import type { Span } from './spans.ts';

/** Characters after a match that must have arrived before the match counts as complete. */
const GUARD = 64;
/** Already-emitted characters kept for detectors that look back (keywords before a secret). */
const LEFT_CONTEXT = 256;
const NOTHING: MaskResult = Object.freeze({ text: '', counts: null });

/** An open multi-line secret is held up to this many characters (a 4096-bit RSA key is about 3.3 KB)... */
export const HELD_MAX_CHARS = 16 * 1024;
/** ...and this long: a key printed a line a second still closes well within it. */
export const HELD_MAX_MS = 30_000;

export interface StreamMaskerOptions {
  /** Characters held back from each push (default 4096). */
  holdBack?: number;
  /** Characters of an open multi-line secret held before it is masked as it stands (default HELD_MAX_CHARS). */
  maxHeld?: number;
  /** Milliseconds an open multi-line secret is held before it is masked as it stands (default HELD_MAX_MS). */
  maxHeldMs?: number;
  /** The clock the time bound is read on (default Date.now). */
  now?: () => number;
}

export class StreamMasker {
  private readonly holdBack: number;
  private readonly maxTail: number;
  private readonly maxHeld: number;
  private readonly maxHeldMs: number;
  private readonly now: () => number;
  private readonly openSecrets: OpenSecrets;
  /** Text not yet emitted, after `ctx` characters of already-emitted context. */
  private buf = '';
  private ctx = 0;
  /** The context ends inside a match whose marker was already emitted. */
  private continuing = false;
  /** Where the open secret being held starts in `buf` (-1: none), and since when it is held. */
  private heldStart = -1;
  private heldSince = 0;
  /** A key was masked as it stood: what arrives is dropped while it can be the rest of it. */
  private inKeyRest = false;

  constructor(
    private readonly masker: Masker,
    opts: StreamMaskerOptions = {},
  ) {
    const holdBack = opts.holdBack ?? 4096;
    if (!Number.isInteger(holdBack) || holdBack < 1) throw new Error(`StreamMasker: holdBack must be a positive integer, got ${holdBack}`);
    const maxHeld = opts.maxHeld ?? HELD_MAX_CHARS;
    if (!Number.isInteger(maxHeld) || maxHeld < 1) throw new Error(`StreamMasker: maxHeld must be a positive integer, got ${maxHeld}`);
    const maxHeldMs = opts.maxHeldMs ?? HELD_MAX_MS;
    if (!(maxHeldMs > 0)) throw new Error(`StreamMasker: maxHeldMs must be positive, got ${maxHeldMs}`);
    this.holdBack = holdBack;
    this.maxTail = holdBack * 4;
    this.maxHeld = maxHeld;
    this.maxHeldMs = maxHeldMs;
    this.now = opts.now ?? Date.now;
    this.openSecrets = new OpenSecrets(masker);
  }

  /** Masked text that is safe to emit now (possibly empty). */
  push(chunk: string): MaskResult {
    this.buf += chunk;
    if (this.dropKeyRest(false)) return NOTHING;
    const text = this.buf;
    if (text.length - this.ctx <= this.holdBack && !this.overdue()) return NOTHING;
    const spans = this.masker.findSpans(text) ?? [];
    const open = this.track(text, spans);
    if (open && this.pastBounds(text, open)) return this.failClosed(text, spans, open);
    const natural = text.length - this.holdBack;
    let cut = outsideSpans(spans, outsideRun(text, natural, text.length - this.maxTail), text.length);
    if (open) cut = Math.min(cut, open.start);
    if (cut <= this.ctx) {
      if (open || text.length - this.ctx <= this.maxTail) return NOTHING;
      cut = outsideSpans(spans, natural, text.length);
      if (cut <= this.ctx) return this.emitOpenMatch(text, spans, natural);
    }
    return this.emit(text, spans, cut);
  }

  /**
   * On a pause in the stream: everything up to the last whitespace, masked, and never into a match
   * that may still grow. What follows it (the start of a word, which may be the first part of a
   * token whose rest has not arrived) stays held for `flush` after a longer deadline, and so do
   * the groups of a number printed in groups ("4111 1111 ") and an open multi-line secret.
   */
  settle(): MaskResult {
    if (this.dropKeyRest(false)) return NOTHING;
    const text = this.buf;
    if (text.length === this.ctx) return this.nothingHeld();
    let cut = text.length;
    while (cut > this.ctx && !isSpace(text.charCodeAt(cut - 1))) cut--;
    cut = beforeGroups(text, cut, this.ctx);
    const spans = this.masker.findSpans(text) ?? [];
    const open = this.track(text, spans);
    if (open && this.pastBounds(text, open)) return this.failClosed(text, spans, open);
    cut = outsideSpans(spans, cut, text.length);
    if (open) cut = Math.min(cut, open.start);
    if (cut <= this.ctx) return NOTHING;
    return this.emit(text, spans, cut);
  }

  /**
   * Everything not yet emitted, masked, but an open multi-line secret (held until it closes or a
   * bound passes: see heldUntil). The stream can go on afterwards (e.g. a flush on a short
   * deadline for a quiet terminal): the emitted end is kept as context for the next chunk.
   */
  flush(): MaskResult {
    if (this.dropKeyRest(false)) return NOTHING;
    const text = this.buf;
    if (text.length === this.ctx) return this.nothingHeld();
    const spans = this.masker.findSpans(text) ?? [];
    const open = this.track(text, spans);
    if (open && this.pastBounds(text, open)) return this.failClosed(text, spans, open);
    const cut = open ? open.start : text.length;
    if (cut <= this.ctx) return NOTHING;
    return this.emit(text, spans, cut);
  }

  /** The stream ended: everything not yet emitted, masked as masking the whole text would. */
  end(): MaskResult {
    if (this.dropKeyRest(true)) return NOTHING;
    const text = this.buf;
    this.heldStart = -1;
    if (text.length === this.ctx) return NOTHING;
    const spans = this.masker.findSpans(text) ?? [];
    return this.emit(text, spans, text.length);
  }

  /** When what is held now must be masked as it stands (call flush then), or null when nothing is held. */
  heldUntil(): number | null {
    return this.heldStart < 0 ? null : this.heldSince + this.maxHeldMs;
  }

  private emit(text: string, spans: readonly Span[], cut: number): MaskResult {
    const counts: MaskCounts = {};
    const out = this.masker.render(text, spans, counts, this.ctx, cut, this.continuing);
    this.keepAfter(text, spans, cut);
    return result(out, counts);
  }

  /** After emitting text[.., cut): keep the rest plus some left context. */
  private keepAfter(text: string, spans: readonly Span[], cut: number): void {
    const start = Math.max(0, cut - LEFT_CONTEXT);
    this.buf = text.slice(start);
    this.ctx = cut - start;
    this.continuing = spans.some((s) => s.start < cut && s.end >= cut);
    if (this.heldStart >= 0) this.heldStart = Math.max(-1, this.heldStart - start);
  }

  /** The open multi-line secret at the end of `text`, if any, with when it began to be held. */
  private track(text: string, spans: readonly Span[]): OpenSecret | null {
    const open = this.openSecrets.find(text, spans);
    if (!open) {
      this.heldStart = -1;
    } else if (open.start !== this.heldStart) {
      this.heldStart = open.start;
      this.heldSince = this.now();
    }
    return open;
  }

  private nothingHeld(): MaskResult {
    this.heldStart = -1;
    return NOTHING;
  }

  private overdue(): boolean {
    return this.heldStart >= 0 && this.now() - this.heldSince >= this.maxHeldMs;
  }

  private pastBounds(text: string, open: OpenSecret): boolean {
    return text.length - Math.max(open.start, this.ctx) > this.maxHeld || this.overdue();
  }

  /**
   * An open multi-line secret held too long or grown too large: what is held goes out as its
   * marker (the matched span's, or the rule of an opener no span covers yet), never as text.
   */
  private failClosed(text: string, spans: readonly Span[], open: OpenSecret): MaskResult {
    const counts: MaskCounts = {};
    let out: string;
    if (open.rule === null && opensKey(text, open.start)) {
      out = this.masker.render(text, spans, counts, this.ctx, text.length, this.continuing);
      // The key's BEGIN line is not kept: its rest is told by its shape, so that a BEGIN line with
      // no key after it does not swallow the rest of the stream. A line under way is its start.
      const line = keyLineUnderWay(text, open.start);
      this.buf = line >= 0 ? text.slice(line) : '';
      this.ctx = 0;
      this.continuing = false;
      this.heldStart = -1;
      this.inKeyRest = true;
      return result(out, counts);
    }
    if (open.rule === null) {
      out = this.masker.render(text, spans, counts, this.ctx, text.length, this.continuing);
    } else {
      out = this.masker.render(text, spans, counts, this.ctx, Math.max(open.start, this.ctx), this.continuing);
      // An opener already masked by an earlier bound (it is in the context) is not counted twice.
      if (!(open.start < this.ctx && this.continuing)) {
        out += `[${open.rule}]`;
        counts[open.rule] = (counts[open.rule] ?? 0) + 1;
      }
    }
    this.retain(text, open.start);
    return result(out, counts);
  }

  /**
   * After a key masked as it stood: drops from the text not yet emitted what is still the key's.
   * True while all of it was (more may follow, or an END line is under way: nothing to emit yet).
   * At the end of the stream a line under way is dropped too.
   */
  private dropKeyRest(final: boolean): boolean {
    if (!this.inKeyRest) return false;
    const rest = keyRestEnd(this.buf, this.ctx);
    this.buf = rest.done || !final ? this.buf.slice(rest.end) : '';
    this.ctx = 0;
    this.continuing = false;
    if (!rest.done) return true;
    this.inKeyRest = false;
    return false;
  }

  /**
   * The tail is one match still touching the end and longer than the bound: emit it as its
   * marker now. When it runs to the very end, keep only its beginning, so the next chunks are
   * read as its continuation (a PEM body until its END line) and dropped.
   */
  private emitOpenMatch(text: string, spans: readonly Span[], natural: number): MaskResult {
    const open = spans.find((s) => s.start <= natural && s.end > natural);
    const cut = open ? open.end : text.length;
    const counts: MaskCounts = {};
    const out = this.masker.render(text, spans, counts, this.ctx, cut, this.continuing);
    if (open && cut === text.length) this.retain(text, open.start);
    else this.keepAfter(text, spans, cut);
    return result(out, counts);
  }

  /**
   * After masking everything up to the end, inside a secret that began at `start`: keep its
   * beginning with the context before it (what makes the detector read what follows as its
   * continuation) and the last characters (an END line may be split there), all as context.
   */
  private retain(text: string, start: number): void {
    const head = text.slice(Math.max(0, start - LEFT_CONTEXT), start + LEFT_CONTEXT);
    const tailFrom = Math.max(start + LEFT_CONTEXT, text.length - GUARD);
    this.buf = tailFrom < text.length ? head + text.slice(tailFrom) : head;
    this.ctx = this.buf.length;
    this.continuing = true;
    this.heldStart = -1;
  }
}

function result(text: string, counts: MaskCounts): MaskResult {
  for (const _ in counts) return { text, counts };
  return { text, counts: null };
}

/**
 * Moves `cut` back to the start of the non-space run it splits. A run reaching back past `floor`
 * (the tail bound) is cut anyway.
 */
function outsideRun(text: string, cut: number, floor: number): number {
  // Never split a UTF-16 surrogate pair.
  if (cut > 0 && (text.charCodeAt(cut - 1) & 0xfc00) === 0xd800) cut--;
  const lo = Math.max(0, floor);
  let i = cut;
  while (i > lo && !isSpace(text.charCodeAt(i - 1))) i--;
  if (i > lo || lo === 0 || isSpace(text.charCodeAt(lo - 1))) return i;
  return cut;
}

const isSpace = (c: number) => c === 32 || c === 10 || c === 13 || c === 9 || c === 12 || c === 11;
/** What a group of a number printed in groups is made of: digits, capitals (an IBAN), + ( ) of a phone number. */
const isGroupChar = (c: number) => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || c === 43 || c === 40 || c === 41;
const isDigit = (c: number) => c >= 48 && c <= 57;

/**
 * Moves a cut that follows a space back before the groups of a number printed in groups ("4111
 * 1111 ", "+1 (555) ", "GB82 WEST 1234 "): card, phone and IBAN numbers are read across those
 * spaces, so their first groups wait for the rest like an open word does. Words of up to five
 * such characters, one space apart, at least one digit among them; at most six of them.
 */
function beforeGroups(text: string, cut: number, floor: number): number {
  let at = cut;
  let digits = false;
  for (let groups = 0; groups < 6 && at - 1 > floor && text.charCodeAt(at - 1) === 32; groups++) {
    let i = at - 1;
    let hasDigit = false;
    while (i > floor && at - 1 - i < 5 && isGroupChar(text.charCodeAt(i - 1))) {
      if (isDigit(text.charCodeAt(i - 1))) hasDigit = true;
      i--;
    }
    if (i === at - 1 || (i > floor && !isSpace(text.charCodeAt(i - 1)))) break;
    digits ||= hasDigit;
    at = i;
  }
  return digits ? at : cut;
}

/** Moves `cut` out of the match containing it: past it when complete, before it when still open. */
function outsideSpans(spans: readonly Span[], cut: number, length: number): number {
  for (const s of spans) {
    if (s.start < cut && cut < s.end) return s.end <= length - GUARD ? s.end : s.start;
    if (s.start >= cut) break;
  }
  return cut;
}
