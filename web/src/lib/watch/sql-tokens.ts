// A small PostgreSQL tokenizer, enough to tell what a statement reads (catalog-queries.ts), not to
// run or rewrite it: words (lower-cased), dotted names joined into one token, quoted identifiers,
// strings and comments skipped as units, punctuation. Anything it cannot read to the end (an
// unterminated string or comment) is null: the caller then treats the statement as an ordinary one.

export type SqlToken =
  /** A name: one part (`pg_class`, `select`) or several (`pg_catalog.pg_class`), lower-cased unless quoted. */
  | { t: 'name'; parts: string[]; quoted: boolean }
  | { t: 'string' }
  | { t: 'number' }
  | { t: 'punct'; v: '(' | ')' | ',' | ';' | '[' | ']' | '::' }
  | { t: 'op'; v: string };

const WORD_START = /[A-Za-z_\u0080-\uffff]/;
const WORD = /[A-Za-z0-9_$\u0080-\uffff]/;
const OPERATOR_CHARS = '+-*/<>=~!@#%^&|`?';

/** The tokens of `sql`, or null when it holds an unterminated string, identifier or comment. */
export function tokenize(sql: string): SqlToken[] | null {
  const raw: Array<SqlToken | { t: 'dot' }> = [];
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql[i];
    if (/\s/.test(c)) {
      i++;
    } else if (c === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i);
      i = end < 0 ? n : end + 1;
    } else if (c === '/' && sql[i + 1] === '*') {
      // Block comments nest in PostgreSQL.
      let depth = 1;
      i += 2;
      while (i < n && depth > 0) {
        if (sql[i] === '/' && sql[i + 1] === '*') (depth++, (i += 2));
        else if (sql[i] === '*' && sql[i + 1] === '/') (depth--, (i += 2));
        else i++;
      }
      if (depth > 0) return null;
    } else if (c === "'") {
      const end = quotedEnd(sql, i, "'", false);
      if (end < 0) return null;
      raw.push({ t: 'string' });
      i = end;
    } else if (c === '"') {
      const end = quotedEnd(sql, i, '"', false);
      if (end < 0) return null;
      raw.push({ t: 'name', parts: [sql.slice(i + 1, end - 1).replace(/""/g, '"')], quoted: true });
      i = end;
    } else if (c === '$' && /[A-Za-z_$]/.test(sql[i + 1] ?? '')) {
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i));
      if (!tag) return null;
      const close = sql.indexOf(tag[0], i + tag[0].length);
      if (close < 0) return null;
      raw.push({ t: 'string' });
      i = close + tag[0].length;
    } else if (c === '$' || /[0-9]/.test(c) || (c === '.' && /[0-9]/.test(sql[i + 1] ?? ''))) {
      // $1 (a parameter) or a number.
      i++;
      while (i < n && /[0-9.eE_]/.test(sql[i])) i++;
      raw.push({ t: 'number' });
    } else if (WORD_START.test(c)) {
      let j = i + 1;
      while (j < n && WORD.test(sql[j])) j++;
      const word = sql.slice(i, j);
      // E'...' (backslash escapes), and B'', X'', N'' prefixes: one string.
      if (sql[j] === "'" && /^[eEbBxXnN]$/.test(word)) {
        const end = quotedEnd(sql, j, "'", /^[eE]$/.test(word));
        if (end < 0) return null;
        raw.push({ t: 'string' });
        i = end;
        continue;
      }
      raw.push({ t: 'name', parts: [word.toLowerCase()], quoted: false });
      i = j;
    } else if (c === ':' && sql[i + 1] === ':') {
      raw.push({ t: 'punct', v: '::' });
      i += 2;
    } else if (c === '.') {
      raw.push({ t: 'dot' });
      i++;
    } else if ('(),;[]'.includes(c)) {
      raw.push({ t: 'punct', v: c as '(' });
      i++;
    } else if (OPERATOR_CHARS.includes(c) || c === ':') {
      let j = i + 1;
      while (j < n && OPERATOR_CHARS.includes(sql[j])) j++;
      raw.push({ t: 'op', v: sql.slice(i, j) });
      i = j;
    } else {
      raw.push({ t: 'op', v: c });
      i++;
    }
  }
  return joinNames(raw);
}

/** Where a quoted run that opens at `start` ends (the index after its closing quote), -1 if never. */
function quotedEnd(sql: string, start: number, quote: string, backslashes: boolean): number {
  let i = start + 1;
  while (i < sql.length) {
    const c = sql[i];
    if (backslashes && c === '\\') i += 2;
    else if (c === quote && sql[i + 1] === quote) i += 2;
    else if (c === quote) return i + 1;
    else i++;
  }
  return -1;
}

/** `a . b . c` becomes one name token [a, b, c]; a dot elsewhere (`t.*`) stays an operator. */
function joinNames(raw: Array<SqlToken | { t: 'dot' }>): SqlToken[] {
  const out: SqlToken[] = [];
  for (let k = 0; k < raw.length; k++) {
    const tok = raw[k];
    if (tok.t !== 'dot') {
      out.push(tok);
      continue;
    }
    const prev = out[out.length - 1];
    const next = raw[k + 1];
    if (prev?.t === 'name' && next?.t === 'name') {
      out[out.length - 1] = { t: 'name', parts: [...prev.parts, ...next.parts], quoted: prev.quoted || next.quoted };
      k++;
    } else out.push({ t: 'op', v: '.' });
  }
  return out;
}

/** A one-part, unquoted name: a keyword or a plain identifier. */
export function wordOf(tok: SqlToken | undefined): string | null {
  return tok?.t === 'name' && !tok.quoted && tok.parts.length === 1 ? tok.parts[0] : null;
}
