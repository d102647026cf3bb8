// The columns a query yields, as far as secret provenance goes, and the FROM items and query levels
// that expressions resolve names in (secret-outputs.ts walks the tree with them).
import type { Node, RangeVar } from 'libpg-query';
import { stringOf } from './parse-nodes.ts';

/** What the context says about tables. */
export interface TableLookup {
  isSecretColumn(name: string): boolean;
  /** The table's columns in order; undefined when not known (the lookup reports the table). */
  columnsOf(relation: RangeVar): readonly string[] | undefined;
}

/** A result column: its name and whether its values can hold a secret. */
export interface Named {
  name: string | undefined;
  secret: boolean;
}

/**
 * Columns of unknown number: a `*` over columns not known here. secret: some of them certainly
 * hold a secret. hidden: some may be secret by a name not known here (a table's), which their own
 * column names still show, unless a whole-row reference folds them into one value. expand: the
 * columns, asked of the context only when needed (asking reports a table it does not know).
 */
export interface Run {
  run: true;
  secret: boolean;
  hidden: boolean;
  expand?: () => Column[];
}

export type Column = Named | Run;

/** A FROM item as the expressions of its query see it. */
export interface Item {
  /** The name that qualifies its columns: the alias, else the table's or function's name. */
  refname: string | undefined;
  /** Set for a table without alias, which `schema.table` names as a whole row. */
  schemaname?: string;
  /** Whether a bare `*` expands it (RETURNING's old and new are only named). */
  visible: boolean;
  columns(): Column[];
  /** The columns a `*` gives, when cheaper than columns() (a table's: a Run with expand). */
  star?(): Column[];
  /** Where a column comes from, when known here; undefined: its name decides. */
  column(name: string): Named | undefined;
  /** A join's own items, which still qualify their columns. */
  inner?: Item[];
}

/** One query level: its FROM items and CTEs; parent is the enclosing query (correlation). */
export class Scope {
  readonly items: Item[] = [];
  readonly ctes = new Map<string, Column[]>();

  constructor(
    readonly parent: Scope | undefined,
    /** $n parameters bound to secret values: echoing one returns the secret. */
    readonly params: ReadonlySet<number>,
  ) {}

  child(): Scope {
    return new Scope(this, this.params);
  }

  cte(name: string): Column[] | undefined {
    for (let scope: Scope | undefined = this; scope; scope = scope.parent) {
      const columns = scope.ctes.get(name);
      if (columns) return columns;
    }
    return undefined;
  }

  /** The items of this level with joins opened. */
  leaves(): Item[] {
    const all: Item[] = [];
    const add = (item: Item) => {
      all.push(item);
      item.inner?.forEach(add);
    };
    this.items.forEach(add);
    return all;
  }

  find(test: (item: Item) => boolean): Item | undefined {
    for (let scope: Scope | undefined = this; scope; scope = scope.parent) {
      const item = scope.leaves().find(test);
      if (item) return item;
    }
    return undefined;
  }
}

export const isRun = (column: Column): column is Run => 'run' in column;
export const UNKNOWN_TABLE: Run = { run: true, secret: false, hidden: true };

/** Positions of the secret columns; past a Run of unknown width they are not known: 'all' if a secret follows. */
export function positions(columns: readonly Column[]): ReadonlySet<number> | 'all' {
  const found = new Set<number>();
  const queue = [...columns];
  for (let at = 0, i = 0; i < queue.length; i++) {
    const column = queue[i];
    if (!isRun(column)) {
      if (column.secret) found.add(at);
      at++;
    } else if (column.secret || queue.slice(i + 1).some((c) => c.secret)) {
      if (!column.expand) return 'all';
      queue.splice(i + 1, 0, ...column.expand());
    } else {
      return found; // nothing secret follows, and the run's own columns keep names that show theirs
    }
  }
  return found;
}

/** Whether a column, folded into one value with others, brings a secret into it. */
export function holdsSecret(column: Column): boolean {
  if (!isRun(column)) return column.secret;
  return column.secret || (column.expand ? column.expand().some(holdsSecret) : column.hidden);
}

/** Runs replaced by their columns where the context knows them. */
export function expandAll(columns: readonly Column[]): Column[] {
  return columns.flatMap((c) => (isRun(c) && c.expand ? expandAll(c.expand()) : [c]));
}

/** A set operation: a column is secret when it is in either arm; names come from the left. */
export function combine(left: Column[], right: Column[]): Column[] {
  const l = expandAll(left);
  const r = expandAll(right);
  if (l.some(isRun) || r.some(isRun) || l.length !== r.length) {
    const all = [...l, ...r];
    return [{ run: true, secret: all.some((c) => c.secret), hidden: all.some((c) => isRun(c) && c.hidden) }];
  }
  return (l as Named[]).map((c, i) => ({ name: c.name, secret: c.secret || r[i].secret }));
}

export function starOf(item: Item): Column[] {
  return item.star ? item.star() : item.columns();
}

export function derivedItem(refname: string | undefined, columns: Column[]): Item {
  return { refname, visible: true, columns: () => columns, column: (name) => namedIn(columns, name) };
}

export function namedIn(columns: readonly Column[], name: string): Named | undefined {
  return columns.find((c): c is Named => !isRun(c) && c.name === name);
}

/** An alias column list renames the first columns (up to a Run, past which places are unknown). */
export function renamed(columns: Column[], newNames: readonly string[]): Column[] {
  if (newNames.length === 0) return columns;
  const expanded = expandAll(columns);
  const firstRun = expanded.findIndex(isRun);
  return expanded.map((c, i) => (i < newNames.length && !isRun(c) && (firstRun < 0 || i < firstRun) ? { ...c, name: newNames[i] } : c));
}

export function names(list: Node[] | undefined): string[] {
  return (list ?? []).map((n) => stringOf(n) ?? '');
}

/** The column name PostgreSQL gives an unnamed target, for the cases a name can make secret. */
export function outputName(node: Node | undefined): string | undefined {
  if (!node) return undefined;
  if ('ColumnRef' in node) return stringOf(node.ColumnRef.fields?.at(-1));
  if ('FuncCall' in node) return stringOf(node.FuncCall.funcname?.at(-1));
  if ('TypeCast' in node) return outputName(node.TypeCast.arg);
  if ('A_Indirection' in node) return stringOf(node.A_Indirection.indirection?.at(-1)) ?? outputName(node.A_Indirection.arg);
  return undefined;
}
