import type { BUILTIN_DETECTORS } from '../../../common/config/schema.ts';
import type { SpanSink } from '../spans.ts';

export type DetectorName = (typeof BUILTIN_DETECTORS)[number];

/**
 * A built-in detector: a group that the configuration enables by `name`, masking under one or
 * more rule names. It never scans a text itself: it says where the one-pass scanner
 * (../scanner.ts) should call it, and each call looks only at the text around one position.
 * Every hook adds the span to mask (only the secret part, e.g. the token after "Bearer ") and
 * stays linear: bounded or anchored patterns, checksums only on matches.
 */
export interface Detector {
  readonly name: DetectorName;
  /** The names it masks under, when they are several; else its own name. */
  readonly rules?: readonly string[];
  /** Literal prefixes, looked for where a token starts (the start of the text, or after [^A-Za-z0-9]). */
  readonly prefixes?: readonly PrefixHook[];
  /** Characters at which it looks (an '@' for e-mail addresses). */
  readonly chars?: readonly CharHook[];
  /** Values assigned with ':' or '=' to a key of a given ending (`password: x`, `API_TOKEN=x`). */
  readonly assignments?: readonly AssignmentHook[];
  /** Runs of digits where a token starts. */
  readonly digits?: DigitHook;
}

export interface PrefixHook {
  /** At least 2 characters. */
  readonly prefix: string;
  readonly ignoreCase?: boolean;
  /** Index into the detector's rules (default 0). */
  readonly rule?: number;
  /** Called with `at` on a token start where the prefix is. */
  at(text: string, at: number, out: SpanSink): void;
}

export interface CharHook {
  readonly char: string;
  readonly rule?: number;
  at(text: string, at: number, out: SpanSink): void;
}

export interface AssignmentHook {
  /**
   * Key endings, lower case, at least 3 characters each ("password" also takes DB_PASSWORD), or
   * 'any' for a hook that looks at every ':' and '=' followed by a blank or a quote (and rejects
   * cheaply itself).
   */
  readonly keys: readonly string[] | 'any';
  readonly rule?: number;
  /** `at`: the operator; `keyEnd`: where the key ends (before blanks and a closing quote). */
  at(text: string, at: number, keyEnd: number, out: SpanSink): void;
}

/** Called for the digits text[start, end) that begin a token. */
export type DigitHook = (text: string, start: number, end: number, out: SpanSink) => void;

export const isDigitCode = (c: number) => c >= 48 && c <= 57;
export const isAlnumCode = (c: number) => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
export const isWordCode = (c: number) => isAlnumCode(c) || c === 95;

/**
 * A value that is no secret but stands for one: a marker a masking step already put there
 * (`[SECRET_COLUMN]`, kept as it is rather than masked again under another name) or a bind
 * parameter (`$1`).
 */
export function standsForValue(value: string): boolean {
  return /^(?:\[[A-Z][A-Z0-9_]*\]|\$\d+)$/.test(value);
}

/** Runs a sticky regex at `at`: the match, or null. */
export function matchAt(re: RegExp, text: string, at: number): RegExpExecArray | null {
  re.lastIndex = at;
  return re.exec(text);
}
