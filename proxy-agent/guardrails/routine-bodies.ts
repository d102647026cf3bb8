// The SQL inside DO blocks and function and procedure bodies, for the classifier to read like
// top-level statements: a DELETE in a body is a DELETE. SQL-language bodies are SQL text; PL/pgSQL
// bodies are read with PostgreSQL's own PL/pgSQL parser (libpg-query), which gives every embedded
// statement and expression. What cannot be read before it runs is named, not guessed: EXECUTE of a
// string built at run time, a body in another language, a body the parser refuses.
import { parsePlPgSQLSync, parseSync } from 'libpg-query';

/** A piece of SQL found in a body, with where it stands (for explanations). */
export interface BodySql {
  sql: string;
  where: string;
}

export interface BodyReading {
  sql: BodySql[];
  /** Why part of the body cannot be read statically (empty: everything is in `sql`). */
  unknown: string[];
}

interface DefElem {
  defname?: string;
  arg?: { String?: { sval?: string }; List?: { items?: Array<{ String?: { sval?: string } }> } };
}

const option = (options: unknown, name: string): DefElem['arg'] | undefined =>
  (options as Array<{ DefElem?: DefElem }> | undefined)?.find((o) => o.DefElem?.defname === name)?.DefElem?.arg;

/** `DO [LANGUAGE x] $$ body $$`; `statement` is the whole DO statement's text. */
export function readDoBlock(node: { args?: unknown }, statement: string): BodyReading {
  const language = option(node.args, 'language')?.String?.sval?.toLowerCase() ?? 'plpgsql';
  const where = 'in the DO block';
  if (language !== 'plpgsql') return { sql: [], unknown: [`a DO block in language ${language} (${where})`] };
  return readPlPgSql(statement, where);
}

/** CREATE FUNCTION / PROCEDURE. A BEGIN ATOMIC body is part of the parse tree already. */
export function readRoutine(node: { funcname?: unknown; options?: unknown; is_procedure?: boolean; sql_body?: unknown }, statement: string): BodyReading {
  const kind = node.is_procedure ? 'procedure' : 'function';
  const where = `in the body of ${kind} ${routineName(node.funcname) ?? '?'}`;
  const language = option(node.options, 'language')?.String?.sval?.toLowerCase() ?? 'sql';
  if (node.sql_body) return { sql: [], unknown: [] };
  const as = option(node.options, 'as');
  const body = as?.String?.sval ?? as?.List?.items?.[0]?.String?.sval;
  if (language === 'sql') return body === undefined ? { sql: [], unknown: [] } : { sql: [{ sql: body, where }], unknown: [] };
  if (language === 'plpgsql') return readPlPgSql(statement, where);
  return { sql: [], unknown: [`a ${kind} in language ${language} (${where})`] };
}

/** The unqualified, lower-cased name of a function in a parse tree's name list. */
export function routineName(names: unknown): string | undefined {
  return (names as Array<{ String?: { sval?: string } }> | undefined)?.at(-1)?.String?.sval?.toLowerCase();
}

function readPlPgSql(statement: string, where: string): BodyReading {
  let tree: unknown;
  try {
    tree = parsePlPgSQLSync(statement);
  } catch {
    // (The parser's message quotes the body: it is left out, as below.)
    return { sql: [], unknown: [`the PL/pgSQL body could not be read (${where})`] };
  }
  const reading: BodyReading = { sql: [], unknown: [] };
  walk(tree, reading, where, false);
  return reading;
}

/** Statements whose `query` is a string built at run time, not SQL text. */
const DYNAMIC = new Set(['PLpgSQL_stmt_dynexecute', 'PLpgSQL_stmt_dynfors']);

function walk(node: unknown, reading: BodyReading, where: string, dynamic: boolean): void {
  if (Array.isArray(node)) {
    for (const child of node) walk(child, reading, where, dynamic);
    return;
  }
  if (node === null || typeof node !== 'object') return;
  for (const [key, value] of Object.entries(node)) {
    if (key === 'PLpgSQL_expr') {
      expression(value as { query?: string; parseMode?: number }, reading, where, dynamic);
      continue;
    }
    if (DYNAMIC.has(key)) {
      const { query, ...rest } = value as { query?: unknown };
      walk(query, reading, where, true);
      walk(rest, reading, where, false);
      continue;
    }
    walk(value, reading, where, dynamic || key === 'dynquery');
  }
}

/**
 * One PL/pgSQL expression or statement. Expressions run as `SELECT expr` (they can call functions
 * and hold subqueries); an assignment's right side likewise. The string an EXECUTE runs is SQL the
 * agent can read only when it is a constant.
 */
function expression(expr: { query?: string; parseMode?: number }, reading: BodyReading, where: string, dynamic: boolean): void {
  const query = expr.query ?? '';
  // parseMode 0: a whole statement; 2: an expression; 3 to 5: an assignment `target := expression`.
  const mode = expr.parseMode ?? 0;
  const expressionText = mode >= 3 ? query.replace(/^[^:=]*(:=|=)/s, '') : query;
  const sql = mode === 0 ? query : `SELECT ${expressionText}`;
  reading.sql.push({ sql, where });
  if (!dynamic) return;
  const constant = constantString(expressionText);
  // (No text of the expression in the reason: it reaches the client's error, which is recorded.)
  if (constant === undefined) reading.unknown.push(`EXECUTE of a string built at run time (${where})`);
  else reading.sql.push({ sql: constant, where: `executed ${where}` });
}

/** The value of an expression that is one string constant (`'delete from t'`), else undefined. */
function constantString(expression: string): string | undefined {
  try {
    const tree = parseSync(`SELECT ${expression}`) as { stmts?: Array<{ stmt?: { SelectStmt?: { targetList?: Array<{ ResTarget?: { val?: { A_Const?: { sval?: { sval?: string } } } } }> } } }> };
    const targets = tree.stmts?.[0]?.stmt?.SelectStmt?.targetList;
    if (tree.stmts?.length !== 1 || targets?.length !== 1) return undefined;
    return targets[0].ResTarget?.val?.A_Const?.sval?.sval;
  } catch {
    return undefined;
  }
}
