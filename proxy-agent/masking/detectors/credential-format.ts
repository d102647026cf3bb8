// The shape of one credential format with a fixed prefix or label: a GitHub token, a Slack webhook,
// an Azure storage key after "AccountKey=". The engine looks for the prefixes only where a token
// starts (the start of the text, or after a character that is not [A-Za-z0-9]), then runs the
// format's sticky pattern at that position; checks beyond the shape (checksums, entropy) run only
// on what the pattern matched.

export interface CredentialFormat {
  /** Names the marker ([GITHUB_TOKEN]) and the count: upper snake case. */
  readonly name: string;
  /** Literal text the credential (or its label) starts with; at least 2 characters each. */
  readonly prefixes: readonly string[];
  /** Prefixes match in any letter case. */
  readonly ignoreCase?: boolean;
  /**
   * Sticky (flag y) and linear (bounded quantifiers), run with lastIndex at the prefix. It ends
   * with its own boundary check (a lookahead). The whole match is masked, unless the pattern has
   * a group named `secret`: then only that, and the group must end where the match ends (the
   * label before it stays readable).
   */
  readonly pattern: RegExp;
  /** Checks the masked part beyond its shape (checksum, entropy, decoded structure). */
  readonly valid?: (secret: string) => boolean;
}

const isAlnum = (c: number) => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);

/** Whether a token starts at `at`: the start of the text, or after a character that is not [A-Za-z0-9]. */
export function isTokenStart(text: string, at: number): boolean {
  return at === 0 || !isAlnum(text.charCodeAt(at - 1));
}

/**
 * The span a format masks at `at`, or null: [start, end). The reference semantics; the engine's
 * prefix table finds the same positions in one pass.
 */
export function matchFormatAt(format: CredentialFormat, text: string, at: number): [number, number] | null {
  format.pattern.lastIndex = at;
  const m = format.pattern.exec(text);
  if (m === null) return null;
  const end = at + m[0].length;
  const secret = m.groups?.secret;
  const start = secret === undefined ? at : end - secret.length;
  if (end <= start) return null;
  if (format.valid && !format.valid(text.slice(start, end))) return null;
  return [start, end];
}
