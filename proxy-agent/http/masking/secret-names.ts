// Which names (JSON keys, query and form fields, multipart fields, headers) hold a secret by their
// name alone: the target's column rules (masking.columns), the same case-insensitive substring
// match as PostgreSQL columns, with one addition for HTTP, where names are camelCase or
// kebab-case as often as snake_case: a rule written with a separator also matches the name
// written with '-' or without one (`api_key` matches `X-Goog-Api-Key` and `apiKey`, `private_key`
// matches `privateKey`). Rules without a separator match exactly as for columns: `ssn` does not
// match `class_name` (separators are never removed from the name itself).
import type { Masker } from '../../masking/masker.ts';

const byMasker = new WeakMap<Masker, (name: string) => boolean>();

/** The secret-name test of `masker`'s column rules (built once per masker). */
export function secretNameRule(masker: Masker): (name: string) => boolean {
  let rule = byMasker.get(masker);
  if (rule === undefined) {
    rule = compile(masker.columnNeedles);
    byMasker.set(masker, rule);
  }
  return rule;
}

function compile(needles: readonly string[]): (name: string) => boolean {
  const all = new Set<string>();
  for (const needle of needles) {
    all.add(needle);
    if (!/[-_]/.test(needle)) continue;
    for (const sep of ['_', '-', '']) {
      const variant = needle.replace(/[-_]/g, sep);
      if (variant.length > 0) all.add(variant);
    }
  }
  const list = [...all];
  if (list.length === 0) return () => false;
  // The same names come again and again (every object of a JSON array): each is judged once.
  const judged = new Map<string, boolean>();
  return (name) => {
    let secret = judged.get(name);
    if (secret === undefined) {
      const lower = name.toLowerCase();
      secret = list.some((needle) => lower.includes(needle));
      if (judged.size >= 10_000) judged.clear();
      if (name.length <= 256) judged.set(name, secret);
    }
    return secret;
  };
}
