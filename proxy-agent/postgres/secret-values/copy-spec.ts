// What the data of a COPY ... FROM STDIN / TO STDOUT looks like (format and its characters) and
// which of its fields hold secret columns, read from the COPY statement.
import type { CopyStmt, Node } from 'libpg-query';
import type { Named, TableLookup } from './output-shapes.ts';
import type { CopySpec } from './secret-values.ts';

export interface ColumnLookup extends TableLookup {
  /** The fields of `COPY (query) TO` with their secret flags, by the same provenance as result columns; null when not all are known. */
  queryFields(query: Node): Named[] | null;
}

/** The spec of a COPY whose data passes the wire; undefined for a file or a program. */
export function copySpec(stmt: CopyStmt, lookup: ColumnLookup): CopySpec | undefined {
  if (stmt.filename !== undefined || stmt.is_program) return undefined;
  const fromCatalog = !stmt.query && !stmt.attlist?.length;
  return {
    direction: stmt.is_from ? 'in' : 'out',
    ...copyFormat(stmt.options ?? []),
    secretFields: secretFields(stmt, lookup),
    ...(fromCatalog ? { fromCatalog } : {}),
    ...(stmt.query ? { fromQuery: true } : {}),
  };
}

type CopyFormat = Omit<CopySpec, 'direction' | 'secretFields' | 'fromCatalog' | 'fromQuery'>;

/** The options, in the new `WITH (FORMAT csv, ...)` and the old `CSV HEADER` syntax alike. */
function copyFormat(options: readonly Node[]): CopyFormat {
  let format: CopySpec['format'] = 'text';
  let header = false;
  const chars: { delimiter?: string; quote?: string; escape?: string; null?: string } = {};
  for (const option of options) {
    if (!('DefElem' in option)) continue;
    const { defname, arg } = option.DefElem;
    const value = arg && 'String' in arg ? arg.String.sval : undefined;
    if (defname === 'format' && (value === 'csv' || value === 'binary' || value === 'text')) format = value;
    else if (defname === 'header') header = headerOption(arg);
    else if (defname === 'delimiter' || defname === 'quote' || defname === 'escape' || defname === 'null') chars[defname] = value;
  }
  const quote = chars.quote ?? '"';
  return {
    format,
    delimiter: chars.delimiter ?? (format === 'csv' ? ',' : '\t'),
    quote,
    escape: chars.escape ?? quote,
    header,
    ...(chars.null !== undefined ? { nullString: chars.null } : {}),
  };
}

/** HEADER alone, HEADER true/on/1/match, HEADER 1: the first line is a header. */
function headerOption(arg: Node | undefined): boolean {
  if (!arg) return true;
  if ('Boolean' in arg) return arg.Boolean.boolval === true;
  if ('Integer' in arg) return (arg.Integer.ival ?? 0) > 0;
  if ('String' in arg) return !['false', 'off', '0', 'no', 'f', 'n'].includes(arg.String.sval?.toLowerCase() ?? '');
  return true;
}

function secretFields(stmt: CopyStmt, lookup: ColumnLookup): boolean[] | null {
  if (stmt.query) return lookup.queryFields(stmt.query)?.map((f) => f.secret) ?? null;
  const names = tableFieldNames(stmt, lookup);
  return names ? names.map((n) => lookup.isSecretColumn(n)) : null;
}

/** The names of a COPY's fields in order (an unnamed expression's undefined); null when not known. */
export function copyFieldNames(stmt: CopyStmt, lookup: ColumnLookup): Array<string | undefined> | null {
  if (stmt.query) return lookup.queryFields(stmt.query)?.map((f) => f.name) ?? null;
  const names = tableFieldNames(stmt, lookup);
  return names ? [...names] : null;
}

function tableFieldNames(stmt: CopyStmt, lookup: ColumnLookup): readonly string[] | undefined {
  return stmt.attlist?.length
    ? stmt.attlist.map((a) => ('String' in a ? (a.String.sval ?? '') : ''))
    : stmt.relation && lookup.columnsOf(stmt.relation);
}
