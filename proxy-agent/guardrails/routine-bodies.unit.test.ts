import { beforeAll, describe, expect, it } from 'vitest';
import { Guardrail } from '../../common/guardrails.ts';
import { GuardrailPolicy } from './guardrail-policy.ts';
import { loadClassifier } from './statement-classifier.ts';

beforeAll(async () => {
  await loadClassifier();
});

const policy = (unknown?: 'deny' | 'approve' | 'allow') => new GuardrailPolicy([
  { name: 'no-wide-writes', statements: ['DELETE_WITHOUT_WHERE', 'UPDATE_WITHOUT_WHERE'], action: 'deny' },
  { name: 'no-drops', statements: ['DROP', 'TRUNCATE'], action: 'deny' },
  { name: 'grants-approved', statements: ['GRANT'], action: 'approve' },
].map((g) => Guardrail.parse(g)), unknown ? { unknown } : {});

describe('guardrails in bodies (DO, functions, procedures)', () => {
  it.each([
    ['DO $$ BEGIN DELETE FROM t; END $$', 'no-wide-writes', 'DELETE without WHERE, in the DO block'],
    ['do $x$ begin if true then update t set a = 1; end if; end $x$', 'no-wide-writes', 'UPDATE without WHERE, in the DO block'],
    ["DO $$ BEGIN EXECUTE 'truncate t'; END $$", 'no-drops', 'TRUNCATE, executed in the DO block'],
    ["DO $$ BEGIN EXECUTE 'DO $b$ BEGIN DROP TABLE t; END $b$'; END $$", 'no-drops', 'DROP, in the DO block, executed in the DO block'],
    ['create function f() returns void language sql as $$ delete from t where 1 = 1 $$', 'no-wide-writes', 'DELETE without WHERE, in the body of function f'],
    ['create procedure p() language sql begin atomic delete from t; end', 'no-wide-writes', undefined],
    ['create or replace function g() returns trigger language plpgsql as $$ begin drop table t; return new; end $$', 'no-drops', 'DROP, in the body of function g'],
    ['create function h() returns setof int language plpgsql as $$ declare r record; begin for r in delete from t returning id loop return next r.id; end loop; end $$', 'no-wide-writes', 'DELETE without WHERE, in the body of function h'],
  ])('when %j, then rule %s denies it', (sql, rule, via) => {
    const d = policy().checkSql(sql);
    expect(d).toMatchObject({ action: 'deny', rule });
    if (via) expect(d.via).toBe(via);
  });

  it('when a body bundles a statement an approve rule holds with one a deny rule refuses, then it is denied', () => {
    const d = policy().checkSql("DO $$ BEGIN GRANT SELECT ON t TO bob; DELETE FROM t; END $$");
    expect(d).toMatchObject({ action: 'deny', rule: 'no-wide-writes', via: 'DELETE without WHERE, in the DO block', form: 'in the DO block' });
    expect(policy().checkSql('DO $$ BEGIN GRANT SELECT ON t TO bob; END $$')).toMatchObject({ action: 'approve', rule: 'grants-approved' });
  });

  it('when a body makes bounded writes, then nothing is refused (migrations with functions go through)', () => {
    const p = policy();
    for (const sql of [
      'DO $$ BEGIN DELETE FROM t WHERE id = 1; UPDATE t SET a = 2 WHERE id = 3; END $$',
      "create function f(p int) returns void language plpgsql as $$ begin delete from t where id = p; insert into log values (p, now()); end $$",
      'create function add(a int, b int) returns int language sql immutable as $$ select a + b $$',
      "DO $$ DECLARE n int; BEGIN n := (SELECT count(*) FROM t); RAISE NOTICE '%', n; END $$",
      "DO $$ BEGIN EXECUTE 'delete from t where id = 7'; END $$",
    ]) expect(p.checkSql(sql), sql).toMatchObject({ action: 'allow' });
  });

  it('when what runs cannot be read, then it is unknown: the strictest rule by default, or the target\'s setting', () => {
    for (const sql of [
      "DO $$ BEGIN EXECUTE 'delete ' || 'from t'; END $$",
      "DO $$ BEGIN EXECUTE format('delete from %I', 't'); END $$",
      "DO LANGUAGE plpython3u $$ plpy.execute('delete from t') $$",
      "create function f() returns void language plperl as $$ spi_exec_query('delete from t') $$",
      "select dblink_exec('dbname=x', 'delete from t')",
      'call cleanup()',
      "DO $$ BEGIN this is not plpgsql; END $$",
    ]) {
      expect(policy().checkSql(sql), sql).toMatchObject({ action: 'deny', rule: 'no-wide-writes', message: expect.stringContaining('cannot read') });
      expect(policy('approve').checkSql(sql), sql).toMatchObject({ action: 'approve', rule: 'guardrail-unknown' });
      expect(policy('allow').checkSql(sql), sql).toMatchObject({ action: 'allow' });
    }
    // Only approve rules: unknown is held, never allowed silently.
    const approving = new GuardrailPolicy([Guardrail.parse({ name: 'held', statements: ['DROP'], action: 'approve' })]);
    expect(approving.checkSql("DO $$ BEGIN EXECUTE 'dr' || 'op table t'; END $$")).toMatchObject({ action: 'approve', rule: 'held' });
  });

  it('when a routine was created through the agent, then a call of it is judged by its body', () => {
    const p = new GuardrailPolicy([
      { name: 'wide-deletes-approved', statements: ['DELETE_WITHOUT_WHERE'], action: 'approve' },
      { name: 'no-drops', statements: ['DROP'], action: 'deny' },
    ].map((g) => Guardrail.parse(g)));
    expect(p.checkSql('create function purge() returns void language sql as $$ delete from t $$')).toMatchObject({ action: 'approve' });
    expect(p.checkSql('select purge()')).toMatchObject({ action: 'approve', rule: 'wide-deletes-approved', via: 'DELETE without WHERE, in the body of function purge, created through Vigil' });
    expect(p.checkSql('select * from t where x = public.PURGE()')).toMatchObject({ action: 'approve' });
    expect(p.checkSql('alter function purge() rename to tidy')).toMatchObject({ action: 'allow' });
    expect(p.checkSql('select tidy()')).toMatchObject({ action: 'approve' });
    // A procedure created here is known; one never seen is unknown.
    expect(p.checkSql('create procedure ok() language sql as $$ delete from t where id = 1 $$')).toMatchObject({ action: 'allow' });
    expect(p.checkSql('call ok()')).toMatchObject({ action: 'allow' });
    expect(p.checkSql('call other()')).toMatchObject({ action: 'deny', rule: 'no-drops', message: expect.stringContaining('procedure other') });
    // A trigger that runs a remembered function does what it does.
    expect(p.checkSql('create trigger tr after insert on x for each row execute function purge()')).toMatchObject({ action: 'approve' });
  });

  it('when a maxRows write stands in a body, then its rows cannot be counted: the rule acts', () => {
    const p = new GuardrailPolicy([Guardrail.parse({ name: 'small-deletes', statements: ['DELETE'], maxRows: 10, action: 'deny' })]);
    expect(p.checkSql('delete from t where id > 5')).toMatchObject({ action: 'allow', rowLimit: { rule: 'small-deletes', maxRows: 10, kind: 'DELETE', action: 'deny' } });
    expect(p.checkSql('DO $$ BEGIN DELETE FROM t WHERE id > 5; END $$')).toMatchObject({ action: 'deny', message: expect.stringContaining('cannot be counted') });
    expect(p.checkSql('with d as (delete from t returning *) delete from u')).toMatchObject({ action: 'deny' });
    expect(p.checkSql('select 1; delete from t where id = 1')).toMatchObject({ action: 'deny', message: expect.stringContaining('statement of its own') });
    // COPY TO reads rows: a limit on COPY counts only COPY FROM.
    const copies = new GuardrailPolicy([Guardrail.parse({ name: 'small-loads', statements: ['COPY'], maxRows: 10, action: 'deny' })]);
    expect(copies.checkSql('copy t to stdout')).toEqual({ action: 'allow' });
    expect(copies.checkSql('copy t from stdin')).toMatchObject({ action: 'allow', rowLimit: { kind: 'COPY' } });
  });
});
