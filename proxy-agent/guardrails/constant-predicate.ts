// Whether a WHERE clause is always true: `WHERE true`, `WHERE 1 = 1`, `WHERE 'a' = 'a'`,
// `WHERE NOT false`, or an OR with such a branch. A write with one is a write without WHERE, so
// `DELETE FROM t WHERE 1 = 1` is DELETE_WITHOUT_WHERE. The parser's tree is folded as far as it can
// be without reading a row: constants, casts to boolean, comparisons, arithmetic, AND/OR/NOT, IS
// [NOT] TRUE/NULL, IN lists, BETWEEN and LIKE on constants. Anything else (a column, a function, a
// parameter, a subquery) is not known, and not known is never "always true": a bounded write is
// never taken for an unbounded one. Folding follows SQL's three-valued logic (NULL is not true).
type Value = boolean | number | string | null;
/** A node of libpg-query's JSON tree: its shape is the parser's, read field by field below. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AstNode = Record<string, any>;
/** Not foldable without reading a row. */
const UNKNOWN = Symbol('unknown');
type Folded = Value | typeof UNKNOWN;

/** The WHERE clause (a libpg-query node) holds for every row whatever the table holds. */
export function alwaysTrue(where: unknown): boolean {
  return fold(where) === true;
}

function fold(node: unknown): Folded {
  if (node === null || typeof node !== 'object') return UNKNOWN;
  const [[kind, body]] = Object.entries(node as Record<string, unknown>);
  const n = body as AstNode;
  switch (kind) {
    case 'A_Const':
      return constant(n);
    case 'TypeCast':
      return cast(fold(n.arg), typeName(n.typeName));
    case 'BoolExpr':
      return boolExpr(n.boolop, (n.args as unknown[]).map(fold));
    case 'BooleanTest':
      return booleanTest(fold(n.arg), n.booltesttype);
    case 'NullTest': {
      const v = fold(n.arg);
      if (v === UNKNOWN) return UNKNOWN;
      return n.nulltesttype === 'IS_NULL' ? v === null : v !== null;
    }
    case 'A_Expr':
      return aExpr(n);
    default:
      return UNKNOWN;
  }
}

function constant(n: AstNode): Folded {
  if (n.isnull) return null;
  if (n.boolval) return n.boolval.boolval === true;
  if (n.ival) return n.ival.ival ?? 0;
  if (n.fval) return Number(n.fval.fval);
  if (n.sval) return String(n.sval.sval ?? '');
  return UNKNOWN;
}

function typeName(t: { names?: Array<{ String?: { sval?: string } }> } | undefined): string {
  return t?.names?.at(-1)?.String?.sval?.toLowerCase() ?? '';
}

const TRUE_TEXT = new Set(['t', 'true', 'y', 'yes', 'on', '1']);
const FALSE_TEXT = new Set(['f', 'false', 'n', 'no', 'off', '0']);

function cast(v: Folded, to: string): Folded {
  if (v === UNKNOWN || v === null) return v;
  if (to === 'bool' || to === 'boolean') {
    if (typeof v === 'boolean') return v;
    if (typeof v === 'number') return v !== 0;
    const text = v.trim().toLowerCase();
    return TRUE_TEXT.has(text) ? true : FALSE_TEXT.has(text) ? false : UNKNOWN;
  }
  if (['int2', 'int4', 'int8', 'integer', 'numeric', 'float4', 'float8', 'smallint', 'bigint'].includes(to)) {
    const number = Number(v);
    return typeof v === 'boolean' || Number.isNaN(number) ? UNKNOWN : number;
  }
  if (['text', 'varchar', 'bpchar', 'name'].includes(to)) return String(v);
  return UNKNOWN;
}

/** Three-valued AND, OR, NOT: an OR with one true branch is true whatever the others read. */
function boolExpr(op: string, args: Folded[]): Folded {
  if (op === 'NOT_EXPR') {
    const v = args[0];
    return v === UNKNOWN || v === null ? v : typeof v === 'boolean' ? !v : UNKNOWN;
  }
  if (op === 'OR_EXPR') {
    if (args.some((a) => a === true)) return true;
    return args.every((a) => a === false) ? false : UNKNOWN;
  }
  if (op === 'AND_EXPR') {
    if (args.some((a) => a === false)) return false;
    return args.every((a) => a === true) ? true : UNKNOWN;
  }
  return UNKNOWN;
}

