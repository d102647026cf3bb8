// psql's meta-commands (`\d customers`, `\dt`, `\l`, `\du`) are catalog queries psql writes and
// sends itself: one `\d` is a dozen statements nobody typed. The watch view shows such a run as
// one row named after the meta-command (watch-rows.ts groups them); this file tells which
// statements qualify and names the meta-command from the first query's shape.
//
// A statement qualifies only when it reads nothing but the catalog, the way psql's do: one SELECT,
// every relation it reads qualified by pg_catalog or information_schema (psql always qualifies),
// every function it calls a known read-only catalog function, no INTO, no FOR UPDATE, and none of
// the catalogs that hold secrets (pg_authid's password hashes). What fails any of that is shown
// as the ordinary statement it is: a grouped row must never hide a read of data or a side effect.
import { tokenize, wordOf, type SqlToken } from './sql-tokens.ts';

const CATALOG_SCHEMAS = new Set(['pg_catalog', 'information_schema']);

/** Catalogs whose rows are secrets or other people's data: reading them is never folded away. */
const SENSITIVE_RELATIONS = new Set([
  'pg_authid', 'pg_shadow', 'pg_user_mapping', 'pg_user_mappings', 'pg_statistic', 'pg_largeobject', 'pg_stat_activity',
  'pg_hba_file_rules', 'pg_ident_file_mappings', 'pg_file_settings', 'pg_subscription', 'user_mapping_options', 'user_mappings',
]);

/**
 * Operators that are PostgreSQL's own (an unqualified operator finds pg_catalog's first): a
 * made-up one (`===`) could be anyone's function, so a statement using it is not folded away.
 */
const BUILT_IN_OPERATORS = new Set(['=', '<>', '!=', '<', '>', '<=', '>=', '~', '!~', '~*', '!~*', '~~', '!~~', '||', '+', '-', '*', '/', '%', '.', '@>', '<@', '&&']);

/** Words followed by `(` that are syntax, not a function call. */
const SYNTAX_BEFORE_PAREN = new Set([
  'select', 'from', 'where', 'join', 'on', 'using', 'and', 'or', 'not', 'in', 'any', 'all', 'some', 'exists', 'array', 'values',
  'when', 'then', 'else', 'case', 'end', 'as', 'by', 'over', 'filter', 'within', 'group', 'union', 'intersect', 'except',
  'operator', 'row', 'is', 'like', 'ilike', 'similar', 'between', 'lateral', 'coalesce', 'nullif', 'greatest', 'least',
  'cast', 'having', 'limit', 'offset', 'distinct', 'ordinality', 'with', 'collate', 'escape', 'interval', 'only',
]);

/** Functions psql's describe and completion queries call, all read-only (checked with or without `pg_catalog.`). */
const READ_ONLY_FUNCTIONS = new Set([
  'format_type', 'array_to_string', 'array_upper', 'array_lower', 'array_length', 'string_agg', 'array_agg', 'generate_series',
  'unnest', 'quote_ident', 'quote_literal', 'obj_description', 'col_description', 'shobj_description', 'pg_encoding_to_char',
  'pg_char_to_encoding', 'getdatabaseencoding', 'pg_tablespace_location', 'pg_relation_is_publishable', 'pg_partition_ancestors',
  'pg_partition_root', 'pg_size_pretty', 'pg_has_role', 'current_schemas', 'current_schema', 'current_database', 'current_user',
  'version', 'substring', 'substr', 'left', 'right', 'length', 'lower', 'upper', 'concat', 'concat_ws', 'regexp_replace',
  'count', 'max', 'min', 'bool_or', 'bool_and', 'row_number', 'pg_options_to_table', 'pg_typeof', 'format', 'pg_get_keywords',
  'textin', 'textout', 'pg_describe_object', 'pg_identify_object',
]);
const READ_ONLY_FAMILIES = [/^pg_get_/, /_is_visible$/, /^has_\w+_privilege$/, /^pg_(table|relation|total_relation|indexes|database|tablespace)_size$/];

