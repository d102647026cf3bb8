// Whole-row references (`SELECT u FROM users u`, `to_jsonb(u.*)`) and column lists that rename a
// FROM item's columns (`FROM users u(a, b, c)`) return a secret column's values under a name that
// is not secret, without the text naming the column, so the needles of the prefilter miss them.
// The prefilter cannot parse: it looks for their marks in the text. It errs towards true, since a
// false true costs one parse and a false false a leak.

/** Words that can follow a FROM item where an alias could stand; never taken for one. */
const KEYWORDS = (
  'where join inner left right full outer cross natural on using group order limit offset fetch for union except intersect ' +
  'having window returning set values select default as lateral tablesample with and or not then else end when into from ' +
  'table only do is in over filter within between like ilike similar by all distinct case asc desc nulls collate'
).replace(/ /g, '|');

const IDENT = String.raw`(?:"(?:[^"]|"")+"|[A-Za-z_\u0080-\uffff][\w$\u0080-\uffff]*)`;
const RELATION = String.raw`(${IDENT}(?:\s*\.\s*${IDENT})*)`;
/** Not a keyword; the first test fails fast on punctuation. */
const NOT_KEYWORD = String.raw`(?=[\w"\u0080-\uffff])(?!(?:${KEYWORDS})\b)`;
/** An optional alias, then whether a column list follows it. */
const ALIAS = String.raw`(?:\s+(?:as\s+)?${NOT_KEYWORD}(${IDENT}))?(\s*\()?`;
// All patterns read the lower-cased text: case-sensitive matching is the faster.
const FROM_ITEM = new RegExp(String.raw`\b(?:from|join|update|using|into)\s+(?:only\s+)?(?:lateral\s+)?${RELATION}${ALIAS}`, 'g');
/** The next item of a FROM list, read from where the previous one ended. */
const NEXT_ITEM = new RegExp(String.raw`\s*,\s*(?:only\s+)?(?:lateral\s+)?${RELATION}${ALIAS}`, 'y');
/** A subquery's or function's alias (`) s`, `) AS s(a, b)`). */
const SUBQUERY_ALIAS = new RegExp(String.raw`\)\s*(?:as\s+)?${NOT_KEYWORD}(${IDENT})(\s*\()?`, 'g');
/** `WITH x(a, b) AS (...)`: a CTE's column list. */
const CTE_COLUMNS = /\)\s*as\s+(?:not\s+)?(?:materialized\s+)?\(/;

/** Whether `sql` may hold a whole-row reference or a FROM item's column list. */
export function mayReferenceWholeRow(text: string): boolean {
  if (starArgument(text)) return true;
  const sql = text.toLowerCase();
  if (CTE_COLUMNS.test(sql)) return true;
  const names = new Set<string>();
  /** Adds a FROM item's names; true when its alias comes with a column list. */
  const add = (relation: string | undefined, alias: string | undefined, columnList: string | undefined): boolean => {
    if (relation) names.add(bare(relation.split('.').at(-1) ?? ''));
    if (!alias) return false;
    names.add(bare(alias));
    return columnList !== undefined;
  };
  // exec loops, not matchAll: it copies the pattern on every call, which costs more than the match.
  FROM_ITEM.lastIndex = 0;
  for (let m = FROM_ITEM.exec(sql); m; m = FROM_ITEM.exec(sql)) {
    if (add(m[1], m[2], m[3])) return true;
    NEXT_ITEM.lastIndex = FROM_ITEM.lastIndex;
    for (let next = NEXT_ITEM.exec(sql); next; next = NEXT_ITEM.exec(sql)) {
      if (add(next[1], next[2], next[3])) return true;
      FROM_ITEM.lastIndex = NEXT_ITEM.lastIndex;
    }
  }
  SUBQUERY_ALIAS.lastIndex = 0;
  for (let m = SUBQUERY_ALIAS.exec(sql); m; m = SUBQUERY_ALIAS.exec(sql)) if (add(undefined, m[1], m[2])) return true;
  return usedAgain(sql, names);
}

/**
 * `f(u.*)`, `ROW(1, u.*)`: a whole row passed on. After a comma it may also be a plain select list
 * item (a false true). Read backwards from each `*`, which is rarer than the commas and brackets.
 */
function starArgument(sql: string): boolean {
  for (let star = sql.indexOf('*'); star >= 0; star = sql.indexOf('*', star + 1)) {
    let i = spacesBefore(sql, star - 1);
    if (sql[i] !== '.') continue;
    // Back over the qualified name (`s.t.`), name by name.
    while (sql[i] === '.') {
      i = spacesBefore(sql, i - 1);
      if (sql[i] === '"') i = sql.lastIndexOf('"', i - 1) - 1;
      else while (i >= 0 && /[\w$\u0080-\uffff]/.test(sql[i])) i--;
      i = spacesBefore(sql, i);
    }
    if (sql[i] === '(' || sql[i] === ',') return true;
  }
  return false;
}

/** The index of the last character at or before `i` that is not whitespace (-1 if none). */
function spacesBefore(sql: string, i: number): number {
  while (i >= 0 && /\s/.test(sql[i])) i--;
  return i;
}

/** A name without its outer quotes (an inner "" stays, as the text writes it). */
function bare(name: string): string {
  const trimmed = name.trim();
  return trimmed.startsWith('"') ? trimmed.slice(1, -1) : trimmed;
}

/**
 * Whether one of `names` stands alone in the text twice: once as the FROM item, once more as a value.
 * Standing alone: not part of a longer name, not qualifying a column (`u.id`). One pass for all.
 */
function usedAgain(sql: string, names: ReadonlySet<string>): boolean {
  // Most names occur once even as a substring: no pattern needed for them.
  const twice = [...names].filter((name) => name && sql.indexOf(name, sql.indexOf(name) + 1) >= 0);
  const alternatives = twice.map((name) => name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  if (alternatives.length === 0) return false;
  const pattern = new RegExp(String.raw`(?<![\w$\u0080-\uffff])(?:${alternatives.join('|')})(?![\w$\u0080-\uffff])(?!"?\s*\.)`, 'g');
  const seen = new Set<string>();
  for (let m = pattern.exec(sql); m; m = pattern.exec(sql)) {
    if (seen.has(m[0])) return true;
    seen.add(m[0]);
  }
  return false;
}
