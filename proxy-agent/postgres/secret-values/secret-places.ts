// Walks a libpg-query parse tree and collects the constants and $n parameters that go into a secret
// place: written into a secret column, compared with one, or passed as a key or password. One
// generic walk visits every node, so a place inside a CTE, a subquery or an EXPLAIN is found too;
// the node types that make secret places have a handler that marks them before the walk goes on.
import type {
  A_Const,
  A_Expr,
  CaseExpr,
  CopyStmt,
  CreateStmt,
  DefElem,
  ExecuteStmt,
  FuncCall,
  InsertStmt,
  MergeStmt,
  MergeWhenClause,
  Node,
  ParamRef,
  PrepareStmt,
  RangeVar,
  ResTarget,
  SelectStmt,
  SubLink,
  UpdateStmt,
  VariableSetStmt,
} from 'libpg-query';
import { copyFieldNames, copySpec, type ColumnLookup } from './copy-spec.ts';
import type { Named } from './output-shapes.ts';
import { entryOf, isNode, isNodeType, type Body } from './parse-nodes.ts';
import { isSecretSettingName, secretArguments } from './secret-functions.ts';
import { OutputColumns } from './secret-outputs.ts';
import type { SecretContext, SecretValues } from './secret-values.ts';
import type { ByteSpan, SqlTokens } from './sql-tokens.ts';

type PreparedParams = NonNullable<SecretValues['prepared']>;

/** Statements that can change a table's columns, or which table a name means. */
const COLUMN_CHANGING = new Set([
  'CreateStmt',
  'CreateTableAsStmt',
  'CreateForeignTableStmt',
  'ImportForeignSchemaStmt',
  'ViewStmt',
  'AlterTableStmt',
  'AlterObjectSchemaStmt',
  'RenameStmt',
  'DropStmt',
  'DropOwnedStmt',
]);

/** Expressions through which a secret column still counts as compared (`lower(password::text)`). */
const PASS_THROUGH = new Set(['TypeCast', 'CollateClause', 'NamedArgExpr', 'A_Indirection', 'FuncCall', 'RowExpr', 'CoalesceExpr', 'MinMaxExpr', 'List', 'A_Expr']);

/** A value of an option list item is found within this many tokens of its name. */
const OPTION_VALUE_REACH = 4;

export class SecretPlaceFinder implements ColumnLookup {
  readonly spans: ByteSpan[] = [];
  /** Where $n parameters go: the statement's own, or a PREPARE's while its query is walked. */
  params = new Set<number>();
  readonly unknownTables = new Map<string, { schema?: string; table: string }>();
  readonly prepared: PreparedParams[] = [];
  copy: SecretValues['copy'];
  /** Every COPY of the string whose data passes the wire, in order. */
  readonly copies: NonNullable<SecretValues['copies']> = [];
  changesColumns = false;
  /** Temporary tables the string creates, with their columns (no other connection can look them up). */
  readonly temporaryTables: Array<{ table: string; columns: string[] }> = [];
  /** Byte range of the top-level statement being walked. */
  private statement: ByteSpan = [0, 0];
  private readonly comparesSecret = new WeakMap<object, boolean>();
  private readonly marked = new WeakSet<object>();
  private readonly outputs = new OutputColumns(this);

  constructor(
    private readonly ctx: SecretContext,
    private readonly tokens: SqlTokens,
  ) {}

  /**
   * CREATE TEMP TABLE t (a, b, ...): its column order, as long as the columns are all listed (no
   * LIKE, no inheritance, no typed or partition table: their columns come from elsewhere).
   */
  private createTable(stmt: CreateStmt): void {
    if (stmt.relation?.relpersistence !== 't' || !stmt.relation.relname) return;
    if (stmt.inhRelations?.length || stmt.ofTypename || stmt.partbound) return;
    const columns: string[] = [];
    for (const element of stmt.tableElts ?? []) {
      if ('ColumnDef' in element) columns.push(element.ColumnDef.colname ?? '');
      else if (!('Constraint' in element)) return;
    }
    this.temporaryTables.push({ table: stmt.relation.relname, columns });
  }

  /** Walks one top-level statement occupying [start, end) bytes. */
  walkStatement(stmt: Node | undefined, start: number, end: number): void {
    this.statement = [start, end];
    this.visit(stmt);
  }

  isSecretColumn(name: string): boolean {
    return this.ctx.isSecretColumn(name);
  }

