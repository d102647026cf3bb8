// Values written into, compared with or passed as secrets in a SQL string, so that the recorder can
// mask them in the recorded text and bind parameters: `INSERT INTO users(name, password) VALUES
// ('bob', 'hunter2')`. Result rows are masked elsewhere by column name; this also says which result
// columns carry a secret under another name (`SELECT upper(password) AS x`). The real PostgreSQL
// parser (libpg-query) says where each value goes; its scanner says where each literal ends. Pure:
// no I/O, the caller supplies column orders and prepared statements through SecretContext.
import { loadModule, parseSync, scanSync, type ParseResult, type ScanToken } from 'libpg-query';
import { SECRET_FUNCTION_STEMS, SECRET_SETTING_WORDS, isSecretFunctionName } from './secret-functions.ts';
import { mayReferenceWholeRow } from './row-references.ts';
import { SecretPlaceFinder } from './secret-places.ts';
import { constantsByHand, mergeSpans, quotedRuns, SqlTokens, toUtf16Spans, type ByteSpan } from './sql-tokens.ts';

export const SECRET_MARKER = "'[SECRET_COLUMN]'";

export interface SecretContext {
  /** Whether a column's values are secret, by its name (the caller's rule: case-insensitive substring match against needles like password, secret, token, api_key...). */
  isSecretColumn(name: string): boolean;
  /** The table's column names in order (attnum order, no dropped columns), or undefined while not known. schema is undefined when the statement did not qualify the name. */
  tableColumns(schema: string | undefined, table: string): readonly string[] | undefined;
  /** Secret parameter numbers (1-based) of a SQL-level prepared statement of this session (PREPARE name AS ...), or undefined if unknown. */
  preparedParams?(name: string): ReadonlySet<number> | undefined;
}

export interface CopySpec {
  direction: 'in' | 'out'; // COPY ... FROM STDIN is 'in'; COPY ... TO STDOUT is 'out'
  format: 'text' | 'csv' | 'binary';
  delimiter: string; // default '\t' (text) or ',' (csv)
  quote: string; // csv only, default '"'
  escape: string; // csv only, default = quote
  header: boolean; // csv/text HEADER option (first line is not data)
  /** The NULL option when the statement gives one; absent: \N (text) or an unquoted empty field (csv). */
  nullString?: string;
  /** Per field of each row: secret or not. null: columns unknown -> every field is masked. */
  secretFields: boolean[] | null;
  /**
   * The fields come from the catalog's column order (no column list): COPY leaves generated
   * columns out and the order may be stale, so a row whose field count differs is masked whole.
   */
  fromCatalog?: boolean;
  /** `COPY (query) TO`: the fields are computed, a value may hide another in its encoding (hex, base64). */
  fromQuery?: boolean;
}

export interface SecretValues {
  /** [start, end) offsets in UTF-16 code units into the SQL string, of whole literal tokens (quotes, E/U&/B/X prefixes, dollar quotes, a leading minus sign of a negative number included) to replace by SECRET_MARKER. Sorted, non-overlapping. */
  literals: Array<[number, number]>;
  /** 1-based $n parameters whose bound values are secret. */
  params: Set<number>;
  /** Tables whose column order was needed but tableColumns() did not know: the caller looks them up for next time. */
  unknownTables: Array<{ schema?: string; table: string }>;
  /** For a COPY with STDIN/STDOUT (not files/programs); the first such COPY of the string. */
  copy?: CopySpec;
  /**
   * Every COPY with STDIN/STDOUT of the string, in order (one per CopyInResponse or
   * CopyOutResponse of a simple query), with its fields' names where they are known (null: not
   * known; an unnamed expression's is undefined). Present with `copy`, its first element's spec.
   */
  copies?: Array<{ spec: CopySpec; fieldNames: Array<string | undefined> | null }>;
  /** PREPARE name AS stmt: the secret params of stmt, for a later EXECUTE name(...). The last PREPARE of the string. */
  prepared?: { name: string; params: Set<number> };
  /** Every PREPARE of the string in order (present with `prepared`, which is its last element). */
  preparedStatements?: Array<{ name: string; params: Set<number> }>;
  /** CREATE TEMP TABLE with its columns listed: its column order, for this session only (no other connection sees it). */
  temporaryTables?: Array<{ table: string; columns: string[] }>;
  /** The string holds DDL that can change some table's columns (CREATE/ALTER/DROP TABLE, RENAME, CREATE TABLE AS, DROP SCHEMA ...), or a SET search_path that changes which table a name means: the caller forgets its cached column orders. */
  changesColumns: boolean;
  /**
   * Per statement of the string (in order, 0-based: the index the recorder counts results by in a
   * simple query, one per CommandComplete, statements without rows included; empty statements
   * between semicolons are not statements), the 0-based positions of its result columns whose
   * values come from a secret column or a secret-returning function, whatever their names. 'all':
   * every column of that statement's result is to be masked (a secret after a `*` of unknown
   * width, or a tree this module could not follow). Missing field, missing entry or empty set:
   * nothing beyond the column names. Present only when some entry is not empty.
   */
  secretOutputs?: Array<ReadonlySet<number> | 'all'>;
}

