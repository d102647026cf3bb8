// Masks a stream of text (COPY content, terminal output) whose chunks can cut a secret anywhere.
// A bounded tail stays unflushed until the next chunk: text is emitted only once what follows it
// can no longer change how it is masked.
//
// Where the emitted part ends (the cut):
// - at least `holdBack` characters before the end of what has arrived;
// - not inside a run of non-space characters (a token whose end has not arrived may not match
//   yet), unless that would keep more than 4 x holdBack;
// - never inside a match: a match that is complete moves the cut past it, one that still touches
//   the end (a PEM block without its END line yet) moves the cut before it.
// Kept tails are bounded by 4 x holdBack: past that, an open match is emitted as its marker and
// the stream remembers the match's beginning so its continuation is still recognised and dropped.
// So a secret is always masked when what identifies it (a whole JWT, a PEM header, "PASSWORD '")
// fits in the tail; the default 4096 covers every format the detectors know.
// Already-emitted text is kept as left context (e.g. "PASSWORD " before a literal in the next
// chunk) but never emitted twice.
import type { MaskCounts } from '../../common/events/schema.ts';
import type { Masker, MaskResult } from './masker.ts';
import type { Span } from './spans.ts';

/** Characters after a match that must have arrived before the match counts as complete. */
const GUARD = 64;
/** Already-emitted characters kept for detectors that look back (keywords before a secret). */
const LEFT_CONTEXT = 256;
const NOTHING: MaskResult = Object.freeze({ text: '', counts: null });

export interface StreamMaskerOptions {
  /** Characters held back from each push (default 4096). */
  holdBack?: number;
}

export class StreamMasker {
  private readonly holdBack: number;
  private readonly maxTail: number;
  /** Text not yet emitted, after `ctx` characters of already-emitted context. */
  private buf = '';
  private ctx = 0;
  /** The context ends inside a match whose marker was already emitted. */
  private continuing = false;

  constructor(
    private readonly masker: Masker,
    opts: StreamMaskerOptions = {},
  ) {
    const holdBack = opts.holdBack ?? 4096;
    if (!Number.isInteger(holdBack) || holdBack < 1) throw new Error(`StreamMasker: holdBack must be a positive integer, got ${holdBack}`);
    this.holdBack = holdBack;
    this.maxTail = holdBack * 4;
  }

  /** Masked text that is safe to emit now (possibly empty). */
  push(chunk: string): MaskResult {
    this.buf += chunk;
    const text = this.buf;
    if (text.length - this.ctx <= this.holdBack) return NOTHING;
    const spans = this.masker.findSpans(text) ?? [];
    const natural = text.length - this.holdBack;
    let cut = outsideSpans(spans, outsideRun(text, natural, text.length - this.maxTail), text.length);
    if (cut <= this.ctx) {
      if (text.length - this.ctx <= this.maxTail) return NOTHING;
      cut = outsideSpans(spans, natural, text.length);
      if (cut <= this.ctx) return this.emitOpenMatch(text, spans, natural);
    }
    const counts: MaskCounts = {};
    const out = this.masker.render(text, spans, counts, this.ctx, cut, this.continuing);
    this.keepAfter(text, spans, cut);
    return result(out, counts);
  }

  /**
   * On a pause in the stream: everything up to the last whitespace, masked, and never into a match
   * that may still grow. What follows it (the start of a word, which may be the first part of a
   * token whose rest has not arrived) stays held for `flush` after a longer deadline.
   */
  settle(): MaskResult {
    const text = this.buf;
    let cut = text.length;
    while (cut > this.ctx && !isSpace(text.charCodeAt(cut - 1))) cut--;
    if (cut <= this.ctx) return NOTHING;
    const spans = this.masker.findSpans(text) ?? [];
    cut = outsideSpans(spans, cut, text.length);
    if (cut <= this.ctx) return NOTHING;
    const counts: MaskCounts = {};
    const out = this.masker.render(text, spans, counts, this.ctx, cut, this.continuing);
    this.keepAfter(text, spans, cut);
    return result(out, counts);
  }

  /**
   * Everything not yet emitted, masked. The stream can go on afterwards (e.g. a flush on a short
   * deadline for a quiet terminal): the emitted end is kept as context for the next chunk.
   */
  flush(): MaskResult {
    const text = this.buf;
    if (text.length === this.ctx) return NOTHING;
    const spans = this.masker.findSpans(text) ?? [];
    const counts: MaskCounts = {};
    const out = this.masker.render(text, spans, counts, this.ctx, text.length, this.continuing);
    this.keepAfter(text, spans, text.length);
    return result(out, counts);
  }

  /** After emitting text[.., cut): keep the rest plus some left context. */
  private keepAfter(text: string, spans: readonly Span[], cut: number): void {
    const start = Math.max(0, cut - LEFT_CONTEXT);
    this.buf = text.slice(start);
    this.ctx = cut - start;
    this.continuing = spans.some((s) => s.start < cut && s.end >= cut);
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
    if (open && cut === text.length) {
      this.buf = text.slice(open.start, open.start + LEFT_CONTEXT);
      this.ctx = this.buf.length;
      this.continuing = true;
    } else {
      this.keepAfter(text, spans, cut);
    }
    return result(out, counts);
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

/** Moves `cut` out of the match containing it: past it when complete, before it when still open. */
function outsideSpans(spans: readonly Span[], cut: number, length: number): number {
  for (const s of spans) {
    if (s.start < cut && cut < s.end) return s.end <= length - GUARD ? s.end : s.start;
    if (s.start >= cut) break;
  }
  return cut;
}
