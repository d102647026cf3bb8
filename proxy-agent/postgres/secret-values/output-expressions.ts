// What an expression's value can hold: a secret column's value, whatever it is renamed or computed
// into, a secret-returning function's result, a whole row with a secret column in it; truth values
// and counts about a secret hold none. Names resolve through the query levels (Scope) that
// secret-outputs.ts builds; a scalar subquery is its columns, which it asks of secret-outputs.ts.
import type { A_Expr, A_Indirection, CaseExpr, ColumnRef, FuncCall, Node, SubLink } from 'libpg-query';
import { holdsSecret, namedIn, type Column, type Item, type Named, type Scope, type TableLookup } from './output-shapes.ts';
import { entryOf, isNode, stringOf } from './parse-nodes.ts';
import { returnsSecret } from './secret-functions.ts';

/** JSON field access: `creds->>'password'` reads a field the column rule calls secret, as `(row).password` does. */
const JSON_FIELD = new Set(['->', '->>', '#>', '#>>']);
/** Operators whose result is a truth value, not the value compared. */
const COMPARISONS = new Set(['=', '<>', '!=', '<', '>', '<=', '>=', '~~', '!~~', '~~*', '!~~*', '~', '!~', '~*', '!~*']);
const TRUTH_KINDS = new Set<A_Expr['kind']>([
  'AEXPR_OP_ANY',
  'AEXPR_OP_ALL',
  'AEXPR_DISTINCT',
  'AEXPR_NOT_DISTINCT',
  'AEXPR_IN',
  'AEXPR_LIKE',
  'AEXPR_ILIKE',
  'AEXPR_SIMILAR',
  'AEXPR_BETWEEN',
  'AEXPR_NOT_BETWEEN',
  'AEXPR_BETWEEN_SYM',
  'AEXPR_NOT_BETWEEN_SYM',
]);

export class ExpressionProvenance {
  constructor(
    private readonly lookup: TableLookup,
    /** The columns of a subquery seen from `scope` (correlated names resolve there). */
    private readonly subquery: (query: Node, scope: Scope) => Column[],
  ) {}

  /** Whether an expression's value can hold a secret. */
  reads(node: Node | undefined, scope: Scope): boolean {
    if (!node) return false;
    const [type, body] = entryOf(node);
    switch (type) {
      case 'ColumnRef':
        return this.columnRef(body as ColumnRef, scope);
      case 'ParamRef':
        return scope.params.has((body.number as number | undefined) ?? 0);
      case 'A_Const':
      case 'NullTest': // truth values: whether a secret is null, true, equal to something
      case 'BooleanTest':
        return false;
      case 'A_Expr':
        return this.operator(body as A_Expr, scope);
      case 'FuncCall':
        return this.call(body as FuncCall, scope);
      case 'SubLink':
        return this.subLink(body as SubLink, scope);
      case 'CaseExpr': {
        const expr = body as CaseExpr;
        return (expr.args ?? []).some((w) => 'CaseWhen' in w && this.reads(w.CaseWhen.result, scope)) || this.reads(expr.defresult, scope);
      }
      case 'A_Indirection':
        return this.indirection(body as A_Indirection, scope);
      default:
        return this.readsAny(body, scope);
    }
  }

  /** Any expression inside a body of a type not handled above (row and array constructors, casts, JSON ...). */
  readsAny(value: unknown, scope: Scope): boolean {
    if (Array.isArray(value)) return value.some((item) => this.readsAny(item, scope));
    if (isNode(value)) return this.reads(value, scope);
    if (value === null || typeof value !== 'object') return false;
    return Object.values(value).some((child) => this.readsAny(child, scope));
  }

  private operator(expr: A_Expr, scope: Scope): boolean {
    if (TRUTH_KINDS.has(expr.kind)) return false;
    if (expr.kind === 'AEXPR_NULLIF') return this.reads(expr.lexpr, scope);
    const op = stringOf(expr.name?.at(-1)) ?? '';
    if (COMPARISONS.has(op)) return false;
    const key = expr.rexpr && 'A_Const' in expr.rexpr ? expr.rexpr.A_Const.sval?.sval : undefined;
    if (JSON_FIELD.has(op) && this.isSecretName(key)) return true;
    return this.reads(expr.lexpr, scope) || this.reads(expr.rexpr, scope);
  }

