// Which result columns of a statement carry a secret under a name that does not say so. The
// recorder masks a result column by its name, which `SELECT upper(password) AS x`, `SELECT u FROM
// users u` or `SELECT current_setting('app.password')` get past. Provenance is followed as far as
// the statement text shows it: aliases, subqueries and CTEs, joins, set operations, `*`,
// RETURNING (here), expressions and whole-row references (output-expressions.ts); a table's own
// columns come from the context. Past the text (a view, a function's result) the names decide, as
// they do without this module.
import type { Alias, CommonTableExpr, JoinExpr, Node, RangeFunction, RangeSubselect, RangeVar, ReturningClause, SelectStmt, WithClause } from 'libpg-query';
import { ExpressionProvenance } from './output-expressions.ts';
import {
  combine,
  derivedItem,
  expandAll,
  holdsSecret,
  isRun,
  names,
  namedIn,
  outputName,
  positions,
  renamed,
  Scope,
  starOf,
  UNKNOWN_TABLE,
  type Column,
  type Item,
  type Named,
  type Run,
  type TableLookup,
} from './output-shapes.ts';
import { entryOf, stringOf } from './parse-nodes.ts';
import { isSecretSettingName } from './secret-functions.ts';

export class OutputColumns {
  /** Outputs of this string's PREPAREs and DECLARE CURSORs, for a later EXECUTE or FETCH in it. */
  private readonly prepared = new Map<string, Column[]>();
  private readonly cursors = new Map<string, Column[]>();

  private readonly expressions: ExpressionProvenance;

  constructor(private readonly lookup: TableLookup) {
    this.expressions = new ExpressionProvenance(lookup, (query, scope) => this.shapeOf(query, scope));
  }

  /**
   * The 0-based output positions of a top-level statement that hold a secret; 'all' when a secret
   * is certain but its position is not (after a `*` of unknown width). `params`: its secret $n.
   */
  secretPositions(stmt: Node | undefined, params: ReadonlySet<number>): ReadonlySet<number> | 'all' {
    try {
      const columns = stmt && this.statementColumns(stmt, new Scope(undefined, params));
      return columns ? positions(columns) : new Set();
    } catch {
      return 'all'; // a tree this module does not expect: mask rather than leak
    }
  }

  /** The fields of `COPY (query) TO` (names and secret flags); null when some field's place is not known. */
  fields(query: Node): Named[] | null {
    try {
      const columns = expandAll(this.shapeOf(query, new Scope(undefined, new Set())));
      return columns.some(isRun) ? null : (columns as Named[]);
    } catch {
      return null;
    }
  }

  /** The result columns of a statement the server answers with rows; undefined for any other. */
  private statementColumns(stmt: Node, scope: Scope): Column[] | undefined {
    const [type, body] = entryOf(stmt);
    switch (type) {
      case 'SelectStmt':
        return body.intoClause ? undefined : this.shapeOf(stmt, scope); // SELECT INTO makes a table
      case 'InsertStmt':
      case 'UpdateStmt':
      case 'DeleteStmt':
      case 'MergeStmt':
        return (body.returningClause as ReturningClause | undefined)?.exprs?.length ? this.shapeOf(stmt, scope) : undefined;
      case 'PrepareStmt':
        this.prepared.set(body.name as string, this.shapeOf(body.query as Node, scope));
        return undefined;
      case 'DeclareCursorStmt':
        this.cursors.set(body.portalname as string, this.shapeOf(body.query as Node, scope));
        return undefined;
      case 'ExecuteStmt':
        return this.prepared.get(body.name as string);
      case 'FetchStmt':
        return body.ismove ? undefined : this.cursors.get(body.portalname as string);
      case 'VariableShowStmt': {
        const name = (body.name as string | undefined) ?? '';
        return isSecretSettingName(name) || this.lookup.isSecretColumn(name) ? [{ name, secret: true }] : undefined;
      }
      default:
        return undefined;
    }
  }

