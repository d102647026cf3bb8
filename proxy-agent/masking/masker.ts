// The agent's masking engine: every text that leaves the agent (query text, parameters, result
// cells, error messages, COPY content) goes through one Masker per target. Matches become markers
// naming the rule, e.g. "[EMAIL]", and the caller records how many values each rule masked.
import type { Masking } from '../../common/config/schema.ts';
import type { MaskCounts } from '../../common/events/schema.ts';
import { compileRules, type CompiledRule } from './custom-rules.ts';
import { DETECTORS, detectorByName, type Detector } from './detectors/index.ts';
import { mergeSpans, renderSpans, type Span, SpanSink } from './spans.ts';
import { scanTriggers } from './triggers.ts';

export interface MaskResult {
  text: string;
  /** Values masked per rule; null when nothing matched. */
  counts: MaskCounts | null;
}

/** Count name used for values masked whole because of their column name. */
export const SECRET_COLUMN = 'SECRET_COLUMN';

export class Masker {
  readonly columnMarker = `[${SECRET_COLUMN}]`;
  /** Enabled built-ins with their rule index (their position in DETECTORS). */
  private readonly detectors: { rule: number; detector: Detector }[];
  private readonly triggerMask: number;
  private readonly custom: CompiledRule[];
  /** Rule index -> name and marker: built-ins first, then custom rules. */
  private readonly names: string[];
  private readonly markers: string[];
  private readonly columnNeedles: string[];

  constructor(config: Masking) {
    const enabled = config.detectors === 'all' ? DETECTORS : config.detectors.map(detectorByName);
    this.detectors = DETECTORS.flatMap((detector, rule) => (enabled.includes(detector) ? [{ rule, detector }] : []));
    this.triggerMask = this.detectors.reduce((mask, d) => mask | d.detector.trigger, 0);
    this.custom = compileRules(config.rules);
    this.names = [...DETECTORS.map((d) => d.name), ...this.custom.map((r) => r.name)];
    this.markers = this.names.map((n) => `[${n}]`);
    this.columnNeedles = config.columns.map((c) => c.toLowerCase());
  }

  /** Masks every enabled detector and custom rule in `text`. */
  maskText(text: string): MaskResult {
    const spans = this.findSpans(text);
    if (spans === null) return { text, counts: null };
    const counts: MaskCounts = {};
    return { text: renderSpans(text, spans, this.markers, this.names, counts), counts };
  }

  /** Whether a column's values are secret by its name (case-insensitive substring match). */
  isSecretColumn(columnName: string): boolean {
    if (this.columnNeedles.length === 0) return false;
    const name = columnName.toLowerCase();
    return this.columnNeedles.some((needle) => name.includes(needle));
  }

  /**
   * Masks a row of text cells; secret columns are replaced whole by `columnMarker`. Adds into
   * `counts`. Returns the same array instance when nothing changed (no allocation on the fast path).
   */
  maskRow(cells: (string | null)[], secretColumns: boolean[] | null, counts: MaskCounts): (string | null)[] {
    let out: (string | null)[] | null = null;
    for (let i = 0; i < cells.length; i++) {
      const cell = cells[i];
      if (cell === null) continue;
      let masked: string;
      if (secretColumns !== null && secretColumns[i]) {
        masked = this.columnMarker;
        counts[SECRET_COLUMN] = (counts[SECRET_COLUMN] ?? 0) + 1;
      } else {
        const spans = this.findSpans(cell);
        if (spans === null) continue;
        masked = renderSpans(cell, spans, this.markers, this.names, counts);
      }
      if (masked !== cell) (out ??= cells.slice())[i] = masked;
    }
    return out ?? cells;
  }

  /** True when `text` leaves after the trigger scan alone, without running any pattern. */
  isFastPath(text: string): boolean {
    return this.custom.length === 0 && (scanTriggers(text) & this.triggerMask) === 0;
  }

  /** Merged spans to mask in `text`, or null when nothing matched. Used by StreamMasker. */
  findSpans(text: string): Span[] | null {
    const triggers = scanTriggers(text) & this.triggerMask;
    if (triggers === 0 && this.custom.length === 0) return null;
    const sink = new SpanSink();
    for (const { rule, detector } of this.detectors) {
      if ((triggers & detector.trigger) === 0) continue;
      sink.rule = rule;
      detector.find(text, sink);
    }
    for (let i = 0; i < this.custom.length; i++) {
      sink.rule = DETECTORS.length + i;
      const re = this.custom[i].re;
      re.lastIndex = 0;
      let m: RegExpExecArray | null;
      while ((m = re.exec(text)) !== null) {
        if (m[0].length === 0) re.lastIndex++;
        else sink.add(m.index, m.index + m[0].length);
      }
    }
    return sink.spans.length === 0 ? null : mergeSpans(sink.spans);
  }

  /** Renders text[from, to) with `spans` replaced; see renderSpans. */
  render(text: string, spans: readonly Span[], counts: MaskCounts, from?: number, to?: number, continuing?: boolean): string {
    return renderSpans(text, spans, this.markers, this.names, counts, from, to, continuing);
  }
}

/** Adds `add` into `into` (no-op for null). */
export function mergeCounts(into: MaskCounts, add: MaskCounts | null): void {
  if (add === null) return;
  for (const key in add) into[key] = (into[key] ?? 0) + add[key];
}
