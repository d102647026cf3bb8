import { beforeAll, describe, expect, it } from 'vitest';
import { Guardrail } from '../../common/guardrails.ts';
import { GuardrailPolicy } from './guardrail-policy.ts';
import { loadClassifier } from './statement-classifier.ts';
import { StatementPrefilter } from './statement-prefilter.ts';

beforeAll(async () => {
  await loadClassifier();
});

const RULES = [
  { name: 'no-wide-writes', statements: ['DELETE_WITHOUT_WHERE', 'UPDATE_WITHOUT_WHERE'], action: 'deny' },
  { name: 'drops-held', statements: ['DROP', 'TRUNCATE'], action: 'approve' },
  { name: 'small-inserts', statements: ['INSERT'], maxRows: 10, action: 'deny' },
].map((g) => Guardrail.parse(g));

// Statements whose words a careless filter could misread.
const CORPUS = [
  'select 1', 'SELECT abalance FROM pgbench_accounts WHERE aid = $1', 'begin', 'commit',
  'DELETE FROM t', 'dElEtE/* x */FROM t', 'delete\tfrom t', 'select 1;delete from t', 'select 1;\ndelete from t',
  'éDELETE FROM t', 'select x$delete from t', 'select "delete" from t', "select 'delete from t'",
  'DO $$ BEGIN DELETE FROM t; END $$', "DO E'BEGIN \\x44ELETE FROM t; END'", 'do$$begin delete from t; end$$',
  "CREATE FUNCTION f() RETURNS void LANGUAGE sql AS E'\\x64elete from t'", 'select f()',
  "select dblink_exec('c', 'delete from t')", 'call p()', 'CALL p()', 'truncate t', 'TRUNCATE/**/t',
  "insert into t values (1)", 'INSERT INTO t SELECT * FROM generate_series(1, 100)', "set client_encoding to 'sjis'", "SET NAMES 'latin1'",
  "select set_config('client_encoding', 'gbk', false)", 'update t set a = 1', 'UPDATE t SET a = 1 WHERE id = 2',
  'with d as (delete from t returning *) select * from d', 'explain analyze delete from t', 'prepare p as delete from t',
  'drop table t', 'DROP/**/TABLE t', 'select 1 as "drop"', 'select * from "DROP"',
];

describe('the statement prefilter', () => {
  it('when a statement has no telling word, then the parser is skipped; with one, it is parsed', () => {
    const f = StatementPrefilter.forKinds(['DELETE_WITHOUT_WHERE', 'DROP'])!;
    const none = () => false;
    expect(f.mayMatter('SELECT abalance FROM pgbench_accounts WHERE aid = $1', none)).toBe(false);
    expect(f.mayMatter('UPDATE t SET a = 1', none)).toBe(false);
    expect(f.mayMatter('dElEtE FROM t', none)).toBe(true);
    expect(f.mayMatter('éDELETE', none)).toBe(true);
    expect(f.mayMatter('select purge()', (n) => n === 'purge')).toBe(true);
    // Kinds without a telling word (SELECT, OTHER, UNPARSEABLE): no prefilter.
    expect(StatementPrefilter.forKinds(['DROP', 'SELECT'])).toBeNull();
  });

  it('when the same corpus is decided with and without the prefilter and the cache, then every decision is the same', () => {
    const fast = new GuardrailPolicy(RULES);
    // A regular-expression rule (last, never matching) turns the prefilter off.
    const slow = new GuardrailPolicy([...RULES, Guardrail.parse({ name: 'never', sql: 'x^', action: 'allow' })]);
    for (let round = 0; round < 2; round++) {
      for (const sql of CORPUS) expect(fast.checkSql(sql), sql).toEqual(slow.checkSql(sql));
    }
    expect(fast.checkSql("DO E'BEGIN \\x44ELETE FROM t; END'")).toMatchObject({ action: 'deny' });
  });

  it('when a routine is created, then decisions remembered before it are not reused', () => {
    const p = new GuardrailPolicy([Guardrail.parse({ name: 'wide-held', statements: ['DELETE_WITHOUT_WHERE'], action: 'approve' })]);
    expect(p.checkSql('select purge()')).toEqual({ action: 'allow' });
    expect(p.checkSql('create function purge() returns void language sql as $$ delete from t $$')).toMatchObject({ action: 'approve' });
    expect(p.checkSql('select purge()')).toMatchObject({ action: 'approve' });
  });
});
