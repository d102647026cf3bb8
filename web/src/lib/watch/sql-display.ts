// How a statement's SQL is shown: short SQL as it was sent; long SQL (a one-line 2 KB query an ORM
// wrote, a pasted report) collapsed to its first lines, and once opened laid out by sql-formatter,
// with the text as sent a click away. Formatting only changes whitespace and line breaks; SQL it cannot
// read is shown as sent. The formatter (70 KB) is loaded the first time long SQL is shown.

/** Lays SQL out on lines (sql-formatter's PostgreSQL dialect); may throw on SQL it cannot read. */
export type SqlFormat = (sql: string) => string;

let loaded: SqlFormat | null = null;
let loading: Promise<SqlFormat> | null = null;

/** The formatter, once loaded (null before). */
export function sqlFormatter(): SqlFormat | null {
  return loaded;
}

export function loadSqlFormatter(): Promise<SqlFormat> {
  loading ??= import('sql-formatter').then(({ formatDialect, postgresql }) => {
    // The dialect object (not `language: 'postgresql'`) keeps the other dialects out of the bundle.
    loaded = (sql) => formatDialect(sql, { dialect: postgresql, tabWidth: 2, keywordCase: 'preserve' });
    return loaded;
  });
  return loading;
}

/** Longer than this many lines or characters: formatted, and collapsed at first. */
export const LONG_SQL_LINES = 3;
export const LONG_SQL_CHARS = 300;
/** Beyond this the formatter is not asked (it would take long): shown as sent, collapsed. */
const FORMAT_MAX_CHARS = 50_000;

export interface ShownSql {
  /** What is shown: formatted when long, else as sent. */
  text: string;
  long: boolean;
  formatted: boolean;
}

export function isLongSql(sql: string): boolean {
  return sql.length > LONG_SQL_CHARS || sql.split('\n').length > LONG_SQL_LINES;
}

/** The SQL as shown: laid out by `format` when long (as sent while the formatter is not loaded yet). */
export function shownSql(sql: string, format: SqlFormat | null): ShownSql {
  if (!isLongSql(sql)) return { text: sql, long: false, formatted: false };
  if (!format || sql.length > FORMAT_MAX_CHARS) return { text: sql, long: true, formatted: false };
  try {
    const text = format(sql);
    return { text, long: true, formatted: text !== sql };
  } catch {
    return { text: sql, long: true, formatted: false };
  }
}

/**
 * What a collapsed statement shows: its text on as few lines as it takes, whitespace squeezed,
 * cut at `chars` (the view shows its first lines of it). Squeezed, the first lines say what the
 * statement does (`SELECT c.oid, n.nspname FROM pg_catalog.pg_class c WHERE …`); laid out, they
 * would be `SELECT`, `c.oid,`, `n.nspname,`.
 */
export function previewOf(sql: string, chars = 400): string {
  const squeezed = sql.replace(/\s+/g, ' ').trim();
  return squeezed.length > chars ? `${squeezed.slice(0, chars)}…` : squeezed;
}