/** Too long to be one of psql's queries: not read (and not grouped). */
const MAX_CATALOG_SQL = 20_000;

/** Whether a statement reads only the catalog, the way psql's meta-commands do. */
export function readsOnlyCatalog(sql: string): boolean {
  if (sql.length > MAX_CATALOG_SQL) return false;
  const toks = tokenize(sql);
  if (!toks || wordOf(toks[0]) !== 'select') return false;
  // One statement: a `;` only at the end.
  let end = toks.length;
  while (end > 0 && toks[end - 1].t === 'punct' && (toks[end - 1] as { v: string }).v === ';') end--;
  const body = toks.slice(0, end);
  let catalogNamed = false;
  for (let i = 0; i < body.length; i++) {
    const tok = body[i];
    if (tok.t === 'punct' && tok.v === ';') return false;
    if (tok.t === 'op' && !BUILT_IN_OPERATORS.has(tok.v)) return false;
    // A cast names a type, OPERATOR(schema.op) an operator: only the catalog's.
    if (tok.t === 'name' && tok.parts.length > 1 && !CATALOG_SCHEMAS.has(tok.parts[0]) && afterCast(body, i)) return false;
    if (wordOf(tok) === 'operator' && !catalogOperator(body, i)) return false;
    if (tok.t !== 'name' || tok.quoted) continue;
    const word = wordOf(tok);
    // SELECT ... INTO makes a table; FOR UPDATE / FOR SHARE locks rows.
    if (word === 'into' || word === 'update' || word === 'share') return false;
    if (tok.parts.length > 1 && CATALOG_SCHEMAS.has(tok.parts[0])) catalogNamed = true;
    if (isCall(body, i) && !readOnlyFunction(tok)) return false;
    if (word === 'from' && opensRelations(body, i) && !relationsAreCatalog(body, i)) return false;
  }
  return catalogNamed;
}

/** A name after `::`: a type, not a column. */
function afterCast(toks: SqlToken[], i: number): boolean {
  const prev = toks[i - 1];
  return prev?.t === 'punct' && prev.v === '::';
}

/** `OPERATOR(pg_catalog.~)`, psql's way to name the catalog's operator whatever the search path. */
function catalogOperator(toks: SqlToken[], i: number): boolean {
  const open = toks[i + 1];
  if (open?.t !== 'punct' || open.v !== '(') return true; // a column named operator
  const schema = toks[i + 2];
  return schema?.t === 'name' && !schema.quoted && schema.parts.length === 1 && schema.parts[0] === 'pg_catalog';
}

/** `name (` where the name is a function, not syntax, an alias's column list (`AS a(x)`) or a type modifier (`::varchar(8)`). */
function isCall(toks: SqlToken[], i: number): boolean {
  const tok = toks[i];
  const next = toks[i + 1];
  if (tok.t !== 'name' || next?.t !== 'punct' || next.v !== '(') return false;
  const word = wordOf(tok);
  if (word !== null && SYNTAX_BEFORE_PAREN.has(word)) return false;
  const prev = toks[i - 1];
  if (prev?.t === 'punct' && prev.v === '::') return false;
  if (wordOf(prev) === 'as') return false;
  return true;
}

function readOnlyFunction(tok: Extract<SqlToken, { t: 'name' }>): boolean {
  if (tok.quoted || tok.parts.length > 2) return false;
  if (tok.parts.length === 2 && tok.parts[0] !== 'pg_catalog') return false;
  const name = tok.parts[tok.parts.length - 1];
  return READ_ONLY_FUNCTIONS.has(name) || READ_ONLY_FAMILIES.some((family) => family.test(name));
}

/**
 * Whether this FROM opens a list of relations: not `IS DISTINCT FROM`, nor the FROM inside a
 * function's parentheses (`substring(x FROM 2)`, `extract(year FROM t)`).
 */
