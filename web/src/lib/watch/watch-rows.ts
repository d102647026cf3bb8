// The rows of the live watch list, folded from a session's events a batch at a time:
// - a PostgreSQL statement and all that answers it: one row (statement-entry.ts);
// - a run of catalog queries psql sent for one meta-command (`\d customers`: 13 of them): one
//   row, named after the meta-command, that opens to its statements (catalog-queries.ts);
// - what was typed at a terminal: one row per typed line, as keys (typed-keys.ts), what the
//   terminal answered by itself left out, never an empty row;
// - every other event: a row of its own.
// Terminal output (drawn by the terminal) and an HTTP session's exchange events (shown as
// exchanges) are not rows. Rows are values: a row that changes is replaced by a changed copy, so
// the view ($state.raw) re-renders only that row; a batch costs the same at a session's end as at
// its start (no rescan).
import type { MaskCounts, VigilEvent } from '../../../../common/events/schema.ts';
import { metaCommandOf } from './catalog-queries.ts';
import { answered, mergeMasked, orphanOf, statementOf, type Answer, type StatementEntry } from './statement-entry.ts';
import { KeyReader, type KeyToken } from './typed-keys.ts';
import { SeqFold } from '../playback/seq-fold.ts';

export type WatchRow =
  | { kind: 'statement'; key: string; statement: StatementEntry }
  /** Catalog queries psql sent for one meta-command (`command`, null when it cannot be told). */
  | { kind: 'meta'; key: string; command: string | null; statements: readonly StatementEntry[] }
  | { kind: 'typed'; key: string; seq: number; time: string; channel: number; keys: readonly KeyToken[]; masked: MaskCounts | null }
  /** A line typed where the terminal showed nothing back (a password): only its length is recorded. */
  | { kind: 'hidden'; key: string; seq: number; time: string; count: number }
  | { kind: 'event'; key: string; event: VigilEvent };

/** Catalog queries this close together (ms, from the end of one to the next) are one meta-command's. */
export const META_GAP_MS = 2000;
/** A typed row ends at Enter, or at this many characters (a long session in an editor is many rows). */
export const TYPED_ROW_MAX = 400;

const NOT_ROWS = new Set<VigilEvent['type']>(['term.output', 'http.request', 'http.body', 'http.response', 'http.end', 'ws.message']);

interface Typing {
  reader: KeyReader;
  /** The row the next keys go to (null: the next key starts a row). */
  row: number | null;
  /** Characters on that row so far. */
  size: number;
}

export class WatchRows extends SeqFold<WatchRow> {
  /** A db.query's seq → its row, and its place in a meta-command's row. */
  readonly #where = new Map<number, { row: number; member: number | null }>();
  /** Per terminal channel. */
  readonly #typing = new Map<number, Typing>();

  protected take(e: VigilEvent): boolean {
    if (NOT_ROWS.has(e.type)) return false;
    switch (e.type) {
      case 'db.query':
        this.#statement(e);
        return true;
      case 'term.input':
        return this.#typed(e);
      case 'db.notice':
        // Notices carry no querySeq: they belong to the statement still running, if any.
        if (this.#answerRunning(e)) return true;
        break;
      case 'db.result':
      case 'db.error':
      case 'db.copy':
      case 'guardrail.hit':
      case 'access': {
        const querySeq = e.data.querySeq;
        if (querySeq !== undefined && this.#where.has(querySeq)) {
          this.#answer(querySeq, e);
          return true;
        }
        if (e.type === 'db.result' || e.type === 'db.error') {
          this.#push({ kind: 'statement', key: `s:${e.seq}`, statement: orphanOf(e) });
          return true;
        }
        break;
      }
    }
    this.#push({ kind: 'event', key: `e:${e.seq}`, event: e });
    return true;
  }

  #push(row: WatchRow): number {
    this.items.push(row);
    return this.items.length - 1;
  }