/** Loads the parser (WASM); findSecretValues() needs it to have resolved, or it falls back to masking every quoted string. */
export function loadSecretValueParser(): Promise<void> {
  return loadModule();
}

/**
 * Control characters that libpg-query's scanner writes unescaped into its JSON, which it then fails
 * to read (and NUL ends its C string). A space is as long in UTF-8 and UTF-16, so every offset
 * stays valid; inside a literal it changes nothing we look at, outside one it is whitespace.
 */
const UNESCAPED_CONTROL = /[\x00-\x08\x0b\x0c\x0e-\x1f]/g;

/** Statement words that can put a literal into a secret place without naming a secret column, or change columns. */
const STATEMENT_WORDS = ['copy', 'merge', 'prepare', 'execute', 'alter', 'create', 'drop', 'rename', 'search_path'];

/**
 * An INSERT writes by position unless it lists its columns; one that lists them, in a text that
 * names no secret column, writes nothing secret. Every INSERT of the text must show its list
 * (`INSERT INTO name [AS alias] (`) for the parser to be skipped.
 */
const INSERT = /\binsert\b/gi;
const NAME = String.raw`(?:"(?:[^"]|"")*"|[A-Za-z_\u0080-\uffff][\w$\u0080-\uffff]*(?![\w$]))`;
const INSERT_WITH_COLUMNS = new RegExp(String.raw`\binsert\s+into\s+${NAME}(?:\s*\.\s*${NAME})?(?:\s+as\s+${NAME})?\s*\(`, 'gi');

function insertsByPosition(sql: string): boolean {
  const inserts = sql.match(INSERT)?.length ?? 0;
  return inserts > 0 && inserts !== (sql.match(INSERT_WITH_COLUMNS)?.length ?? 0);
}

/** The prefilter's pattern per needles array (one per target's masking rules). */
const prefilters = new WeakMap<readonly string[], RegExp>();

/**
 * Cheap text prefilter (no parsing), case-insensitive: false only when no statement in `sql` can put
 * a literal into a secret place or return a secret under another name. It returns true when the
 * text contains any column needle passed in, any secret-taking or secret-returning function name, a
 * secret setting word (password, passwd, secret, key, token), or the words
 * copy/merge/prepare/execute/set_config/alter/create/drop/rename/search_path (the latter for
 * changesColumns), or an INSERT without its column list; or when it may hold a whole-row reference or rename a table's columns
 * (`SELECT u FROM users u`, `to_jsonb(u.*)`, `FROM users u(a, b, c)`), which name no secret column.
 */
export function mayHoldSecretValues(sql: string, needles: readonly string[]): boolean {
  // Each target passes the same needles array every time: its pattern is built once.
  let pattern = prefilters.get(needles);
  if (pattern === undefined) {
    const words = [...needles, ...SECRET_FUNCTION_STEMS, ...SECRET_SETTING_WORDS, ...STATEMENT_WORDS];
    prefilters.set(needles, (pattern = new RegExp(words.map(escapeRegExp).join('|'), 'i')));
  }
  return pattern.test(sql) || insertsByPosition(sql) || mayReferenceWholeRow(sql);
}