  columnsOf(relation: RangeVar): readonly string[] | undefined {
    const table = relation.relname ?? '';
    const columns = this.ctx.tableColumns(relation.schemaname, table);
    if (!columns) this.reportUnknown(relation);
    return columns;
  }

  queryFields(query: Node): Named[] | null {
    return this.outputs.fields(query);
  }

  /** The secret output positions of the top-level statement walked last (a PREPARE's query echoes its own parameters). */
  secretOutputs(stmt: Node | undefined): ReadonlySet<number> | 'all' {
    const params = stmt && 'PrepareStmt' in stmt ? this.prepared.at(-1)?.params : this.params;
    return this.outputs.secretPositions(stmt, params ?? new Set());
  }

  private visit(value: unknown): void {
    if (Array.isArray(value)) {
      for (const item of value) this.visit(item);
      return;
    }
    if (value === null || typeof value !== 'object') return;
    for (const key in value) {
      const child = (value as Body)[key];
      if (isNodeType(key) && child !== null && typeof child === 'object' && !Array.isArray(child)) this.visitNode(key, child as Body);
      else this.visit(child);
    }
  }

  private visitNode(type: string, body: Body): void {
    // A temporary table changes no other connection's columns (it shadows a name for this session only).
    if (COLUMN_CHANGING.has(type) && !(type === 'CreateStmt' && (body as CreateStmt).relation?.relpersistence === 't')) this.changesColumns = true;
    switch (type) {
      case 'CreateStmt':
        this.createTable(body as CreateStmt);
        break;
      case 'PrepareStmt':
        return this.prepare(body as PrepareStmt); // walks its query with its own parameters
      case 'InsertStmt':
        this.insert(body as InsertStmt);
        break;
      case 'UpdateStmt':
        this.assignments((body as UpdateStmt).targetList);
        break;
      case 'MergeStmt':
        this.merge(body as MergeStmt);
        break;
      case 'A_Expr':
        this.comparison(body as A_Expr);
        break;
      case 'SubLink':
        if (this.comparesSecretColumn((body as SubLink).testexpr)) this.markAll((body as SubLink).subselect);
        break;
      case 'CaseExpr':
        this.simpleCase(body as CaseExpr);
        break;
      case 'FuncCall':
        this.functionCall(body as FuncCall);
        break;
      case 'VariableSetStmt':
        this.setting(body as VariableSetStmt, true);
        break;
      case 'AlterSystemStmt':
      case 'AlterRoleSetStmt':
      case 'AlterDatabaseSetStmt':
        this.setting((body as { setstmt?: VariableSetStmt }).setstmt, false);
        break;
      case 'DefElem':
        this.option(body as DefElem);
        break;
      case 'CreateSubscriptionStmt':
      case 'AlterSubscriptionStmt':
        if ((body as { conninfo?: string }).conninfo !== undefined) this.mark(this.tokens.literalAfterKeyword('connection', ...this.statement));
        break;
      case 'ExecuteStmt':
        this.execute(body as ExecuteStmt);
        break;
      case 'CopyStmt': {
        const spec = copySpec(body as CopyStmt, this);
        if (spec) this.copies.push({ spec, fieldNames: copyFieldNames(body as CopyStmt, this) });
        this.copy ??= spec;
        break;
      }
      case 'SelectStmt':
        if ((body as SelectStmt).intoClause) this.changesColumns = true; // SELECT ... INTO creates a table
        break;
    }
    this.visit(body);
  }

  /** INSERT: values by column, the table's own column order when the statement gives none. */
  private insert(stmt: InsertStmt): void {
    const target = this.targetColumns(stmt.relation, stmt.cols);
    if (!target) return this.markAll(stmt);
    const source = stmt.selectStmt && 'SelectStmt' in stmt.selectStmt ? stmt.selectStmt.SelectStmt : undefined;
    if (source?.valuesLists) {
      const rows = source.valuesLists.map((row) => ('List' in row ? (row.List.items ?? []) : []));
      this.rows(rows, target, stmt.relation, stmt);
    } else if (source && (!source.op || source.op === 'SETOP_NONE') && source.targetList && !source.targetList.some(isStar)) {
      this.rows([source.targetList.map((t) => ('ResTarget' in t ? t.ResTarget.val : t))], target, stmt.relation, stmt);
    } else if (target.secret.some(Boolean)) {
      this.markAll(stmt.selectStmt);
    }
    this.assignments(stmt.onConflictClause?.targetList);
  }