  /** A secret-returning function, or one given a secret (ORDER BY, FILTER and OVER give it none); count() only counts. */
  private call(call: FuncCall, scope: Scope): boolean {
    const name = stringOf(call.funcname?.at(-1))?.toLowerCase() ?? '';
    const args = call.args ?? [];
    if (returnsSecret(name, args, (n) => this.isSecretName(n))) return true;
    return name !== 'count' && args.some((arg) => this.reads(arg, scope));
  }

  /** A scalar or ARRAY subquery passes its one column on; EXISTS, IN, ANY and ALL give truth values. */
  private subLink(link: SubLink, scope: Scope): boolean {
    if (link.subLinkType !== 'EXPR_SUBLINK' && link.subLinkType !== 'ARRAY_SUBLINK') return false;
    return link.subselect ? this.subquery(link.subselect, scope).some(holdsSecret) : false;
  }

  /** `(row).field`, `(expr)[i]`: a field of a FROM item's row is that item's column. */
  private indirection(expr: A_Indirection, scope: Scope): boolean {
    const fields = (expr.indirection ?? []).map(stringOf);
    if (fields.some((f) => this.isSecretName(f))) return true;
    const item = this.rowItem(expr.arg, scope);
    if (item) return fields[0] !== undefined ? !!item.column(fields[0])?.secret : this.wholeRow(item);
    return this.reads(expr.arg, scope);
  }

  columnRef(ref: ColumnRef, scope: Scope): boolean {
    const names = (ref.fields ?? []).map(stringOf); // undefined: a *
    if (names.length === 1) {
      const name = names[0];
      if (name === undefined) return scope.items.some((item) => this.wholeRow(item)); // a bare * in an expression
      if (this.lookup.isSecretColumn(name)) return true;
      const found = this.resolve(name, scope);
      return found ? ('row' in found ? this.wholeRow(found.row) : found.column.secret) : false;
    }
    if (names.some((name, i) => i > 0 && this.isSecretName(name))) return true;
    const qualified = this.qualified(names, scope);
    if (!qualified) {
      const table = names.length === 2 ? scope.find((i) => i.schemaname === names[0] && i.refname === names[1]) : undefined;
      if (table) return this.wholeRow(table); // schema.table
      return names.at(-1) === undefined; // the whole row of something not known here
    }
    const [column] = qualified.rest; // any further names are fields of that column
    return column === undefined ? this.wholeRow(qualified.item) : !!qualified.item.column(column)?.secret;
  }

  /**
   * An unqualified name: a column of some FROM item, nearest query level first, else the whole row
   * of the item it names (PostgreSQL tries columns first).
   */
  private resolve(name: string, scope: Scope): { column: Named } | { row: Item } | undefined {
    for (let level: Scope | undefined = scope; level; level = level.parent) {
      const leaves = level.leaves();
      for (const item of leaves) {
        const column = item.column(name);
        if (column) return { column };
      }
      const row = leaves.find((item) => item.refname === name);
      if (row) return namedIn(row.columns(), name) ? undefined : { row };
    }
    return undefined;
  }

  /** The FROM item whose whole row an expression is (`u`, `u.*`), if it is one. */
  rowItem(node: Node | undefined, scope: Scope): Item | undefined {
    if (!node || !('ColumnRef' in node)) return undefined;
    const names = (node.ColumnRef.fields ?? []).map(stringOf);
    if (names.length === 1 && names[0] !== undefined) {
      const found = this.resolve(names[0], scope);
      return found && 'row' in found ? found.row : undefined;
    }
    const qualified = names.at(-1) === undefined ? this.qualified(names, scope) : undefined;
    return qualified?.rest.length === 1 ? qualified.item : undefined;
  }

  /**
   * The FROM item that a reference's leading names qualify (`u` of u.password, `public.users` of
   * public.users.password), and the names after them.
   */
  qualified(names: ReadonlyArray<string | undefined>, scope: Scope): { item: Item; rest: Array<string | undefined> } | undefined {
    const [first, second] = names;
    if (first === undefined) return undefined;
    if (names.length >= 3) {
      const table = scope.find((i) => i.schemaname === first && i.refname === second);
      if (table) return { item: table, rest: names.slice(2) };
    }
    const item = scope.find((i) => i.refname === first);
    return item && { item, rest: names.slice(1) };
  }

  /** A whole row holds a secret when any of its columns may (a table's unknown ones may). */
  private wholeRow(item: Item): boolean {
    return item.columns().some(holdsSecret);
  }

  private isSecretName(name: string | undefined): boolean {
    return name !== undefined && this.lookup.isSecretColumn(name);
  }
}
