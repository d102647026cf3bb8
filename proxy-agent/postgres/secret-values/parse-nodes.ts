// Reading libpg-query's JSON tree generically: a node is an object with one key, its type name
// (capitalized), whose value is the node's body (lower-case field names).
import type { Node } from 'libpg-query';

export type Body = Record<string, unknown>;

export function isNodeType(key: string): boolean {
  const c = key.charCodeAt(0);
  return c >= 65 && c <= 90;
}

export function isNode(value: unknown): value is Node {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  return keys.length === 1 && isNodeType(keys[0]);
}

export function entryOf(node: Node): [string, Body] {
  const [entry] = Object.entries(node) as Array<[string, Body]>;
  return entry ?? ['', {}];
}

/** The text of a String node (names in lists: function names, column lists, fields). */
export function stringOf(node: Node | undefined): string | undefined {
  return node && 'String' in node ? node.String.sval : undefined;
}
