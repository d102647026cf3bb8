// What a SQL string would do, read with the real PostgreSQL parser (libpg-query), so a guardrail
// cannot be slipped past with comments, quoting, odd spacing or several statements in one string.
// Every statement node anywhere in the tree counts, not only the top level: a DELETE inside a CTE
// (`WITH d AS (DELETE ...) SELECT ...`) or under `EXPLAIN ANALYZE` runs too. What the parser
// cannot read is UNPARSEABLE (the server would refuse it too, but a rule may fail closed on it).
import { loadModule, parseSync } from 'libpg-query';
import type { StatementKind } from '../../common/guardrails.ts';

export interface ClassifiedStatement {
  /** Every kind the statement is (a DELETE without WHERE is both DELETE and DELETE_WITHOUT_WHERE). */
  kinds: Set<StatementKind>;
  /** The statement's own text within the string. */
  text: string;
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
    collect(raw.stmt, kinds);
    if (kinds.size === 0) kinds.add('OTHER');
    return { kinds, text };
  });
}

function collect(node: unknown, kinds: Set<StatementKind>): void {
  if (Array.isArray(node)) {
    for (const child of node) collect(child, kinds);
    return;
  }
  if (node === null || typeof node !== 'object') return;
  for (const [key, value] of Object.entries(node)) {
    const kind = NODE_KINDS[key];
    if (kind) {
      kinds.add(kind);
      const body = value as { whereClause?: unknown };
      if (key === 'DeleteStmt' && !body.whereClause) kinds.add('DELETE_WITHOUT_WHERE');
      if (key === 'UpdateStmt' && !body.whereClause) kinds.add('UPDATE_WITHOUT_WHERE');
    }
    collect(value, kinds);
  }
}
