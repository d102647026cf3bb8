import { describe, expect, it } from 'vitest';
import type { VigilEvent } from '../../../../common/events/schema.ts';
import { end, failure, guardrail, out, query, recording, request, result, shell, start } from '../playback/fake-recording.ts';
import { PSQL15_META_COMMANDS } from './fixtures/psql15-meta-commands.ts';
import { metaCommandLabel } from './catalog-queries.ts';
import { shownKeys } from './typed-keys.ts';
import { WatchRows, type WatchRow } from './watch-rows.ts';

type Draft = Parameters<typeof recording>[1][number];
const notice = (atMs: number, message: string): Draft => ({ type: 'db.notice', atMs, data: { severity: 'NOTICE', code: '00000', message } });
const typed = (atMs: number, text: string, channel = 0): Draft => ({ type: 'term.input', atMs, data: { channel, text } });
const hidden = (atMs: number, count: number): Draft => ({ type: 'term.input', atMs, data: { channel: 0, hidden: count } });
const held = (atMs: number, querySeq: number): Draft => ({ type: 'access', atMs, data: { action: 'held', requestId: 4, querySeq } });

/** A meta-command as psql runs it: each catalog query answered a millisecond later, the next right after. */
function metaCommand(atMs: number, command: string, firstSeq: number): Draft[] {
  return PSQL15_META_COMMANDS[command].flatMap((sql, i) => [query(atMs + 2 * i, sql), result(atMs + 2 * i + 1, firstSeq + 2 * i)]);
}

/** Rows in a line each: what a reader sees at a glance. */
function describeRows(rows: WatchRow[]): string[] {
  return rows.map((r) => {
    switch (r.kind) {
      case 'statement':
        return `statement ${r.statement.sql ?? '(none)'}: ${r.statement.results.length} result(s)${r.statement.error ? `, ${r.statement.error.code}` : ''}${r.statement.notices.length ? `, ${r.statement.notices.length} notice(s)` : ''}${r.statement.guardrails.length ? `, guardrail ${r.statement.guardrails[0].rule}` : ''}${r.statement.access.length ? `, ${r.statement.access[0].action}` : ''}`;
      case 'meta':
        return `${metaCommandLabel(r.command, r.statements.length)} (${r.statements.filter((s) => s.results.length).length} answered)`;
      case 'typed':
        return `typed ${shownKeys(r.keys).map((k) => (k.kind === 'text' ? k.text : k.label)).join(' ')}`;
      case 'hidden':
        return `hidden ${r.count}`;
      case 'event':
        return r.event.type;
    }
  });
}

