// The bash parser: mvdan/sh, the parser behind shfmt, as the npm package mvdan-sh (Go compiled to
// plain JavaScript by GopherJS, so it parses synchronously), and access to the tree it builds.
//
// The package hands out its tree through wrappers that build a JavaScript object on every field
// read (about 0.1 ms each: milliseconds for a short line, seconds for a long one). The tree is
// read here in GopherJS's own form instead, which is plain objects: fields under their Go names,
// slices as {$array, $offset, $length}, strings as UTF-8 bytes one per char, a nil pointer as its
// type's `nil` object, and the Go methods (Pos, End) callable. The package is pinned to one
// version and its last release; the unit tests check this form.
import { createRequire } from 'node:module';

/** A position: Offset() is a byte offset into the UTF-8 text. */
export interface ShPos {
  Offset(): number;
}

export interface ShNode {
  Pos(): ShPos;
  End(): ShPos;
}

export interface ShSlice<T> {
  $array: T[];
  $offset: number;
  $length: number;
}

export interface ShLit extends ShNode {
  Value: string;
}

export interface ShWord extends ShNode {
  Parts: ShSlice<ShNode>;
}

export interface ShStmt extends ShNode {
  Cmd: ShNode;
  Negated: boolean;
  Background: boolean;
  Redirs: ShSlice<ShRedirect>;
}

export interface ShRedirect extends ShNode {
  Op: number;
  N: ShLit;
  Word: ShWord;
  Hdoc: ShWord;
}

export interface ShFile extends ShNode {
  Stmts: ShSlice<ShStmt>;
}

interface GoType {
  string: string;
  kind: number;
  nil?: unknown;
  elem?: GoType;
  fields?: Array<{ prop: string; typ: GoType }>;
}

interface MvdanSh {
  syntax: {
    NewParser(...options: unknown[]): { Parse(src: string, name: string): { __internal_object__: ShFile } };
    KeepComments(on: boolean): unknown;
  };
}

/** Operators as mvdan/sh numbers them (its token list; the unit tests check them). */
export const OP = {
  and: 10, or: 11, pipe: 12, pipeAll: 13,
  redirIn: 56, redirInOut: 57, dupIn: 58, heredoc: 61, heredocTabs: 62, hereString: 63,
  procIn: 66, procOut: 67,
} as const;

const KIND_INTERFACE = 20;
const KIND_PTR = 22;
const KIND_SLICE = 23;
const KIND_STRUCT = 25;

let mvdan: MvdanSh | null = null;
let parser: ReturnType<MvdanSh['syntax']['NewParser']> | null = null;
let loadError: string | null = null;

/**
 * Loads the package on first use. Its runtime sets `global.require` and an unlimited
 * Error.stackTraceLimit when it loads: both are put back, so the rest of the process is unchanged.
 */
export function loadShellSyntax(): string | null {
  if (mvdan || loadError) return loadError;
  const g = globalThis as { require?: unknown };
  const hadRequire = Object.hasOwn(g, 'require');
  const previousRequire = g.require;
  const stackLimit = Error.stackTraceLimit;
  try {
    mvdan = createRequire(import.meta.url)('mvdan-sh') as MvdanSh;
  } catch (err) {
    loadError = `the shell parser could not be loaded: ${err instanceof Error ? err.message : String(err)}`;
  } finally {
    Error.stackTraceLimit = stackLimit;
    if (hadRequire) g.require = previousRequire;
    else delete g.require;
  }
  return loadError;
}

export type ParseResult = { file: ShFile } | { error: string; incomplete: boolean; offset: number };