/** The analysis. Never throws: on a parse error it falls back to masking every constant when the text names a secret column or function. */
export function findSecretValues(sql: string, ctx: SecretContext): SecretValues {
  const readable = sql.replace(UNESCAPED_CONTROL, ' ');
  let scanned: ScanToken[];
  try {
    scanned = scanSync(readable).tokens;
  } catch {
    return { ...nothingSecret(), literals: quotedRuns(sql) };
  }
  const tokens = new SqlTokens(scanned);
  let parsed: ParseResult;
  try {
    parsed = parseSync(readable);
  } catch {
    return namesSecret(tokens, ctx) ? everyConstant(sql, tokens) : nothingSecret();
  }
  try {
    return analyse(sql, parsed, tokens, ctx);
  } catch {
    // A tree this module does not expect: mask rather than leak, results too.
    return { ...everyConstant(sql, tokens), secretOutputs: (parsed.stmts ?? []).map(() => 'all' as const) };
  }
}

/** Every constant and parameter of `sql` as secret, found without the parser (for statements too long to parse quickly). */
export function everyConstantByHand(sql: string): SecretValues {
  const { literals, params } = constantsByHand(sql);
  return { ...nothingSecret(), literals, params: new Set(params) };
}

/** Replaces each [start,end) of `literals` by SECRET_MARKER; returns the text and how many were replaced. */
export function maskSecretLiterals(sql: string, literals: ReadonlyArray<[number, number]>): { text: string; count: number } {
  if (literals.length === 0) return { text: sql, count: 0 };
  const parts: string[] = [];
  let at = 0;
  for (const [start, end] of literals) {
    parts.push(sql.slice(at, start), SECRET_MARKER);
    at = end;
  }
  parts.push(sql.slice(at));
  return { text: parts.join(''), count: literals.length };
}

function analyse(sql: string, parsed: ParseResult, tokens: SqlTokens, ctx: SecretContext): SecretValues {
  const finder = new SecretPlaceFinder(ctx, tokens);
  const totalBytes = Buffer.byteLength(sql, 'utf8');
  const outputs: Array<ReadonlySet<number> | 'all'> = [];
  for (const raw of parsed.stmts ?? []) {
    const start = raw.stmt_location ?? 0;
    finder.walkStatement(raw.stmt, start, raw.stmt_len ? start + raw.stmt_len : totalBytes);
    outputs.push(finder.secretOutputs(raw.stmt));
  }
  const result: SecretValues = {
    literals: utf16(sql, finder.spans),
    params: finder.params,
    unknownTables: [...finder.unknownTables.values()],
    changesColumns: finder.changesColumns,
  };
  if (finder.copy) {
    result.copy = finder.copy;
    result.copies = finder.copies;
  }
  if (finder.temporaryTables.length > 0) result.temporaryTables = finder.temporaryTables;
  if (outputs.some((o) => o === 'all' || o.size > 0)) result.secretOutputs = outputs;
  if (finder.prepared.length > 0) {
    result.prepared = finder.prepared[finder.prepared.length - 1];
    result.preparedStatements = finder.prepared;
  }
  return result;
}

/** Whether a text the parser refused names a secret column or function, or writes values by position. */
function namesSecret(tokens: SqlTokens, ctx: SecretContext): boolean {
  return tokens.names().some((name) => ctx.isSecretColumn(name) || isSecretFunctionName(name) || POSITIONAL_WRITES.has(name));
}

/** Statements whose values can land in a secret column that the text does not name. */
const POSITIONAL_WRITES = new Set(['insert', 'merge', 'execute']);

function everyConstant(sql: string, tokens: SqlTokens): SecretValues {
  return { ...nothingSecret(), literals: utf16(sql, tokens.allLiterals()), params: new Set(tokens.parameterNumbers()) };
}

function nothingSecret(): SecretValues {
  return { literals: [], params: new Set(), unknownTables: [], changesColumns: false };
}

function utf16(sql: string, spans: ByteSpan[]): Array<[number, number]> {
  return toUtf16Spans(sql, mergeSpans(spans));
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