  #statement(e: Extract<VigilEvent, { type: 'db.query' }>): void {
    const entry = statementOf(e);
    const at = this.items.length - 1;
    const last = this.items[at];
    const head = entry.catalog ? metaCommandOf(entry.sql!) : null;
    if (entry.catalog && head === null && last && continuesRun(last, entry)) {
      if (last.kind === 'meta') {
        this.#where.set(entry.seq, { row: at, member: last.statements.length });
        this.items[at] = { ...last, statements: [...last.statements, entry] };
      } else if (last.kind === 'statement') {
        // The statement before was a catalog query too: the two are one meta-command's.
        this.#where.set(last.statement.seq, { row: at, member: 0 });
        this.#where.set(entry.seq, { row: at, member: 1 });
        this.items[at] = { kind: 'meta', key: `m:${last.statement.seq}`, command: metaCommandOf(last.statement.sql!), statements: [last.statement, entry] };
      }
      return;
    }
    if (head !== null) {
      const row = this.#push({ kind: 'meta', key: `m:${entry.seq}`, command: head, statements: [entry] });
      this.#where.set(entry.seq, { row, member: 0 });
      return;
    }
    const row = this.#push({ kind: 'statement', key: `s:${entry.seq}`, statement: entry });
    this.#where.set(entry.seq, { row, member: null });
  }

  #answer(querySeq: number, e: Answer): void {
    const place = this.#where.get(querySeq)!;
    const row = this.items[place.row];
    if (row.kind === 'statement') this.items[place.row] = { ...row, statement: answered(row.statement, e) };
    else if (row.kind === 'meta' && place.member !== null) {
      const statements = row.statements.slice();
      statements[place.member] = answered(statements[place.member], e);
      this.items[place.row] = { ...row, statements };
    }
  }

  /** A notice while the last statement runs is its own; true when it was taken so. */
  #answerRunning(e: Extract<VigilEvent, { type: 'db.notice' }>): boolean {
    const last = this.items[this.items.length - 1];
    const running = last?.kind === 'statement' ? last.statement : last?.kind === 'meta' ? last.statements[last.statements.length - 1] : null;
    if (!running || running.done || running.sql === null) return false;
    this.#answer(running.seq, e);
    return true;
  }

  #typed(e: Extract<VigilEvent, { type: 'term.input' }>): boolean {
    const channel = e.data.channel;
    let typing = this.#typing.get(channel);
    if (!typing) this.#typing.set(channel, (typing = { reader: new KeyReader(), row: null, size: 0 }));
    if (e.data.hidden !== undefined) {
      typing.row = null;
      this.#push({ kind: 'hidden', key: `h:${e.seq}`, seq: e.seq, time: e.time, count: e.data.hidden });
      return true;
    }
    const tokens = typing.reader.read(e.data.text ?? '');
    let rowsOfEvent = 0;
    /** Rows this event's masked counts were added to already (once each). */
    const counted = new Set<number>();
    for (const token of tokens) {
      if (typing.row === null) {
        typing.row = this.#push({ kind: 'typed', key: `t:${e.seq}${rowsOfEvent ? `.${rowsOfEvent}` : ''}`, seq: e.seq, time: e.time, channel, keys: [], masked: null });
        typing.size = 0;
        rowsOfEvent++;
      }
      const row = this.items[typing.row] as Extract<WatchRow, { kind: 'typed' }>;
      const masked = counted.has(typing.row) ? row.masked : mergeMasked(row.masked, e.masked);
      counted.add(typing.row);
      this.items[typing.row] = { ...row, keys: withKey(row.keys, token), masked };
      typing.size += token.kind === 'text' ? token.text.length : 1;
      if ((token.kind === 'key' && token.ends) || typing.size >= TYPED_ROW_MAX) typing.row = null;
    }
    return tokens.length > 0;
  }
}

/** Whether a catalog query goes on the run of catalog queries in the last row. */
function continuesRun(last: WatchRow, next: StatementEntry): boolean {
  const before = last.kind === 'meta' ? last.statements[last.statements.length - 1] : last.kind === 'statement' ? last.statement : null;
  if (!before || !before.catalog || before.sql === null) return false;
  return Date.parse(next.time) - Date.parse(before.lastTime) <= META_GAP_MS;
}

/** The keys with one more (text after text is one run). */
function withKey(keys: readonly KeyToken[], token: KeyToken): KeyToken[] {
  const last = keys[keys.length - 1];
  if (token.kind === 'text' && last?.kind === 'text') return [...keys.slice(0, -1), { kind: 'text', text: last.text + token.text }];
  return [...keys, token];
}
