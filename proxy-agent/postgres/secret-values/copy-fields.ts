// Masks the secret fields of COPY data (text and CSV formats) as they pass the wire, field by field,
// following PostgreSQL's own reading of the format: in text, a backslash escapes the next character
// (so `a\tb` and `a\<tab>b` stay one field); in CSV, quotes may hold delimiters, quotes and newlines.
import type { CopySpec } from './secret-values.ts';

/** What a secret field becomes (no quotes: COPY data is not SQL). */
const FIELD_MARKER = '[SECRET_COLUMN]';
const END_OF_DATA = '\\.';

/** A field of a COPY row: [start, end) of its text as the data holds it (quotes and escapes included). */
export interface CopyField {
  start: number;
  end: number;
  isNull: boolean;
}

export interface CopyRow {
  start: number;
  /** End of the row's text, before its line end. */
  end: number;
  fields: CopyField[];
}

/**
 * Masks the secret fields of COPY content (whole rows, text or CSV per spec) with [SECRET_COLUMN],
 * and hands every other field's text to `maskField` when given (its raw text, quotes and escapes
 * included; it returns the field's new raw text, or null to keep it). NULL fields (\N in text, an
 * unquoted empty field in CSV, or the statement's NULL option) stay as they are, and so do a header
 * line (the first line of `content` when spec.header: pass it for the first chunk only) and the
 * `\.` end marker line. A partial last line (no newline) is a row too. Fields past the end of
 * spec.secretFields are masked (the column list was stale), and every field of a row whose count
 * differs from the catalog's column order (spec.fromCatalog). `count`: the secret fields masked.
 * Binary format, or nothing masked: the content itself.
 */
export function maskCopyFields(content: string, spec: CopySpec, maskField?: (raw: string) => string | null): { text: string; count: number } {
  if (spec.format === 'binary' || content.length === 0) return { text: content, count: 0 };
  const rows = copyRows(content, spec);
  const parts: string[] = [];
  let copied = 0;
  let count = 0;
  rows.forEach((row, r) => {
    if ((r === 0 && spec.header) || content.slice(row.start, row.end) === END_OF_DATA) return;
    // Fields placed by the catalog's column order are trusted only when their count agrees with it.
    const misplaced = spec.fromCatalog === true && spec.secretFields !== null && row.fields.length !== spec.secretFields.length;
    row.fields.forEach((field, i) => {
      if (field.isNull) return;
      const secret = misplaced || isSecretField(spec.secretFields, i);
      const masked = secret ? FIELD_MARKER : maskField?.(content.slice(field.start, field.end));
      if (masked === null || masked === undefined) return;
      parts.push(content.slice(copied, field.start), masked);
      copied = field.end;
      if (secret) count++;
    });
  });
  if (parts.length === 0) return { text: content, count: 0 };
  parts.push(content.slice(copied));
  return { text: parts.join(''), count };
}

function isSecretField(secretFields: boolean[] | null, i: number): boolean {
  return secretFields === null || i >= secretFields.length || secretFields[i];
}

/** The rows of COPY content in text or CSV format, with their fields' places (a partial last line is a row too). */
export function copyRows(content: string, spec: CopySpec): CopyRow[] {
  return spec.format === 'csv' ? csvRows(content, spec) : textRows(content, spec);
}

/** Text format: fields split at the delimiter, rows at \n, \r\n or \r, a backslash escapes one character. */
function textRows(content: string, spec: CopySpec): CopyRow[] {
  const nullString = spec.nullString ?? '\\N';
  const special = charClass([spec.delimiter, '\\', '\r', '\n']);
  const reader = new RowReader(content);
  for (let m = special.exec(content); m !== null; m = special.exec(content)) {
    const at = m.index;
    const c = content[at];
    if (c === '\\') special.lastIndex = at + 2;
    else if (c === spec.delimiter) reader.endField(at, content.slice(reader.fieldStart, at) === nullString);
    else special.lastIndex = reader.endRow(at, content.slice(reader.fieldStart, at) === nullString);
  }
  return reader.finish(content.slice(reader.fieldStart) === nullString);
}

/**
 * CSV format: a quote may open anywhere in a field and holds delimiters and line ends; inside quotes
 * the escape character (by default the quote itself, doubled) escapes a quote or itself. NULL is an
 * unquoted field equal to the NULL string (by default empty).
 */
function csvRows(content: string, spec: CopySpec): CopyRow[] {
  const { delimiter, quote, escape } = spec;
  const nullString = spec.nullString ?? '';
  const special = charClass([delimiter, quote, escape, '\r', '\n']);
  const reader = new RowReader(content);
  let inQuote = false;
  let quoted = false;
  const isNull = (end: number) => !quoted && content.slice(reader.fieldStart, end) === nullString;
  for (let m = special.exec(content); m !== null; m = special.exec(content)) {
    const at = m.index;
    const c = content[at];
    const next = content[at + 1];
    if (inQuote) {
      if (c === escape && (next === quote || (next === escape && escape !== quote))) special.lastIndex = at + 2;
      else if (c === quote) inQuote = false;
    } else if (c === quote) {
      inQuote = quoted = true;
    } else if (c === delimiter) {
      reader.endField(at, isNull(at));
      quoted = false;
    } else if (c === '\r' || c === '\n') {
      special.lastIndex = reader.endRow(at, isNull(at));
      quoted = false;
    }
  }
  return reader.finish(isNull(content.length));
}

/** Collects field and row boundaries as a format's scanner finds them. */
class RowReader {
  readonly rows: CopyRow[] = [];
  fieldStart = 0;
  private rowStart = 0;
  private fields: CopyField[] = [];

  constructor(private readonly content: string) {}

  endField(at: number, isNull: boolean): void {
    this.fields.push({ start: this.fieldStart, end: at, isNull });
    this.fieldStart = at + 1;
  }

  /** Ends the row at the line end found at `at`; returns where the next row starts. */
  endRow(at: number, isNull: boolean): number {
    this.fields.push({ start: this.fieldStart, end: at, isNull });
    this.rows.push({ start: this.rowStart, end: at, fields: this.fields });
    const next = this.content[at] === '\r' && this.content[at + 1] === '\n' ? at + 2 : at + 1;
    this.fields = [];
    this.rowStart = this.fieldStart = next;
    return next;
  }

  /** The rows, with a last line that has no line end. */
  finish(lastFieldIsNull: boolean): CopyRow[] {
    if (this.rowStart < this.content.length) {
      this.fields.push({ start: this.fieldStart, end: this.content.length, isNull: lastFieldIsNull });
      this.rows.push({ start: this.rowStart, end: this.content.length, fields: this.fields });
    }
    return this.rows;
  }
}

/** Patterns by their characters: a COPY is read row by row as its data streams (client masking). */
const charClasses = new Map<string, RegExp>();

/** A global regex matching any one of `chars`, from its start (one per set of characters, reused). */
function charClass(chars: readonly string[]): RegExp {
  const key = chars.join('');
  let pattern = charClasses.get(key);
  if (pattern === undefined) {
    const unique = [...new Set(chars)];
    pattern = new RegExp(`[${unique.map((c) => c.replace(/[\\\]^-]/g, '\\$&')).join('')}]`, 'g');
    // A statement's characters are few and fixed; odd ones must not grow the map without end.
    if (charClasses.size < 64) charClasses.set(key, pattern);
  }
  pattern.lastIndex = 0;
  return pattern;
}
