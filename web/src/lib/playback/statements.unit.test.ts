import { describe, expect, it } from 'vitest';
import { currentStatement, pairStatements } from './statements.ts';
import { end, failure, query, recording, result, start } from './fake-recording.ts';

const pg = recording('postgres', [
  start(0),
  query(1000, 'select 1'), result(1001, 2, 700),
  query(2000, 'select * from nope'), failure(2001, 4),
  query(3000, 'select pg_sleep(1.5)'), result(4500, 6, 1_500_000),
  failure(5000),
  end(6000),
]);

describe('statements of a PostgreSQL recording', () => {
  it('when events are read, then each query carries its result, rows, duration, or its error', () => {
    const list = pairStatements(pg);
    expect(list.map((s) => [s.seq, s.sql, s.rowCount, s.failed, s.slow])).toEqual([
      [2, 'select 1', 1, false, false],
      [4, 'select * from nope', null, true, false],
      [6, 'select pg_sleep(1.5)', 1, false, true],
      [8, null, null, true, false],
    ]);
    expect(list[0].durationMs).toBeCloseTo(0.7);
    expect(list[1].error?.code).toBe('42P01');
    expect(list[2].lastSeq).toBe(7);
  });

  it('when the first events held answer statements read before them, then those answers are left out', () => {
    expect(pairStatements(pg.slice(2)).map((s) => s.seq)).toEqual([4, 6, 8]);
  });

  it('when the playhead is at a seq, then the current statement is the last that began at or before it', () => {
    const list = pairStatements(pg);
    expect(currentStatement(list, 1)).toBe(-1);
    expect(currentStatement(list, 2)).toBe(0);
    expect(currentStatement(list, 5)).toBe(1);
    expect(currentStatement(list, 100)).toBe(3);
  });
});
