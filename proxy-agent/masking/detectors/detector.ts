import type { BUILTIN_DETECTORS } from '../../../common/config/schema.ts';
import type { SpanSink } from '../spans.ts';

export type DetectorName = (typeof BUILTIN_DETECTORS)[number];

/**
 * A built-in detector. `trigger` is the bit of scanTriggers() without which it cannot match;
 * `find` adds the span to mask for every match (only the secret part, e.g. the token after
 * "Bearer "). Patterns are anchored on a literal or bounded so a scan stays linear.
 */
export interface Detector {
  readonly name: DetectorName;
  readonly trigger: number;
  find(text: string, out: SpanSink): void;
}

export const isDigitCode = (c: number) => c >= 48 && c <= 57;
export const isAlnumCode = (c: number) => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);

/**
 * Runs a global regex over text and hands each match to `onMatch`. Zero-length matches advance
 * by one so a careless pattern cannot loop forever.
 */
export function eachMatch(re: RegExp, text: string, onMatch: (m: RegExpExecArray) => void): void {
  re.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) {
    if (m[0].length === 0) re.lastIndex++;
    else onMatch(m);
  }
}