  /** MERGE: UPDATE SET like an UPDATE, INSERT VALUES like an INSERT (an unknown table masks that clause's values). */
  private merge(stmt: MergeStmt): void {
    for (const node of stmt.mergeWhenClauses ?? []) {
      if (!('MergeWhenClause' in node)) continue;
      const clause: MergeWhenClause = node.MergeWhenClause;
      if (clause.commandType === 'CMD_UPDATE') this.assignments(clause.targetList);
      if (clause.commandType === 'CMD_INSERT' && clause.values) {
        const target = this.targetColumns(stmt.relation, clause.targetList);
        if (target) this.rows([clause.values], target, stmt.relation, clause.values);
        else this.markAll(clause.values);
      }
    }
  }

  /**
   * The secret flags of an INSERT's columns: its column list, or the table's columns from the
   * context (fromCache), or undefined when those are not known (reported).
   */
  private targetColumns(relation: RangeVar | undefined, cols: Node[] | undefined): { secret: boolean[]; fromCache: boolean } | undefined {
    if (cols?.length) return { secret: cols.map((c) => 'ResTarget' in c && this.isSecretTarget(c.ResTarget)), fromCache: false };
    const columns = relation && this.columnsOf(relation);
    return columns && { secret: columns.map((c) => this.ctx.isSecretColumn(c)), fromCache: true };
  }

  /**
   * Rows of values by position. More values than columns: the cached column order is stale (the
   * table is reported again) and all of `whole` is masked.
   */
  private rows(
    rows: ReadonlyArray<ReadonlyArray<Node | undefined>>,
    target: { secret: boolean[]; fromCache: boolean },
    relation: RangeVar | undefined,
    whole: unknown,
  ): void {
    if (rows.some((row) => row.length > target.secret.length)) {
      if (target.fromCache && relation) this.reportUnknown(relation);
      return this.markAll(whole);
    }
    for (const row of rows) row.forEach((value, i) => target.secret[i] && this.markAll(value));
  }

  /** SET col = expr, SET (a, b) = (x, y) and SET (a, b) = (SELECT ...). */
  private assignments(targetList: Node[] | undefined): void {
    for (const target of targetList ?? []) {
      if (!('ResTarget' in target) || !this.isSecretTarget(target.ResTarget)) continue;
      const value = target.ResTarget.val;
      if (value && 'MultiAssignRef' in value) {
        const { source, colno } = value.MultiAssignRef;
        this.markAll(source && 'RowExpr' in source ? source.RowExpr.args?.[(colno ?? 1) - 1] : source);
      } else this.markAll(value);
    }
  }

  /** An operator with a secret column on one side: the other side is secret. Rows pair up. */
  private comparison(expr: A_Expr): void {
    const { lexpr, rexpr } = expr;
    if (lexpr && rexpr && 'RowExpr' in lexpr && 'RowExpr' in rexpr) {
      const left = lexpr.RowExpr.args ?? [];
      const right = rexpr.RowExpr.args ?? [];
      if (left.length === right.length) {
        left.forEach((l, i) => this.compare(l, right[i]));
        return;
      }
    }
    this.compare(lexpr, rexpr);
  }

  private compare(a: Node | undefined, b: Node | undefined): void {
    if (this.comparesSecretColumn(a)) this.markAll(b);
    if (this.comparesSecretColumn(b)) this.markAll(a);
  }

  /** CASE password WHEN 'x' THEN ...: each WHEN value is compared with the column. */
  private simpleCase(expr: CaseExpr): void {
    if (!this.comparesSecretColumn(expr.arg)) return;
    for (const when of expr.args ?? []) if ('CaseWhen' in when) this.markAll(when.CaseWhen.expr);
  }

  private functionCall(call: FuncCall): void {
    const name = call.funcname?.at(-1);
    if (!name || !('String' in name) || !name.String.sval) return;
    for (const arg of secretArguments(name.String.sval, call.args ?? [], (n) => this.ctx.isSecretColumn(n))) this.markAll(arg);
  }

  /** SET my.api_key = '...'. A session's SET search_path changes which table a name means. */
  private setting(stmt: VariableSetStmt | undefined, inSession: boolean): void {
    if (!stmt) return;
    if (inSession && (stmt.kind === 'VAR_RESET_ALL' || stmt.name?.toLowerCase() === 'search_path')) this.changesColumns = true;
    if (stmt.name && this.isSecretName(stmt.name)) this.markAll(stmt.args);
  }

