import { describe, expect, it } from 'vitest';
import type { EventOf, VigilEvent } from '../../../common/events/index.ts';
import { MAX_PENDING, StatementPairing, type StatementEntry } from './statement-pairing.ts';
import { EventScript } from './test-support.ts';

function pair(events: VigilEvent[], end = true): StatementEntry[] {
  const pairing = new StatementPairing(events[0]?.sessionId ?? 's');
  const out: StatementEntry[] = [];
  for (const e of events) {
    if (e.type === 'db.query') pairing.query(e as EventOf<'db.query'>, out);
    else if (e.type === 'db.result') pairing.result(e as EventOf<'db.result'>, out);
    else if (e.type === 'db.error') pairing.error(e as EventOf<'db.error'>, out);
  }
  if (end) pairing.end(out);
  return out;
}

describe('statement pairing', () => {
  it('when a query is answered by a result, then the entry has its rows, tag and the server time', () => {
    const s = new EventScript({ protocol: 'postgres' });
    const q = s.query('select * from payments');
    const r = s.result(q.seq, { rows: [['1'], ['2']], durationUs: 2500 });
    expect(pair([q, r])).toEqual([{
      sessionId: s.sessionId, seq: q.seq, time: q.time, endSeq: r.seq, protocol: 'simple', sql: 'select * from payments',
      rowCount: 2, error: null, durationMs: 2.5, tag: 'SELECT 2',
    }]);
  });

  it('when a simple query holds several statements, then one entry sums their rows and lists their tags, complete once the next query is answered', () => {
    const s = new EventScript({ protocol: 'postgres' });
    const q = s.query('begin; update payments set x = 1; commit');
    const events = [q,
      s.result(q.seq, { command: 'BEGIN', durationUs: 100 }),
      s.result(q.seq, { command: 'UPDATE 7', statementIndex: 1, durationUs: 1000 }),
      s.result(q.seq, { command: 'COMMIT', statementIndex: 2, durationUs: 900 })];
    expect(pair(events, false)).toEqual([]);
    const q2 = s.query('select 1');
    const done = pair([...events, q2, s.result(q2.seq, { rows: [['1']] })], false);
    expect(done).toMatchObject([{ seq: q.seq, rowCount: 7, tag: 'BEGIN; UPDATE 7; COMMIT', durationMs: 2, endSeq: q.seq + 3 }]);
  });

  it('when executes are pipelined and one fails, then it has the error and the ones the server skipped have no answer', () => {
    const s = new EventScript({ protocol: 'postgres' });
    const [e1, e2, e3] = [s.query('insert a', 'extended'), s.query('insert b', 'extended'), s.query('insert c', 'extended')];
    const r1 = s.result(e1.seq, { command: 'INSERT 0 1' });
    const err = s.error(e2.seq, 'duplicate key', 1000);
    const e4 = s.query('select 1', 'extended');
    const r4 = s.result(e4.seq, { rows: [['1']] });
    const entries = pair([e1, e2, e3, r1, err, e4, r4], false);
    expect(entries.map((e) => [e.seq, e.tag, e.rowCount, e.error?.code ?? null, e.endSeq])).toEqual([
      [e1.seq, 'INSERT 0 1', 1, null, r1.seq],
      [e2.seq, null, null, '42P01', err.seq],
      [e3.seq, null, null, null, null],
      [e4.seq, 'SELECT 1', 1, null, r4.seq],
    ]);
    // A failed statement's time is from its db.query to its db.error.
    expect(entries[1].durationMs).toBe(Date.parse(err.time) - Date.parse(e2.time));
  });

  it('when an error names no query, then no entry takes it', () => {
    const s = new EventScript({ protocol: 'postgres' });
    const q = s.query('select 1');
    expect(pair([q, s.error(undefined)])).toMatchObject([{ seq: q.seq, error: null, tag: null }]);
  });

  it('when a client pipelines more than the bound ahead of the answers, then the oldest go out unanswered', () => {
    const s = new EventScript({ protocol: 'postgres' });
    const queries = Array.from({ length: MAX_PENDING + 2 }, (_, i) => s.query(`insert ${i}`, 'extended'));
    const entries = pair(queries, false);
    expect(entries.map((e) => e.sql)).toEqual(['insert 0', 'insert 1']);
  });
});
