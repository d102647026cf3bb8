import { beforeAll, describe, expect, it } from 'vitest';
import { Guardrail } from '../../common/guardrails.ts';
import { GuardrailPolicy } from './guardrail-policy.ts';
import { classify, loadClassifier } from './statement-classifier.ts';

beforeAll(async () => {
  await loadClassifier();
});

const kinds = (sql: string) => classify(sql).map((s) => [...s.kinds].sort());

describe('the statement classifier', () => {
  it.each([
    ['DROP TABLE accounts', ['DROP']],
    ['truncate audit_log', ['TRUNCATE']],
    ['ALTER TABLE t ADD COLUMN c int', ['ALTER']],
    ['delete from t', ['DELETE', 'DELETE_WITHOUT_WHERE']],
    ['delete from t where id = 1', ['DELETE']],
    ['UPDATE t SET a = 1', ['UPDATE', 'UPDATE_WITHOUT_WHERE']],
    ['delete from t where true', ['DELETE', 'DELETE_WITHOUT_WHERE']],
    ['DELETE FROM t WHERE 1 = 1', ['DELETE', 'DELETE_WITHOUT_WHERE']],
    ["delete from t where 'a' = 'a'", ['DELETE', 'DELETE_WITHOUT_WHERE']],
    ['delete from t where not false', ['DELETE', 'DELETE_WITHOUT_WHERE']],
    ['delete from t where id = 1 or 1 = 1', ['DELETE', 'DELETE_WITHOUT_WHERE']],
    ['UPDATE t SET a = 1 WHERE 2 > 1', ['UPDATE', 'UPDATE_WITHOUT_WHERE']],
    ['UPDATE t SET a = 1 WHERE id = 2 AND true', ['UPDATE']],
    ['grant select on t to bob', ['GRANT']],
    ['select 1', ['SELECT']],
  ])('when the SQL is %j, then it is %j', (sql, expected) => {
    expect(kinds(sql)).toEqual([[...expected].sort()]);
  });

  it('when a statement hides in comments, quotes or odd spacing, then only what runs counts', () => {
    expect(kinds("/* DROP TABLE x */ select 'DROP TABLE y' -- drop table z")).toEqual([['SELECT']]);
    expect(kinds('dRoP\n\t  TABLE /* hi */ "x y"')).toEqual([['DROP']]);
    expect(kinds("select $$; drop table q; $$")).toEqual([['SELECT']]);
  });

  it('when several statements share one string, then each is read, with its own text', () => {
    const statements = classify('select 1; DROP TABLE accounts ;  delete from t where true');
    expect(statements.map((s) => s.text)).toEqual(['select 1', 'DROP TABLE accounts', 'delete from t where true']);
    // (`where true` bounds nothing: issue 18 made it a DELETE without WHERE.)
    expect(statements.map((s) => [...s.kinds].sort())).toEqual([['SELECT'], ['DROP'], ['DELETE', 'DELETE_WITHOUT_WHERE']]);
  });

  it('when a data change hides inside a CTE or EXPLAIN ANALYZE, then it is seen', () => {
    expect(kinds('WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d')[0]).toEqual(expect.arrayContaining(['DELETE', 'DELETE_WITHOUT_WHERE', 'SELECT']));
    expect(kinds('EXPLAIN ANALYZE UPDATE t SET a = 2')[0]).toEqual(expect.arrayContaining(['UPDATE', 'UPDATE_WITHOUT_WHERE']));
    // (Issue 18: a DO block's body is read; a constant EXECUTE string is SQL like any other.)
    expect(kinds("DO $$ BEGIN EXECUTE 'drop table x'; END $$")).toEqual([['DO', 'DROP', 'SELECT']]);
  });

  it('when the text is not SQL, then it is UNPARSEABLE; non-ASCII text keeps statement boundaries', () => {
    expect(kinds('selec 1 frm')).toEqual([['UNPARSEABLE']]);
    expect(classify("select 'é✓'; drop table ü").map((s) => s.text)).toEqual(["select 'é✓'", 'drop table ü']);
  });
});

describe('guardrail policies', () => {
  const rules = [
    { name: 'reads-of-audit-ok', sql: '\\baudit_log\\b', statements: undefined, action: 'allow' },
    { name: 'no-drops', statements: ['DROP', 'TRUNCATE'], action: 'deny', message: 'ask the DBA' },
    { name: 'wide-changes', statements: ['DELETE_WITHOUT_WHERE', 'UPDATE_WITHOUT_WHERE', 'ALTER'], action: 'approve' },
    { name: 'no-shutdown', command: 'shutdown|reboot', action: 'deny' },
  ].map((g) => Guardrail.parse(g));
  const policy = new GuardrailPolicy(rules);

  it('when statements match rules, then the first matching rule decides each, and the strictest wins', () => {
    expect(policy.checkSql('select * from accounts')).toEqual({ action: 'allow' });
    expect(policy.checkSql('drop table accounts')).toMatchObject({ action: 'deny', rule: 'no-drops', message: 'ask the DBA', statement: 'drop table accounts' });
    expect(policy.checkSql('delete from accounts')).toMatchObject({ action: 'approve', rule: 'wide-changes' });
    expect(policy.checkSql('delete from accounts; drop table x')).toMatchObject({ action: 'deny', statement: 'drop table x' });
    // The allow rule comes first for its table.
    expect(policy.checkSql('truncate audit_log')).toMatchObject({ action: 'allow', rule: 'reads-of-audit-ok' });
  });

  it('when a fastpath function call comes, then it is a CALL: rules on CALL or OTHER decide, regexes do not', () => {
    // (Issue 18: a function called by number runs a body the agent has not read: unknown, which
    // gets the strictest action of the rules unless the target says otherwise.)
    expect(policy.checkFunctionCall(1299)).toMatchObject({ action: 'deny', rule: 'no-drops' });
    const lenient = new GuardrailPolicy(rules, { unknown: 'allow' });
    expect(lenient.checkFunctionCall(1299)).toEqual({ action: 'allow' });
    const strict = new GuardrailPolicy([Guardrail.parse({ name: 'no-calls', statements: ['CALL'], action: 'deny' })]);
    expect(strict.checkFunctionCall(1299)).toMatchObject({ action: 'deny', rule: 'no-calls', statement: '(fastpath call of function 1299)' });
  });

  it('when a statement would change client_encoding, then it is denied (rules read SQL as UTF-8)', () => {
    for (const sql of ["set client_encoding to 'SJIS'", "SET NAMES 'latin1'", 'reset client_encoding', "select set_config('client_encoding', 'GBK', false)", 'select set_config($1, $2, false)']) {
      expect(policy.checkSql(sql), sql).toMatchObject({ action: 'deny', rule: 'utf8-only' });
    }
    expect(policy.checkSql("set search_path to public")).toEqual({ action: 'allow' });
  });

  it('when an SSH command line matches, then its rule decides', async () => {
    expect(await policy.checkCommand('sudo reboot now')).toMatchObject({ action: 'deny', rule: 'no-shutdown' });
    expect(await policy.checkCommand('uptime')).toEqual({ action: 'allow' });
  });

  it('when a rule is malformed, then the config says so', () => {
    expect(Guardrail.safeParse({ name: 'x', action: 'deny' }).success).toBe(false);
    expect(Guardrail.safeParse({ name: 'x', sql: '(', action: 'deny' }).success).toBe(false);
    expect(Guardrail.safeParse({ name: 'x', statements: ['NUKE'], action: 'deny' }).success).toBe(false);
  });
});