  /** OPTIONS (password 'x'), PASSWORD 'x' of a role: the value node has no location, its token has. */
  private option(option: DefElem): void {
    if (!option.defname || !this.isSecretName(option.defname) || !option.arg) return;
    const arg = option.arg;
    if (!('String' in arg || 'Integer' in arg || 'Float' in arg || 'Boolean' in arg)) return this.markAll(arg);
    const location = option.location ?? 0;
    if (location >= 0) this.mark(this.tokens.literalAfter(location, OPTION_VALUE_REACH));
  }

  private prepare(stmt: PrepareStmt): void {
    const outer = this.params;
    this.params = new Set();
    this.visit(stmt.query);
    this.prepared.push({ name: stmt.name ?? '', params: this.params });
    this.params = outer;
  }

  /** The prepared statement's secret parameters: from a PREPARE earlier in this string, else the session's. */
  private execute(stmt: ExecuteStmt): void {
    if (stmt.name === undefined) return;
    const earlier = [...this.prepared].reverse().find((p) => p.name === stmt.name);
    const secret = earlier ? earlier.params : this.ctx.preparedParams?.(stmt.name);
    for (const n of secret ?? []) this.markAll(stmt.params?.[n - 1]);
  }

  /** Whether an expression is, or is computed from, a secret column (memoized: nested operators). */
  private comparesSecretColumn(node: Node | undefined): boolean {
    if (!node) return false;
    const [type, body] = entryOf(node);
    if (type === 'ColumnRef') return this.isSecretRef(body);
    if (!PASS_THROUGH.has(type)) return false;
    const known = this.comparesSecret.get(body);
    if (known !== undefined) return known;
    let found = false;
    for (const key in body) {
      if (key === 'funcname' || key === 'name' || key === 'collname' || key === 'typeName') continue;
      const child = body[key];
      const children = Array.isArray(child) ? child : [child];
      if (children.some((c) => isNode(c) && this.comparesSecretColumn(c))) {
        found = true;
        break;
      }
    }
    this.comparesSecret.set(body, found);
    return found;
  }

  private isSecretRef(columnRef: Body): boolean {
    const last = (columnRef.fields as Node[] | undefined)?.at(-1);
    return last !== undefined && 'String' in last && this.ctx.isSecretColumn(last.String.sval ?? '');
  }

  /** INSERT (info.password) / SET info.password = ...: the column or a field of it. */
  private isSecretTarget(target: ResTarget): boolean {
    if (target.name && this.ctx.isSecretColumn(target.name)) return true;
    return (target.indirection ?? []).some((i) => 'String' in i && this.ctx.isSecretColumn(i.String.sval ?? ''));
  }

  private isSecretName(name: string): boolean {
    return isSecretSettingName(name) || this.ctx.isSecretColumn(name);
  }

  /**
   * Every constant and $n in a subtree is secret. A subtree already marked is not walked again, so
   * nested secret places (crypt(crypt(...)) in a password column) cost one walk.
   */
  private markAll(value: unknown): void {
    if (Array.isArray(value)) {
      for (const item of value) this.markAll(item);
      return;
    }
    if (value === null || typeof value !== 'object' || this.marked.has(value)) return;
    this.marked.add(value);
    for (const key in value) {
      const child = (value as Body)[key];
      if (key === 'A_Const') this.markConstant(child as A_Const);
      else if (key === 'ParamRef') this.markParam(child as ParamRef);
      else this.markAll(child);
    }
  }

  private markParam(param: ParamRef): void {
    if (typeof param.number === 'number') this.params.add(param.number);
  }

  private markConstant(constant: A_Const): void {
    const location = constant.location ?? 0; // a 0 is left out of the JSON
    if (constant.isnull || location < 0) return;
    this.mark(this.tokens.constantAt(location));
  }

  private mark(span: ByteSpan | undefined): void {
    if (span) this.spans.push(span);
  }

  private reportUnknown(relation: RangeVar): void {
    const table = relation.relname ?? '';
    this.unknownTables.set(`${relation.schemaname ?? ''}.${table}`, relation.schemaname ? { schema: relation.schemaname, table } : { table });
  }
}

function isStar(target: Node): boolean {
  if (!('ResTarget' in target)) return false;
  const value = target.ResTarget.val;
  return value !== undefined && 'ColumnRef' in value && (value.ColumnRef.fields ?? []).some((f) => 'A_Star' in f);
}