function booleanTest(v: Folded, test: string): Folded {
  if (v === UNKNOWN || (v !== null && typeof v !== 'boolean')) return UNKNOWN;
  switch (test) {
    case 'IS_TRUE': return v === true;
    case 'IS_NOT_TRUE': return v !== true;
    case 'IS_FALSE': return v === false;
    case 'IS_NOT_FALSE': return v !== false;
    case 'IS_UNKNOWN': return v === null;
    case 'IS_NOT_UNKNOWN': return v !== null;
    default: return UNKNOWN;
  }
}

function aExpr(n: AstNode): Folded {
  const op = (n.name as Array<{ String?: { sval?: string } }> | undefined)?.at(-1)?.String?.sval ?? '';
  const left = fold(n.lexpr);
  switch (n.kind) {
    case 'AEXPR_OP':
      return operator(op, left, fold(n.rexpr));
    case 'AEXPR_IN': {
      const items = ((n.rexpr as { List?: { items?: unknown[] } })?.List?.items ?? []).map(fold);
      const hits = items.map((item) => operator('=', left, item));
      const found = boolExpr('OR_EXPR', hits);
      return op === '<>' ? boolExpr('NOT_EXPR', [found]) : found;
    }
    case 'AEXPR_BETWEEN':
    case 'AEXPR_NOT_BETWEEN': {
      const [low, high] = ((n.rexpr as { List?: { items?: unknown[] } })?.List?.items ?? []).map(fold);
      const within = boolExpr('AND_EXPR', [operator('>=', left, low), operator('<=', left, high)]);
      return n.kind === 'AEXPR_BETWEEN' ? within : boolExpr('NOT_EXPR', [within]);
    }
    case 'AEXPR_LIKE': {
      const pattern = fold(n.rexpr);
      if (typeof left !== 'string' || typeof pattern !== 'string') return left === null || pattern === null ? null : UNKNOWN;
      const matches = likeRegex(pattern).test(left);
      return op === '~~' ? matches : op === '!~~' ? !matches : UNKNOWN;
    }
    default:
      return UNKNOWN;
  }
}

function operator(op: string, a: Folded, b: Folded): Folded {
  if (a === UNKNOWN || b === UNKNOWN) return UNKNOWN;
  if (a === null || b === null) return null;
  const pair = comparable(a, b);
  if (!pair) return UNKNOWN;
  const [x, y] = pair;
  switch (op) {
    case '=': return x === y;
    case '<>': case '!=': return x !== y;
    case '<': return x < y;
    case '>': return x > y;
    case '<=': return x <= y;
    case '>=': return x >= y;
    case '+': return typeof x === 'number' && typeof y === 'number' ? x + y : UNKNOWN;
    case '-': return typeof x === 'number' && typeof y === 'number' ? x - y : UNKNOWN;
    case '*': return typeof x === 'number' && typeof y === 'number' ? x * y : UNKNOWN;
    default: return UNKNOWN;
  }
}

/** Both sides as PostgreSQL would compare them (an untyped string literal takes the other side's type). */
function comparable(a: Value, b: Value): [number, number] | [string, string] | [boolean, boolean] | null {
  if (typeof a === typeof b) return [a, b] as [number, number];
  if (typeof a === 'number' && typeof b === 'string' && b.trim() !== '' && !Number.isNaN(Number(b))) return [a, Number(b)];
  if (typeof b === 'number' && typeof a === 'string' && a.trim() !== '' && !Number.isNaN(Number(a))) return [Number(a), b];
  return null;
}

function likeRegex(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\' && i + 1 < pattern.length) source += pattern[++i].replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    else if (c === '%') source += '.*';
    else if (c === '_') source += '.';
    else source += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, 's');
}