describe('the rows of the watch view', () => {
  it('when a statement is answered, then its query, result, error, notices and guardrail are one row', () => {
    const events = recording('postgres', [
      start(0),
      query(1000, 'select 1'), result(1001, 2),
      query(2000, 'select * from nope'), failure(2001, 4),
      query(3000, 'do $$ begin raise notice $n$hi$n$; end $$'), notice(3001, 'hi'), result(3002, 6),
      query(4000, 'delete from customers'), guardrail(4001, 9, 'no-unbounded-deletes'),
      query(5000, 'drop table t'), held(5001, 11),
      failure(6000),
      notice(6500, 'late'),
      end(7000),
    ]);
    const rows = new WatchRows();
    expect(rows.add(events)).toBe(true);
    expect(describeRows(rows.list())).toEqual([
      'session.start',
      'statement select 1: 1 result(s)',
      'statement select * from nope: 0 result(s), 42P01',
      'statement do $$ begin raise notice $n$hi$n$; end $$: 1 result(s), 1 notice(s)',
      'statement delete from customers: 0 result(s), guardrail no-unbounded-deletes',
      'statement drop table t: 0 result(s), held',
      'statement (none): 0 result(s), 42P01',
      'db.notice',
      'session.end',
    ]);
  });

  it('when psql runs \\d customers, then its 13 catalog queries are one row named after it, with each answer in place', () => {
    const events = recording('postgres', [start(0), query(500, 'select 1'), result(501, 2), ...metaCommand(1000, '\\d customers', 4), query(9000, 'select 2'), result(9001, 30)]);
    const rows = new WatchRows();
    rows.add(events);
    expect(describeRows(rows.list())).toEqual([
      'session.start',
      'statement select 1: 1 result(s)',
      'psql \\d customers — 13 catalog queries (13 answered)',
      'statement select 2: 1 result(s)',
    ]);
    const meta = rows.list()[2] as Extract<WatchRow, { kind: 'meta' }>;
    expect(meta.statements.map((s) => s.seq)).toEqual(Array.from({ length: 13 }, (_, i) => 4 + 2 * i));
  });

  it('when meta-commands follow each other, then each is its own row; a later one far apart stays apart', () => {
    const events = recording('postgres', [
      start(0),
      ...metaCommand(1000, '\\dt', 2), // seqs 2-3
      ...metaCommand(1010, '\\d public.orders', 4), // 4-29
      ...metaCommand(1100, '\\sf touch', 30), // 30-33
      ...metaCommand(1200, '\\l', 34),
    ]);
    const rows = new WatchRows();
    rows.add(events);
    expect(describeRows(rows.list())).toEqual([
      'session.start',
      'psql \\dt — 1 catalog query (1 answered)',
      'psql \\d public.orders — 13 catalog queries (13 answered)',
      'psql \\sf touch — 2 catalog queries (2 answered)',
      'psql \\l — 1 catalog query (1 answered)',
    ]);
  });

  it('when catalog queries come that name no meta-command, then two close together are one unnamed group, a lone one stays a statement', () => {
    const later = PSQL15_META_COMMANDS['\\d customers'].slice(1, 3);
    const events = recording('postgres', [
      start(0),
      query(1000, 'select c.relname from pg_catalog.pg_class c'), result(1001, 2),
      query(9000, later[0]), result(9001, 4),
      query(9002, later[1]), result(9003, 6),
      query(20_000, 'select c.relname from pg_catalog.pg_class c'), result(20_001, 8),
    ]);
    const rows = new WatchRows();
    rows.add(events);
    expect(describeRows(rows.list())).toEqual([
      'session.start',
      'statement select c.relname from pg_catalog.pg_class c: 1 result(s)',
      'psql meta-command — 2 catalog queries (2 answered)',
      'statement select c.relname from pg_catalog.pg_class c: 1 result(s)',
    ]);
  });

  it('when events come a batch at a time, then rows are the same as in one go, and only changed rows are new objects', () => {
    const events = recording('postgres', [start(0), query(1000, 'select 1'), result(1001, 2), ...metaCommand(2000, '\\d customers', 4)]);
    const whole = new WatchRows();
    whole.add(events);
    const batched = new WatchRows();
    let before: WatchRow[] = [];
    for (let i = 0; i < events.length; i += 3) {
      before = batched.list();
      batched.add(events.slice(i, i + 3));
    }
    expect(batched.list()).toEqual(whole.list());
    // The last batch changed the meta-command's row only.
    expect(batched.list()[1]).toBe(before[1]);
    expect(batched.list()[2]).not.toBe(before[2]);
    expect(batched.add(events)).toBe(false);
  });

  it('when a shell is typed at, then each typed line is one row of keys ending at Enter, the terminal\'s answers and the output left out', () => {
    const events = recording('ssh', [
      start(0), shell(10),
      out(20, '$ '),
      typed(100, '\x1b[12;5R'), // the terminal answering: no row
      typed(200, 'ls'), typed(300, ' -la'), typed(400, '\r'),
      out(450, 'total 0\r\n$ '),
      typed(500, '\x1b[A\r'),
      typed(600, ' '),
      typed(700, 'q'),
      hidden(800, 9),
      typed(900, 'echo a\recho b\r'),
    ]);
    const rows = new WatchRows();
    rows.add(events);
    expect(describeRows(rows.list())).toEqual([
      'session.start', 'ssh.shell',
      'typed ls -la ⏎',
      'typed ↑ ⏎',
      'typed  q',
      'hidden 9',
      'typed echo a ⏎',
      'typed echo b ⏎',
    ]);
    const keys = rows.list().filter((r) => r.kind === 'typed').map((r) => r.key);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('when a typed line held masked values, then its row counts them once', () => {
    const events = recording('ssh', [start(0), shell(1), typed(100, 'export T=[TOKEN]\r')]);
    (events[2] as { masked?: Record<string, number> }).masked = { TOKEN: 1 };
    const rows = new WatchRows();
    rows.add(events);
    expect(rows.list()[2]).toMatchObject({ kind: 'typed', masked: { TOKEN: 1 } });
  });

  it('when only the space key is pressed, then the row is ␣, never an empty row', () => {
    const rows = new WatchRows();
    rows.add(recording('ssh', [start(0), shell(1), typed(100, ' ')]));
    expect(describeRows(rows.list())).toEqual(['session.start', 'ssh.shell', 'typed ␣']);
  });

  it('when an HTTP session runs, then its exchange events are no rows', () => {
    const rows = new WatchRows();
    rows.add(recording('http', [start(0), request(100, 'GET', '/'), end(200)]) as VigilEvent[]);
    expect(describeRows(rows.list())).toEqual(['session.start', 'session.end']);
  });
});