function opensRelations(toks: SqlToken[], at: number): boolean {
  if (wordOf(toks[at - 1]) === 'distinct') return false;
  let depth = 0;
  for (let k = at - 1; k >= 0; k--) {
    const t = toks[k];
    if (t.t !== 'punct') continue;
    if (t.v === ')') depth++;
    else if (t.v === '(') {
      if (depth === 0) return !isCall(toks, k - 1);
      depth--;
    }
  }
  return true;
}

const CLAUSE_ENDS = new Set(['where', 'group', 'order', 'having', 'limit', 'offset', 'union', 'intersect', 'except', 'window', 'fetch', 'for']);

/**
 * The FROM list at `at`: each item (after `,` or JOIN at the same depth) must be a catalog relation
 * or function, or a parenthesized subquery (whose own FROMs are read where they stand).
 */
function relationsAreCatalog(toks: SqlToken[], at: number): boolean {
  let depth = 0;
  let expectItem = true;
  for (let k = at + 1; k < toks.length; k++) {
    const t = toks[k];
    if (expectItem) {
      const word = wordOf(t);
      if (word === 'lateral' || word === 'only') continue;
      if (t.t === 'punct' && t.v === '(') {
        expectItem = false;
        depth++;
        continue;
      }
      if (t.t !== 'name' || t.quoted || t.parts.length !== 2) return false;
      if (!CATALOG_SCHEMAS.has(t.parts[0]) || SENSITIVE_RELATIONS.has(t.parts[1])) return false;
      expectItem = false;
      continue;
    }
    if (t.t === 'punct' && t.v === '(') depth++;
    else if (t.t === 'punct' && t.v === ')') {
      if (depth === 0) return true;
      depth--;
    } else if (depth === 0) {
      const word = wordOf(t);
      if (t.t === 'punct' && t.v === ',') expectItem = true;
      else if (word === 'join') expectItem = true;
      else if (word !== null && CLAUSE_ENDS.has(word)) return true;
    }
  }
  return !expectItem;
}

