// What a SQL string would do, read with the real PostgreSQL parser (libpg-query), so a guardrail
// cannot be slipped past with comments, quoting, odd spacing or several statements in one string.
// Every statement node anywhere in the tree counts, not only the top level: a DELETE inside a CTE
// (`WITH d AS (DELETE ...) SELECT ...`) or under `EXPLAIN ANALYZE` runs too. What the parser
// cannot read is UNPARSEABLE (the server would refuse it too, but a rule may fail closed on it).
// A write whose WHERE is always true (constant-predicate.ts) is a write without WHERE.
import { loadModule, parseSync } from 'libpg-query';
import type { StatementKind } from '../../common/guardrails.ts';
import { alwaysTrue } from './constant-predicate.ts';
import { type BodyReading, readDoBlock, readRoutine, routineName } from './routine-bodies.ts';

export interface ClassifiedStatement {
  /** Every kind the statement is (a DELETE without WHERE is both DELETE and DELETE_WITHOUT_WHERE). */
  kinds: Set<StatementKind>;
  /** The statement's own text within the string. */
  text: string;
  /**
   * It changes client_encoding (SET, RESET, SET NAMES, set_config): the server would then read the
   * bytes that follow in another encoding than the one they are classified in.
   */
  setsClientEncoding?: boolean;
  /**
   * The statement's CommandComplete counts every row it writes: it is itself the one write
   * (INSERT, UPDATE, DELETE, MERGE, COPY) with no other write inside it (a data-changing CTE's
   * rows are not in the count). What `maxRows` can limit.
   */
  counted?: boolean;
  /** No INSERT, UPDATE, DELETE, MERGE or COPY FROM anywhere in it (a `maxRows` rule has nothing to count). */
  writesNoRows?: boolean;
  /** Why part of what the statement runs cannot be read (EXECUTE of a built string, dblink...). */
  unknown?: string[];
  /** Statements found inside bodies (DO, functions, procedures), with where they stand. */
  inner?: InnerStatement[];
  /** Routines the statement creates (or renames), with the kinds of their bodies. */
  defines?: DefinedRoutine[];
}

export interface InnerStatement {
  kinds: Set<StatementKind>;
  text: string;
  where: string;
}

export interface DefinedRoutine {
  name: string;
  kinds: Set<StatementKind>;
  /** Part of its body could not be read. */
  unknown?: boolean;
}

const COUNTED_NODES = new Set(['InsertStmt', 'UpdateStmt', 'DeleteStmt', 'MergeStmt', 'CopyStmt']);

/** Parser node names -> kinds. Nodes not listed add nothing. */
const NODE_KINDS: Record<string, StatementKind> = {
  SelectStmt: 'SELECT',
  InsertStmt: 'INSERT',
  UpdateStmt: 'UPDATE',
  DeleteStmt: 'DELETE',
  MergeStmt: 'MERGE',
  TruncateStmt: 'TRUNCATE',
  DropStmt: 'DROP',
  DropdbStmt: 'DROP',
  DropRoleStmt: 'DROP',
  DropOwnedStmt: 'DROP',
  DropTableSpaceStmt: 'DROP',
  DropSubscriptionStmt: 'DROP',
  RenameStmt: 'ALTER',
  AlterTableStmt: 'ALTER',
  AlterDatabaseStmt: 'ALTER',
  AlterDatabaseSetStmt: 'ALTER',
  AlterSystemStmt: 'ALTER',
  AlterOwnerStmt: 'ALTER',
  AlterObjectSchemaStmt: 'ALTER',
  AlterDomainStmt: 'ALTER',
  AlterSeqStmt: 'ALTER',
  AlterFunctionStmt: 'ALTER',
  AlterEnumStmt: 'ALTER',
  AlterRoleStmt: 'ROLE',
  AlterRoleSetStmt: 'ROLE',
  CreateRoleStmt: 'ROLE',
  CreateStmt: 'CREATE',
  CreateTableAsStmt: 'CREATE',
  IndexStmt: 'CREATE',
  ViewStmt: 'CREATE',
  CreateFunctionStmt: 'CREATE',
  CreateSchemaStmt: 'CREATE',
  CreatedbStmt: 'CREATE',
  CreateExtensionStmt: 'CREATE',
  CreateTrigStmt: 'CREATE',
  GrantStmt: 'GRANT',
  GrantRoleStmt: 'GRANT',
  CopyStmt: 'COPY',
  DoStmt: 'DO',
  CallStmt: 'CALL',
};

let ready: Promise<void> | null = null;

/** Loads the parser (WASM) once; classify() may be called after it resolved. */
export function loadClassifier(): Promise<void> {
  ready ??= loadModule();
  return ready;
}

interface RawStmt {
  stmt: Record<string, unknown>;
  stmt_location?: number;
  stmt_len?: number;
}

/** What the agent knows of routines created through it: a call runs the body it saw. */
export interface KnownRoutines {
  lookup(name: string): KnownRoutine | undefined;
}