  /** The columns a query yields: a SELECT's, a data-modifying statement's RETURNING. */
  private shapeOf(node: Node, outer: Scope): Column[] {
    if ('SelectStmt' in node) return this.select(node.SelectStmt, outer);
    if ('InsertStmt' in node) return this.returning(node.InsertStmt, [], outer);
    if ('UpdateStmt' in node) return this.returning(node.UpdateStmt, node.UpdateStmt.fromClause ?? [], outer);
    if ('DeleteStmt' in node) return this.returning(node.DeleteStmt, node.DeleteStmt.usingClause ?? [], outer);
    if ('MergeStmt' in node) {
      const source = node.MergeStmt.sourceRelation;
      return this.returning(node.MergeStmt, source ? [source] : [], outer);
    }
    return [];
  }

  private select(select: SelectStmt, outer: Scope): Column[] {
    const scope = this.withScope(select.withClause, outer);
    if (select.op && select.op !== 'SETOP_NONE') {
      return combine(select.larg ? this.select(select.larg, scope) : [], select.rarg ? this.select(select.rarg, scope) : []);
    }
    if (select.valuesLists) {
      const rows = select.valuesLists.map((row) => ('List' in row ? (row.List.items ?? []) : []));
      const width = rows.reduce((widest, row) => Math.max(widest, row.length), 0);
      return Array.from({ length: width }, (_, i) => ({ name: `column${i + 1}`, secret: rows.some((row) => this.expressions.reads(row[i], scope)) }));
    }
    const level = scope.child();
    for (const from of select.fromClause ?? []) level.items.push(this.fromItem(from, level));
    return this.targets(select.targetList ?? [], level);
  }

  /** RETURNING sees the target table (also as old and new) and the statement's FROM/USING items. */
  private returning(
    stmt: { relation?: RangeVar; returningClause?: ReturningClause; withClause?: WithClause },
    from: readonly Node[],
    outer: Scope,
  ): Column[] {
    const exprs = stmt.returningClause?.exprs;
    if (!exprs?.length) return [];
    const scope = this.withScope(stmt.withClause, outer).child();
    if (stmt.relation) {
      const target = this.tableItem(stmt.relation, undefined);
      scope.items.push(target);
      const names = { RETURNING_OPTION_OLD: 'old', RETURNING_OPTION_NEW: 'new' };
      for (const option of stmt.returningClause?.options ?? []) {
        if ('ReturningOption' in option && option.ReturningOption.option) names[option.ReturningOption.option] = option.ReturningOption.value ?? '';
      }
      for (const refname of Object.values(names)) scope.items.push({ ...target, refname, schemaname: undefined, visible: false });
    }
    for (const node of from) scope.items.push(this.fromItem(node, scope));
    return this.targets(exprs, scope);
  }

  /**
   * A WITH clause's CTEs, each seeing the ones before it. A recursive CTE sees itself: first as its
   * non-recursive part, then as a first result, so a secret passed on by the recursion is found.
   */
  private withScope(withClause: WithClause | undefined, outer: Scope): Scope {
    if (!withClause?.ctes?.length) return outer;
    const scope = outer.child();
    for (const node of withClause.ctes) {
      if (!('CommonTableExpr' in node)) continue;
      const cte = node.CommonTableExpr;
      const name = cte.ctename ?? '';
      const query = cte.ctequery;
      if (!query) continue;
      if (withClause.recursive) {
        const seed = 'SelectStmt' in query && query.SelectStmt.larg ? this.select(query.SelectStmt.larg, scope) : [];
        scope.ctes.set(name, this.cteColumns(cte, seed));
        scope.ctes.set(name, this.cteColumns(cte, this.shapeOf(query, scope)));
      }
      scope.ctes.set(name, this.cteColumns(cte, this.shapeOf(query, scope)));
    }
    return scope;
  }

