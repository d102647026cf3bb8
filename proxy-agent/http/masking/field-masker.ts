// The one place the HTTP maskers turn values into markers and count them. A value is masked
// either whole, by its name (a secret field: `[SECRET_COLUMN]`; a credential header:
// `[CREDENTIAL]`), or by the masking engine's detectors, read after its name (`"client_secret":
// "`, `token=`, `Authorization: `) so that the rules keyed on a name see it, while only the value
// is rendered. One FieldMasker per masked thing (a head, a body, a stream) collects its counts.
import type { MaskCounts } from '../../../common/events/schema.ts';
import { mergeCounts, SECRET_COLUMN, type Masker } from '../../masking/masker.ts';
import { secretNameRule } from './secret-names.ts';

/** Count name of header values masked whole because they are credentials (Authorization, Cookie...). */
export const CREDENTIAL = 'CREDENTIAL';
export const CREDENTIAL_MARKER = `[${CREDENTIAL}]`;

export class FieldMasker {
  private counts: MaskCounts = {};
  /** Whether a name holds a secret by itself (the column rules; see secret-names.ts). */
  readonly isSecretName: (name: string) => boolean;

  constructor(readonly masker: Masker) {
    this.isSecretName = secretNameRule(masker);
  }

  /** The marker of a value masked whole by its name (counted under SECRET_COLUMN). */
  secretField(): string {
    this.count(SECRET_COLUMN);
    return this.masker.columnMarker;
  }

  /** The marker of a credential masked whole (counted under CREDENTIAL). */
  credential(): string {
    this.count(CREDENTIAL);
    return CREDENTIAL_MARKER;
  }

  /**
   * `value` masked by the detectors, read as if `before` came just before it and `after` just
   * after (its name, the quotes around it). The same string when nothing matched.
   */
  value(value: string, before = '', after = ''): string {
    if (value.length === 0) return value;
    const text = before.length === 0 && after.length === 0 ? value : before + value + after;
    const spans = this.masker.findSpans(text);
    if (spans === null) return value;
    const from = before.length;
    const to = from + value.length;
    if (!spans.some((s) => s.end > from && s.start < to)) return value;
    return this.masker.render(text, spans, this.counts, from, to);
  }

  /** A whole text masked by the detectors. */
  text(text: string): string {
    const r = this.masker.maskText(text);
    mergeCounts(this.counts, r.counts);
    return r.text;
  }

  /** Adds counts found elsewhere (a stream masker's). */
  add(counts: MaskCounts | null): void {
    mergeCounts(this.counts, counts);
  }

  /** The counts so far (null when nothing was masked), and a fresh start. */
  take(): MaskCounts | null {
    const counts = this.counts;
    this.counts = {};
    for (const _ in counts) return counts;
    return null;
  }

  private count(rule: string): void {
    this.counts[rule] = (this.counts[rule] ?? 0) + 1;
  }
}