/** The meta-commands told apart by the first query psql sends for them (psql 15), after whitespace is squeezed. */
const HEADS: Array<{ shape: RegExp; command: string | ((sql: string) => string) }> = [
  // \d NAME, \d+ NAME: the relation is looked up first, then described.
  { shape: /^SELECT c\.oid, n\.nspname, c\.relname FROM pg_catalog\.pg_class c /, command: '\\d' },
  // \sf NAME, \ef NAME: the function's oid first.
  { shape: /^SELECT '((?:[^']|'')*)'::pg_catalog\.regproc(?:edure)?::pg_catalog\.oid;?$/, command: (sql) => `\\sf ${/^SELECT '((?:[^']|'')*)'/.exec(sql)![1].replace(/''/g, "'")}` },
  { shape: /^SELECT n\.nspname as "Schema", c\.relname as "Name", .*"Access privileges"/, command: '\\dp' },
  { shape: /^SELECT n\.nspname as "Schema", c\.relname as "Name", CASE c\.relkind /, command: relationListCommand },
  { shape: /^SELECT d\.datname as "Name", /, command: '\\l' },
  { shape: /^SELECT r\.rolname, r\.rolsuper, /, command: '\\du' },
  { shape: /^SELECT n\.nspname AS "Name", pg_catalog\.pg_get_userbyid\(n\.nspowner\) AS "Owner"/, command: '\\dn' },
  { shape: /^SELECT n\.nspname as "Schema", p\.proname as "Name", /, command: '\\df' },
  { shape: /^SELECT e\.extname AS "Name", /, command: '\\dx' },
  { shape: /^SELECT n\.nspname as "Schema", pg_catalog\.format_type\(t\.oid, NULL\) AS "Name", /, command: '\\dT' },
  { shape: /^SELECT n\.nspname as "Schema", t\.typname as "Name", pg_catalog\.format_type\(t\.typbasetype/, command: '\\dD' },
  { shape: /^SELECT n\.nspname as "Schema", o\.oprname AS "Name", /, command: '\\do' },
  { shape: /^SELECT spcname AS "Name", /, command: '\\db' },
  { shape: /^SELECT pg_catalog\.format_type\(castsource, NULL\) AS "Source type"/, command: '\\dC' },
  { shape: /^SELECT n\.nspname AS "Schema", c\.collname AS "Name", /, command: '\\dO' },
  { shape: /^SELECT n\.nspname AS "Schema", c\.conname AS "Name", /, command: '\\dc' },
  { shape: /^SELECT l\.lanname AS "Name", /, command: '\\dL' },
  { shape: /^SELECT s\.srvname AS "Name", /, command: '\\des' },
  { shape: /^SELECT evtname as "Name", /, command: '\\dy' },
  { shape: /^SELECT rolname AS "Role", datname AS "Database", /, command: '\\drds' },
  { shape: /^SELECT pubname AS "Name", /, command: '\\dRp' },
  // Tab completion: candidates LIKE what was typed, at most 1000.
  { shape: / LIKE '.*LIMIT 1000;?$/, command: 'tab completion' },
];

/** relkind letters psql lists, to the \d variant that lists them. */
const KIND_LETTERS: Array<[string[], string]> = [[['r', 'p'], 't'], [['i', 'I'], 'i'], [['v'], 'v'], [['m'], 'm'], [['S'], 's'], [['f'], 'E']];

function relationListCommand(sql: string): string {
  const kinds = /WHERE c\.relkind IN \(([^)]*)\)/.exec(sql)?.[1].match(/'([A-Za-z])'/g)?.map((k) => k[1]) ?? [];
  const letters = KIND_LETTERS.filter(([ks]) => ks.some((k) => kinds.includes(k))).map(([, letter]) => letter);
  // Tables, views, materialized views, sequences and foreign tables together: plain \d.
  return letters.join('') === 'tvmsE' ? '\\d' : `\\d${letters.join('')}`;
}

/**
 * The meta-command a catalog query is the first query of (`\d customers`, `\dt cust*`, `\l`,
 * `tab completion`), or null when its shape is not one psql starts a meta-command with.
 */
export function metaCommandOf(sql: string): string | null {
  const squeezed = sql.replace(/\s+/g, ' ').trim();
  for (const head of HEADS) {
    if (!head.shape.test(squeezed)) continue;
    const command = typeof head.command === 'string' ? head.command : head.command(squeezed);
    const pattern = command.startsWith('\\') && !command.startsWith('\\sf') ? namePattern(squeezed) : '';
    return pattern ? `${command} ${pattern}` : command;
  }
  return null;
}

/**
 * The name pattern the meta-command was given, read back from psql's regular expressions:
 * `c.relname OPERATOR(pg_catalog.~) '^(cust.*)$'` was `cust*`; a schema (`n.nspname`) goes in front.
 */
function namePattern(sql: string): string {
  let name = '';
  let schema = '';
  for (const m of sql.matchAll(/\b\w+\.(\w+) OPERATOR\(pg_catalog\.~\) '\^\(((?:[^']|'')*)\)\$'/g)) {
    const text = fromPsqlRegex(m[2].replace(/''/g, "'"));
    if (m[1] === 'nspname' && !schema) schema = text;
    else if (m[1] !== 'nspname' && !name) name = text;
  }
  if (name && schema) return `${schema}.${name}`;
  return name || schema;
}

/** psql's pattern regex back into what was typed: `.*` was `*`, `.` was `?`, `\x` was `x`. */
function fromPsqlRegex(regex: string): string {
  let out = '';
  for (let i = 0; i < regex.length; i++) {
    const c = regex[i];
    if (c === '\\' && i + 1 < regex.length) out += regex[++i];
    else if (c === '.' && regex[i + 1] === '*') (out += '*', i++);
    else if (c === '.') out += '?';
    else out += c;
  }
  return out;
}

/** How a group of catalog queries reads: `psql \d customers — 13 catalog queries`. */
export function metaCommandLabel(command: string | null, count: number): string {
  const queries = `${count} catalog quer${count === 1 ? 'y' : 'ies'}`;
  if (command === 'tab completion') return `psql tab completion — ${queries}`;
  return `psql ${command ?? 'meta-command'} — ${queries}`;
}