export function parseShell(src: string): ParseResult {
  const failed = loadShellSyntax();
  if (failed || !mvdan) return { error: failed ?? 'the shell parser is not loaded', incomplete: false, offset: 0 };
  parser ??= mvdan.syntax.NewParser(mvdan.syntax.KeepComments(true));
  // The runtime takes a stack trace at every deferred call, to know where recover() is called
  // from; the parser never recovers, and a full trace made parsing many times slower.
  const stackLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return { file: parser.Parse(src, '').__internal_object__ };
  } catch (err) {
    const e = err as { Text?: unknown; Incomplete?: unknown; Pos?: ShPos } | null;
    if (e && typeof e.Text === 'string') {
      let offset = 0;
      try {
        offset = e.Pos?.Offset() ?? 0;
      } catch {
        // no position: nothing before the error is read
      }
      return { error: e.Text, incomplete: e.Incomplete === true, offset };
    }
    // Not a syntax error: the runtime failed (a stack overflow on deep nesting). A parser that
    // stopped half-way is not trusted again.
    parser = null;
    return { error: err instanceof RangeError ? 'the line nests too deeply to read' : `the parser failed: ${String((err as Error)?.message ?? err)}`, incomplete: false, offset: 0 };
  } finally {
    Error.stackTraceLimit = stackLimit;
  }
}

/** A Go string (one char per UTF-8 byte) as text. */
export function goString(bytes: string): string {
  return /^[\x00-\x7f]*$/.test(bytes) ? bytes : Buffer.from(bytes, 'latin1').toString('utf8');
}

export function items<T>(slice: ShSlice<T> | null | undefined): T[] {
  if (!slice || !Array.isArray(slice.$array)) return [];
  return slice.$array.slice(slice.$offset, slice.$offset + slice.$length);
}

function goType(value: unknown): GoType | null {
  if (value === null || typeof value !== 'object') return null;
  const t = (value as { constructor?: GoType }).constructor;
  return t && typeof t.string === 'string' ? t : null;
}

/** A node, or null for Go's nil (a nil pointer is its type's `nil` object, a nil interface has no type). */
export function present<T>(value: T): T | null {
  const t = goType(value);
  return t && value !== t.nil ? value : null;
}

/** The node's type as mvdan/sh names it: CallExpr, Stmt, Lit... */
export function nodeType(node: ShNode): string {
  return (goType(node)?.string ?? '').replace(/^\*?syntax\./, '');
}

const childFields = new Map<GoType, Array<{ prop: string; typ: GoType }>>();

/** The fields of a node's type that hold nodes (positions and plain values left out). */
function nodeFields(t: GoType): Array<{ prop: string; typ: GoType }> {
  let fields = childFields.get(t);
  if (!fields) {
    const all = (t.kind === KIND_PTR ? t.elem?.fields : t.fields) ?? [];
    fields = all.filter((f) => f.typ.string.includes('syntax.') && f.typ.string !== 'syntax.Pos' && [KIND_INTERFACE, KIND_PTR, KIND_SLICE, KIND_STRUCT].includes(f.typ.kind));
    childFields.set(t, fields);
  }
  return fields;
}

/**
 * Every node under `root` (not root itself), in source order; `visit` returning false skips the
 * node's children. A stack rather than recursion, so that deep trees do not overflow.
 */
export function walk(root: ShNode, visit: (node: ShNode) => boolean): void {
  const stack: ShNode[] = [];
  const pushChildren = (node: ShNode) => {
    const t = goType(node);
    if (!t) return;
    const children: ShNode[] = [];
    for (const f of nodeFields(t)) {
      const v = (node as unknown as Record<string, unknown>)[f.prop];
      if (f.typ.kind === KIND_SLICE) {
        for (const item of items(v as ShSlice<ShNode>)) if (present(item)) children.push(item);
      } else if (present(v)) children.push(v as ShNode);
    }
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]);
  };
  pushChildren(root);
  while (stack.length) {
    const node = stack.pop()!;
    if (visit(node)) pushChildren(node);
  }
}

/** Text parsed, kept as UTF-8 since the parser's positions are byte offsets. */
export class ShSource {
  readonly text: string;
  readonly bytes: Buffer;
  constructor(text: string) {
    this.text = text;
    this.bytes = Buffer.from(text, 'utf8');
  }

  of(node: ShNode): string {
    return this.slice(node.Pos().Offset(), node.End().Offset());
  }

  slice(start: number, end: number): string {
    return this.bytes.subarray(start, end).toString('utf8');
  }
}
