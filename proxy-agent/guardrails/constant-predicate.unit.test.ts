import { beforeAll, describe, expect, it } from 'vitest';
import { loadModule, parseSync } from 'libpg-query';
import { alwaysTrue } from './constant-predicate.ts';

beforeAll(async () => {
  await loadModule();
});

const where = (predicate: string) => (parseSync(`DELETE FROM t WHERE ${predicate}`) as { stmts: Array<{ stmt: { DeleteStmt: { whereClause: unknown } } }> }).stmts[0].stmt.DeleteStmt.whereClause;

describe('a WHERE that is always true', () => {
  it('when the predicate folds to true without reading a column, then it is always true', () => {
    for (const p of [
      'true', '1 = 1', "'a' = 'a'", 'NOT false', '2 > 1', '1 <> 2', '1 != 2', '2 >= 2', '1 <= 1', '1 < 2', '1.5 = 1.50', '1 + 1 = 2', '3 * 2 = 6',
      "'t'::bool", "'yes'::boolean", 'true IS TRUE', 'false IS NOT TRUE', 'NULL IS NULL', '1 IS NOT NULL', '1 IN (1, 2)', '3 NOT IN (1, 2)',
      'true AND 1 = 1', 'NOT (1 = 2)', '(true)', "'1' = 1", 'id = 3 OR 1 = 1', 'id = 3 OR (name = \'x\' OR true)', '1 = 1 OR id = 2',
      '1 BETWEEN 0 AND 2', "'abc' LIKE 'a%'", 'true = true', 'NOT NOT true',
    ]) expect(alwaysTrue(where(p)), p).toBe(true);
  });

  it('when the predicate reads a column, calls a function, takes a parameter or is not certainly true, then it is not', () => {
    for (const p of [
      'id = 3', 'false', '1 = 2', 'NOT true', 'NULL', 'NULL = NULL', '1 = NULL', 'true AND id = 3', 'id = id', 'now() > now()', 'random() < 2',
      '1 IN (2, 3)', '(SELECT true)', 'EXISTS (SELECT 1)', '$1', "'x'::text = 'x'::varchar || id", 'id IS NULL', "'abc' LIKE 'b%'",
      'id = 3 OR false', "current_user = 'x'", '1 = 1 AND false',
    ]) expect(alwaysTrue(where(p)), p).toBe(false);
  });
});