  /** A CTE's column list renames; SEARCH and CYCLE add columns (the cycle path holds the rows). */
  private cteColumns(cte: CommonTableExpr, query: Column[]): Column[] {
    const columns = renamed(query, names(cte.aliascolnames));
    const added: Column[] = [];
    const search = cte.search_clause?.search_seq_column;
    if (search) added.push({ name: search, secret: false });
    const cycle = cte.cycle_clause;
    if (cycle) {
      added.push({ name: cycle.cycle_mark_column, secret: false });
      added.push({ name: cycle.cycle_path_column, secret: columns.some(holdsSecret) });
    }
    return [...columns, ...added];
  }

  private fromItem(node: Node, scope: Scope): Item {
    if ('RangeVar' in node) return this.tableItem(node.RangeVar, scope);
    if ('RangeSubselect' in node) return this.subqueryItem(node.RangeSubselect, scope);
    if ('JoinExpr' in node) return this.joinItem(node.JoinExpr, scope);
    if ('RangeFunction' in node) return this.functionItem(node.RangeFunction, scope);
    if ('RangeTableSample' in node && node.RangeTableSample.relation) return this.fromItem(node.RangeTableSample.relation, scope);
    // XMLTABLE, JSON_TABLE: columns of their own, secret when they read a secret.
    const [, body] = entryOf(node);
    const run: Run = { run: true, secret: this.expressions.readsAny(body, scope), hidden: false };
    return derivedItem((body.alias as Alias | undefined)?.aliasname, [run]);
  }

  /** A CTE by that name, else a table: its columns asked of the context only when needed. */
  private tableItem(relation: RangeVar, scope: Scope | undefined): Item {
    const refname = relation.alias?.aliasname ?? relation.relname;
    const colnames = names(relation.alias?.colnames);
    const cte = !relation.schemaname && relation.relname ? scope?.cte(relation.relname) : undefined;
    if (cte) return derivedItem(refname, renamed(cte, colnames));
    let columns: Column[] | undefined;
    const all = (): Column[] => {
      if (columns) return columns;
      const known = this.lookup.columnsOf(relation);
      columns = known ? renamed(known.map((name) => ({ name, secret: this.lookup.isSecretColumn(name) })), colnames) : [UNKNOWN_TABLE];
      return columns;
    };
    return {
      refname,
      schemaname: relation.alias ? undefined : relation.schemaname,
      visible: true,
      columns: all,
      // Its own column names show its secret columns: their places matter only when renamed.
      column: (name) => (colnames.length > 0 ? namedIn(all(), name) : undefined),
      star: () => (colnames.length > 0 ? all() : [{ ...UNKNOWN_TABLE, expand: all }]),
    };
  }

  private subqueryItem(subselect: RangeSubselect, scope: Scope): Item {
    const columns = subselect.subquery ? this.shapeOf(subselect.subquery, scope) : [];
    return derivedItem(subselect.alias?.aliasname, renamed(columns, names(subselect.alias?.colnames)));
  }

  /** A join's `*`: the left columns then the right, USING and NATURAL columns once and first. */
  private joinItem(join: JoinExpr, scope: Scope): Item {
    const left = join.larg ? this.fromItem(join.larg, scope) : derivedItem(undefined, []);
    scope.items.push(left); // a LATERAL right side sees the left one
    const right = join.rarg ? this.fromItem(join.rarg, scope) : derivedItem(undefined, []);
    scope.items.pop();
    const using = names(join.usingClause);
    const merged = (): Column[] => {
      const l = expandAll(left.columns());
      const r = expandAll(right.columns());
      if (l.some(isRun) || r.some(isRun)) return [{ run: true, secret: [...l, ...r].some(holdsSecret), hidden: true }];
      const common = join.isNatural ? (l as Named[]).filter((c) => namedIn(r, c.name ?? '')).map((c) => c.name ?? '') : using;
      const first = common.map((name) => ({ name, secret: !!namedIn(l, name)?.secret || !!namedIn(r, name)?.secret }));
      const rest = [...l, ...r].filter((c) => !common.includes((c as Named).name ?? ''));
      return [...first, ...rest];
    };
    const plain = !join.isNatural && using.length === 0;
    let columns: Column[] | undefined;
    const all = () => (columns ??= plain ? [...left.columns(), ...right.columns()] : merged());
    return {
      refname: join.alias?.aliasname,
      visible: true,
      columns: all,
      star: () => (plain ? [...starOf(left), ...starOf(right)] : all()),
      column: () => undefined, // its items answer for their columns
      inner: [left, right],
    };
  }

