// Matches from every detector are collected as spans over the original text, merged, and only
// then replaced: two detectors matching overlapping text give one marker, never nested markers
// or a half-masked fragment.

export interface Span {
  start: number;
  end: number;
  /** Index of the rule in the masker's rule table; after merging, the rule that names the span. */
  rule: number;
}

/** Where detectors put their matches. `rule` is set by the masker before each detector runs. */
export class SpanSink {
  readonly spans: Span[] = [];
  rule = 0;
  /** Positions a detector keeps for the rest of one scan (how far it has read ahead), by its own key. */
  private marks: Map<symbol, number> | null = null;
  /** Whether the detectors find anything in another text (set by the scan; a value's decoded form). */
  findsAny: (text: string) => boolean = () => false;

  /** Empty again, for the next scan. */
  reset(): this {
    this.spans.length = 0;
    this.rule = 0;
    this.marks = null;
    return this;
  }

  add(start: number, end: number): void {
    if (end > start) this.spans.push({ start, end, rule: this.rule });
  }

  mark(key: symbol): number | undefined {
    return this.marks?.get(key);
  }

  setMark(key: symbol, at: number): void {
    (this.marks ??= new Map()).set(key, at);
  }
}

/**
 * Sorts and unions overlapping spans. A merged span is named after the match that starts first
 * (the longer one on a tie, then the lower rule index: built-ins before custom rules).
 */
export function mergeSpans(spans: Span[]): Span[] {
  if (spans.length < 2) return spans;
  spans.sort((a, b) => a.start - b.start || b.end - a.end || a.rule - b.rule);
  const out: Span[] = [];
  let cur = { ...spans[0] };
  for (let i = 1; i < spans.length; i++) {
    const s = spans[i];
    if (s.start < cur.end) {
      if (s.end > cur.end) cur.end = s.end;
    } else {
      out.push(cur);
      cur = { ...s };
    }
  }
  out.push(cur);
  return out;
}

/**
 * Replaces merged spans in text[from, to) by their markers and adds one count per span to
 * `counts`. A span reaching back before `from` continues one whose marker was already emitted
 * when `continuing` (its rest is dropped); otherwise its rest gets a marker of its own.
 */
export function renderSpans(
  text: string,
  spans: readonly Span[],
  markers: readonly string[],
  names: readonly string[],
  counts: Record<string, number>,
  from = 0,
  to = text.length,
  continuing = false,
): string {
  let out = '';
  let pos = from;
  for (const s of spans) {
    if (s.end <= from || s.start >= to) continue;
    if (s.start >= from || !continuing) {
      out += text.slice(pos, Math.max(s.start, from)) + markers[s.rule];
      const name = names[s.rule];
      counts[name] = (counts[name] ?? 0) + 1;
    }
    pos = Math.min(s.end, to);
  }
  return out + text.slice(pos, to);
}