export interface KnownRoutine {
  kinds: ReadonlySet<StatementKind>;
  /** Part of its body could not be read: every call is unknown too. */
  unknown: boolean;
}

/** Bodies inside bodies (EXECUTE of a DO block creating a function...) are read this deep. */
const MAX_DEPTH = 8;

/**
 * Functions that run SQL given as a string, on this connection or another: what they run cannot
 * be read from the call.
 */
const SQL_RUNNING_FUNCTIONS = new Set(['dblink', 'dblink_exec', 'dblink_send_query', 'dblink_open', 'query_to_xml', 'query_to_xmlschema', 'query_to_xml_and_xmlschema']);

/** The statements of `sql` with their kinds. loadClassifier() must have resolved. */
export function classify(sql: string, routines?: KnownRoutines): ClassifiedStatement[] {
  return statementsOf(sql, routines, 0) ?? [{ kinds: new Set(['UNPARSEABLE']), text: sql }];
}

function statementsOf(sql: string, routines: KnownRoutines | undefined, depth: number): ClassifiedStatement[] | null {
  let parsed: { stmts?: RawStmt[] };
  try {
    parsed = parseSync(sql) as { stmts?: RawStmt[] };
  } catch {
    return null;
  }
  // libpg-query counts positions in bytes of UTF-8.
  const bytes = Buffer.from(sql, 'utf8');
  return (parsed.stmts ?? []).map((raw) => {
    const start = raw.stmt_location ?? 0;
    const text = bytes.subarray(start, raw.stmt_len ? start + raw.stmt_len : bytes.length).toString('utf8').trim();
    const reading = new Reading(text, routines, depth);
    reading.collect(raw.stmt);
    const { kinds } = reading;
    if (kinds.size === 0) kinds.add('OTHER');
    const counted = reading.writes === 1 && COUNTED_NODES.has(Object.keys(raw.stmt)[0] ?? '');
    return {
      kinds,
      text,
      ...(reading.encoding ? { setsClientEncoding: true } : {}),
      ...(counted ? { counted } : {}),
      ...(reading.writes === 0 ? { writesNoRows: true } : {}),
      ...(reading.unknown.length ? { unknown: reading.unknown } : {}),
      ...(reading.inner.length ? { inner: reading.inner } : {}),
      ...(reading.defines.length ? { defines: reading.defines } : {}),
    };
  });
}

/** One statement's parse tree, read for everything it would run. */
class Reading {
  readonly kinds = new Set<StatementKind>();
  encoding = false;
  /** Write nodes seen (INSERT, UPDATE, DELETE, MERGE, COPY). */
  writes = 0;
  readonly unknown: string[] = [];
  readonly inner: InnerStatement[] = [];
  readonly defines: DefinedRoutine[] = [];

  constructor(private readonly text: string, private readonly routines: KnownRoutines | undefined, private readonly depth: number) {}

  collect(node: unknown): void {
    if (Array.isArray(node)) {
      for (const child of node) this.collect(child);
      return;
    }
    if (node === null || typeof node !== 'object') return;
    for (const [key, value] of Object.entries(node)) {
      const kind = NODE_KINDS[key];
      if (kind) {
        this.kinds.add(kind);
        // COPY TO reads rows: only COPY FROM writes them.
        if (COUNTED_NODES.has(key) && !(key === 'CopyStmt' && !(value as { is_from?: boolean }).is_from)) this.writes++;
        // A WHERE that is always true (`WHERE 1 = 1`, `... OR true`) bounds nothing: it counts as none.
        const body = value as { whereClause?: unknown };
        const unbounded = (key === 'DeleteStmt' || key === 'UpdateStmt') && (!body.whereClause || alwaysTrue(body.whereClause));
        if (key === 'DeleteStmt' && unbounded) this.kinds.add('DELETE_WITHOUT_WHERE');
        if (key === 'UpdateStmt' && unbounded) this.kinds.add('UPDATE_WITHOUT_WHERE');
      }
      if (key === 'VariableSetStmt' && (value as { name?: string }).name?.toLowerCase() === 'client_encoding') this.encoding = true;
      if (key === 'DoStmt') this.body(readDoBlock(value as { args?: unknown }, this.text));
      if (key === 'CreateFunctionStmt') {
        this.routine(value as Parameters<typeof readRoutine>[0]);
        continue;
      }
      if (key === 'FuncCall') this.call(value as { funcname?: unknown }, 'function');
      if (key === 'CallStmt') {
        // (CallStmt holds the FuncCall's fields directly.)
        const call = (value as { funccall?: { funcname?: unknown; args?: unknown } }).funccall ?? {};
        this.call(call, 'procedure');
        this.collect(call.args);
        continue;
      }
      if (key === 'CreateTrigStmt') this.runs((value as { funcname?: unknown }).funcname, 'the trigger function');
      if (key === 'RenameStmt') this.rename(value as { renameType?: string; object?: { ObjectWithArgs?: { objname?: unknown } }; newname?: string });
      this.collect(value);
    }
  }