  /**
   * A function in FROM: secret when it returns a secret or reads one. Its width is known only from
   * a column definition list; alias column names may name just the first columns.
   */
  private functionItem(range: RangeFunction, scope: Scope): Item {
    const calls = (range.functions ?? []).map((f) => ('List' in f ? (f.List.items ?? []) : []));
    const secret = calls.some(([call]) => this.expressions.reads(call, scope));
    const ownList = calls.length === 1 ? calls[0][1] : undefined; // f() AS (a int, ...) inside ROWS FROM
    const definitions = range.coldeflist ?? (ownList && 'List' in ownList ? ownList.List.items : undefined);
    const aliases = names(range.alias?.colnames);
    const column = (name: string | undefined): Named => ({ name, secret: secret || (name !== undefined && this.lookup.isSecretColumn(name)) });
    let columns: Column[];
    if (definitions?.length && !range.is_rowsfrom) {
      const defined = definitions.map((d, i) => column(aliases[i] ?? ('ColumnDef' in d ? d.ColumnDef.colname : undefined)));
      columns = range.ordinality ? [...defined, { name: 'ordinality', secret: false }] : defined;
    } else {
      columns = [...aliases.map(column), { run: true, secret, hidden: false }];
    }
    const call = calls.length === 1 ? calls[0][0] : undefined;
    const refname = range.alias?.aliasname ?? (call && 'FuncCall' in call ? stringOf(call.FuncCall.funcname?.at(-1)) : undefined);
    return derivedItem(refname, columns);
  }

  private targets(targets: readonly Node[], scope: Scope): Column[] {
    return targets.flatMap((node): Column[] => {
      if (!('ResTarget' in node)) return [{ name: undefined, secret: this.expressions.reads(node, scope) }];
      const { val, name } = node.ResTarget;
      const star = this.star(val, scope);
      if (star) return star;
      const output = name ?? outputName(val);
      return [{ name: output, secret: this.expressions.reads(val, scope) || (output !== undefined && this.lookup.isSecretColumn(output)) }];
    });
  }

  /** `*`, `t.*` and `(row).*` in a target list expand to columns; undefined for anything else. */
  private star(val: Node | undefined, scope: Scope): Column[] | undefined {
    if (val && 'ColumnRef' in val) {
      const fields = val.ColumnRef.fields ?? [];
      if (!fields.length || !('A_Star' in (fields.at(-1) as Node))) return undefined;
      if (fields.length === 1) return scope.items.filter((item) => item.visible).flatMap(starOf);
      const qualified = this.expressions.qualified(fields.map(stringOf), scope);
      if (qualified?.rest.length === 1) return starOf(qualified.item);
      return [{ run: true, secret: this.expressions.columnRef(val.ColumnRef, scope), hidden: true }]; // t.composite.*
    }
    if (val && 'A_Indirection' in val) {
      const { arg, indirection = [] } = val.A_Indirection;
      if (!indirection.length || !('A_Star' in (indirection.at(-1) as Node))) return undefined;
      const item = indirection.length === 1 ? this.expressions.rowItem(arg, scope) : undefined;
      if (item) return starOf(item);
      const secret = this.expressions.reads(arg, scope) || indirection.some((i) => this.lookup.isSecretColumn(stringOf(i) ?? ''));
      return [{ run: true, secret, hidden: true }];
    }
    return undefined;
  }
}
