// The agent's masking engine: every text that leaves the agent (query text, parameters, result
// cells, error messages, COPY content) goes through one Masker per target. Matches become markers
// naming the rule, e.g. "[EMAIL]", and the caller records how many values each rule masked.
import type { Masking } from '../../common/config/schema.ts';
import type { MaskCounts } from '../../common/events/schema.ts';
import { compileRules, type CompiledRule } from './custom-rules.ts';
import { DETECTORS, detectorByName } from './detectors/index.ts';
import { Scanner } from './scanner.ts';
import { mergeSpans, renderSpans, type Span, SpanSink } from './spans.ts';

export interface MaskResult {
  text: string;
  /** Values masked per rule; null when nothing matched. */
  counts: MaskCounts | null;
}

/** Count name used for values masked whole because of their column name. */
export const SECRET_COLUMN = 'SECRET_COLUMN';

export class Masker {
  readonly columnMarker = `[${SECRET_COLUMN}]`;
  private readonly scanner: Scanner;
  private readonly sink = new SpanSink();
  private scanning = false;
  private readonly custom: CompiledRule[];
  /** Rule index -> name and marker: built-ins first, then custom rules. */
  private readonly names: string[];
  private readonly markers: string[];
  /** The column rules, lower case: a column whose name holds one of them is secret. */
  readonly columnNeedles: readonly string[];
  private readonly builtinRules: number;

  constructor(config: Masking) {
    const enabled = config.detectors === 'all' ? DETECTORS : config.detectors.map(detectorByName);
    // Rule indexes follow DETECTORS whether enabled or not: they break ties between overlapping matches.
    const builtins: string[] = [];
    const bases = DETECTORS.map((detector) => builtins.push(...(detector.rules ?? [detector.name])) - (detector.rules?.length ?? 1));
    const on = DETECTORS.flatMap((detector, i) => (enabled.includes(detector) ? [i] : []));
    this.scanner = new Scanner(on.map((i) => DETECTORS[i]), on.map((i) => bases[i]));
    this.builtinRules = builtins.length;
    this.custom = compileRules(config.rules);
    this.names = [...builtins, ...this.custom.map((r) => r.name)];
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

  /** True when `text` leaves after the scan alone, without running any detector's pattern. */
  isFastPath(text: string): boolean {
    if (this.custom.length > 0) return false;
    this.scanner.scan(text, new SpanSink());
    return this.scanner.checks === 0;
  }

  /** Merged spans to mask in `text`, or null when nothing matched. Used by StreamMasker. */
  findSpans(text: string): Span[] | null {
    // One sink serves every call (most texts match nothing: no allocation); a detector that masks
    // by what a value decodes to scans again from inside a scan, with a sink of its own.
    const nested = this.scanning;
    const sink = nested ? new SpanSink() : this.sink.reset();
    this.scanning = true;
    try {
      this.scanner.scan(text, sink);
    } finally {
      this.scanning = nested;
    }
    for (let i = 0; i < this.custom.length; i++) {
      sink.rule = this.builtinRules + i;
      const re = this.custom[i].re;
      re.lastIndex = 0;
      let m: RegExpExecArray | null;
      while ((m = re.exec(text)) !== null) {
        if (m[0].length === 0) re.lastIndex++;
        else sink.add(m.index, m.index + m[0].length);
      }
    }
    return sink.spans.length === 0 ? null : mergeSpans(sink.spans.slice());
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