  /** A function call: set_config of client_encoding, a function that runs a string, or a body Vigil saw. */
  private call(call: { funcname?: unknown }, kind: 'function' | 'procedure'): void {
    if (kind === 'function' && isSetConfig(call)) this.encoding = true;
    const name = routineName(call.funcname);
    if (name && kind === 'function' && SQL_RUNNING_FUNCTIONS.has(name)) this.unknown.push(`${name}() runs SQL given as a string`);
    const known = this.runs(call.funcname, `${kind} ${name ?? '?'}`);
    // A procedure is called for what it does; one created elsewhere did what the agent never read.
    if (!known && kind === 'procedure') this.unknown.push(`CALL of procedure ${name ?? '?'}, whose body Vigil has not seen`);
  }

  /** A routine the statement runs: what Vigil saw in its body counts here. */
  private runs(funcname: unknown, what: string): boolean {
    const name = routineName(funcname);
    const known = name ? this.routines?.lookup(name) : undefined;
    if (!known) return false;
    for (const k of known.kinds) this.kinds.add(k);
    if (known.kinds.size) this.inner.push({ kinds: new Set(known.kinds), text: `${name}()`, where: `in the body of ${what}, created through Vigil` });
    if (known.unknown) this.unknown.push(`${what} runs what the guardrails could not read in its body`);
    return true;
  }

  private routine(node: Parameters<typeof readRoutine>[0] & { sql_body?: unknown }): void {
    const before = this.unknown.length;
    const body = new Reading(this.text, this.routines, this.depth);
    body.collect(node.sql_body);
    const reading = readRoutine(node, this.text);
    const nested = body.kinds.size ? [{ kinds: body.kinds, text: this.text, where: `in the BEGIN ATOMIC body of ${routineName(node.funcname) ?? '?'}` }] : [];
    const kinds = new Set(body.kinds);
    for (const piece of this.body(reading)) for (const k of piece.kinds) kinds.add(k);
    for (const k of body.kinds) this.kinds.add(k);
    this.inner.push(...nested);
    this.unknown.push(...body.unknown);
    this.encoding ||= body.encoding;
    const name = routineName(node.funcname);
    if (name) this.defines.push({ name, kinds, ...(this.unknown.length > before ? { unknown: true } : {}) });
    this.collect({ ...node, sql_body: undefined });
  }

  private rename(node: { renameType?: string; object?: { ObjectWithArgs?: { objname?: unknown } }; newname?: string }): void {
    if (!['OBJECT_FUNCTION', 'OBJECT_PROCEDURE', 'OBJECT_ROUTINE'].includes(node.renameType ?? '') || !node.newname) return;
    const old = routineName(node.object?.ObjectWithArgs?.objname);
    const known = old ? this.routines?.lookup(old) : undefined;
    if (known) this.defines.push({ name: node.newname.toLowerCase(), kinds: new Set(known.kinds), ...(known.unknown ? { unknown: true } : {}) });
  }

  /** SQL found in a body, read like a statement of its own; its kinds are this statement's too. */
  private body(reading: BodyReading): ClassifiedStatement[] {
    this.unknown.push(...reading.unknown);
    const found: ClassifiedStatement[] = [];
    for (const piece of reading.sql) {
      if (this.depth >= MAX_DEPTH) {
        this.unknown.push(`bodies nested more than ${MAX_DEPTH} deep (${piece.where})`);
        break;
      }
      const statements = statementsOf(piece.sql, this.routines, this.depth + 1);
      if (!statements) {
        this.unknown.push(`SQL that could not be read (${piece.where})`);
        continue;
      }
      for (const statement of statements) {
        found.push(statement);
        for (const k of statement.kinds) this.kinds.add(k);
        this.encoding ||= statement.setsClientEncoding === true;
        this.unknown.push(...(statement.unknown ?? []));
        this.defines.push(...(statement.defines ?? []));
        const interesting = [...statement.kinds].some((k) => k !== 'SELECT' && k !== 'OTHER');
        if (interesting) this.inner.push({ kinds: statement.kinds, text: statement.text, where: piece.where });
        this.inner.push(...(statement.inner ?? []).map((i) => ({ ...i, where: `${i.where}, ${piece.where}` })));
      }
    }
    return found;
  }
}

/** set_config() whose setting is client_encoding, or not a plain string (then it may be). */
function isSetConfig(call: unknown): boolean {
  const c = call as { funcname?: Array<{ String?: { sval?: string } }>; args?: Array<{ A_Const?: { sval?: { sval?: string } } }> };
  const name = c.funcname?.at(-1)?.String?.sval?.toLowerCase();
  if (name !== 'set_config') return false;
  const setting = c.args?.[0]?.A_Const?.sval?.sval;
  return setting === undefined || setting.toLowerCase() === 'client_encoding';
}
