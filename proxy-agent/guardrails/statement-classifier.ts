// What a SQL string would do, read with the real PostgreSQL parser (libpg-query), so a guardrail
// cannot be slipped past with comments, quoting, odd spacing or several statements in one string.
// Every statement node anywhere in the tree counts, not only the top level: a DELETE inside a CTE
// (`WITH d AS (DELETE ...) SELECT ...`) or under `EXPLAIN ANALYZE` runs too. What the parser
// cannot read is UNPARSEABLE (the server would refuse it too, but a rule may fail closed on it).
// A write whose WHERE is always true (constant-predicate.ts) is a write without WHERE.
import { loadModule, parseSync } from 'libpg-query';
import type { StatementKind } from '../../common/guardrails.ts';
import { alwaysTrue } from './constant-predicate.ts';

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
}

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

/** The statements of `sql` with their kinds. loadClassifier() must have resolved. */
export function classify(sql: string): ClassifiedStatement[] {
  let parsed: { stmts?: RawStmt[] };
  try {
    parsed = parseSync(sql) as { stmts?: RawStmt[] };
  } catch {
    return [{ kinds: new Set(['UNPARSEABLE']), text: sql }];
  }
  // libpg-query counts positions in bytes of UTF-8.
  const bytes = Buffer.from(sql, 'utf8');
  return (parsed.stmts ?? []).map((raw) => {
    const start = raw.stmt_location ?? 0;
    const text = bytes.subarray(start, raw.stmt_len ? start + raw.stmt_len : bytes.length).toString('utf8').trim();
    const kinds = new Set<StatementKind>();
    const flags = { encoding: false };
    collect(raw.stmt, kinds, flags);
    if (kinds.size === 0) kinds.add('OTHER');
    return { kinds, text, ...(flags.encoding ? { setsClientEncoding: true } : {}) };
  });
}

function collect(node: unknown, kinds: Set<StatementKind>, flags: { encoding: boolean }): void {
  if (Array.isArray(node)) {
    for (const child of node) collect(child, kinds, flags);
    return;
  }
  if (node === null || typeof node !== 'object') return;
  for (const [key, value] of Object.entries(node)) {
    const kind = NODE_KINDS[key];
    if (kind) {
      kinds.add(kind);
      // A WHERE that is always true (`WHERE 1 = 1`, `... OR true`) bounds nothing: it counts as none.
      const body = value as { whereClause?: unknown };
      const unbounded = (key === 'DeleteStmt' || key === 'UpdateStmt') && (!body.whereClause || alwaysTrue(body.whereClause));
      if (key === 'DeleteStmt' && unbounded) kinds.add('DELETE_WITHOUT_WHERE');
      if (key === 'UpdateStmt' && unbounded) kinds.add('UPDATE_WITHOUT_WHERE');
    }
    if (key === 'VariableSetStmt' && (value as { name?: string }).name?.toLowerCase() === 'client_encoding') flags.encoding = true;
    if (key === 'FuncCall' && isSetConfig(value)) flags.encoding = true;
    collect(value, kinds, flags);
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
