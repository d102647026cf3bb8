// Credentials without a prefix of their own (a 40-character AWS secret, a Datadog key in hex) are
// only credentials after a label naming them. The label stays readable; the value is masked.

/** Between a label and its value: `label=v`, `label: v`, `"label": "v"`, `'label' = 'v'`. */
const ASSIGN = String.raw`["']?[ \t]{0,8}[:=][ \t]{0,8}["']?`;

/**
 * A sticky pattern for `value` (a regex source: the masked part) assigned to `label` (a regex
 * source), in any letter case; `end` is the lookahead the value may not be followed by.
 */
export function labelled(label: string, value: string, end: string): RegExp {
  return new RegExp(`(?:${label})${ASSIGN}(?<secret>${value})${end}`, 'iy');
}
