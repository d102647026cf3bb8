// RFC 8785 (JSON Canonicalization Scheme) for the values events are made of: keys sorted by UTF-16
// code units, no whitespace, ECMAScript number and string serialization. For such values that is
// JSON.stringify with sorted keys, so strings and numbers go through the native JSON.stringify
// and only the walk over objects is written here. Several times faster than a general-purpose
// canonicalizer; canonical-json.unit.test.ts holds it to one (the `canonicalize` package) byte
// for byte.

declare global {
  // ES2024, in Node since 20; the project's lib is ES2022.
  interface String {
    isWellFormed(): boolean;
  }
}

/** Thrown for values RFC 8785 cannot encode: NaN, Infinity, lone surrogates, cycles. */
export class CanonicalJsonError extends Error {}

const MAX_DEPTH = 64;

export function canonicalJson(value: unknown): string {
  const text = write(value, 0);
  if (text === undefined) throw new CanonicalJsonError('the value is not serializable');
  return text;
}

/** A string's JSON form; RFC 8785 has no encoding for a lone surrogate, so it is refused. */
export function canonicalString(s: string): string {
  if (!s.isWellFormed()) throw new CanonicalJsonError('lone surrogate in a string');
  return JSON.stringify(s);
}

function write(value: unknown, depth: number): string | undefined {
  switch (typeof value) {
    case 'string':
      return canonicalString(value);
    case 'number':
      if (!Number.isFinite(value)) throw new CanonicalJsonError(`${value} is not allowed`);
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object':
      if (value === null) return 'null';
      if (depth >= MAX_DEPTH) throw new CanonicalJsonError('nested too deep (or circular)');
      if (typeof (value as { toJSON?: unknown }).toJSON === 'function') {
        return write((value as { toJSON(): unknown }).toJSON(), depth + 1);
      }
      return Array.isArray(value) ? writeArray(value, depth) : writeObject(value as Record<string, unknown>, depth);
    default:
      // undefined, functions, symbols: left out of objects, null in arrays (as JSON.stringify does).
      return undefined;
  }
}

function writeArray(items: unknown[], depth: number): string {
  let out = '[';
  for (let i = 0; i < items.length; i++) {
    if (i > 0) out += ',';
    out += write(items[i], depth + 1) ?? 'null';
  }
  return `${out}]`;
}

function writeObject(obj: Record<string, unknown>, depth: number): string {
  // Default sort compares UTF-16 code units, which is the order RFC 8785 prescribes.
  const keys = Object.keys(obj).sort();
  let out = '{';
  let first = true;
  for (const key of keys) {
    const text = write(obj[key], depth + 1);
    if (text === undefined) continue;
    out += `${first ? '' : ','}${canonicalString(key)}:${text}`;
    first = false;
  }
  return `${out}}`;
}
