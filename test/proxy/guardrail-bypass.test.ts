// The bypass corpus of issue 18: every phrasing of "delete every row" or "drop the table" a user or
// an agent tries after the plain statement is refused, through the real psql (simple protocol)
// and node-postgres (extended protocol), and the table still has its rows afterwards: the write did
// not happen, not only an error came back. Ordinary work with functions and bounded writes passes.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { startHarness, type Harness } from '../support/agent-harness.ts';
import { ofType } from '../support/recordings.ts';

vi.setConfig({ testTimeout: 90_000, hookTimeout: 120_000 });

const GUARDRAILS = [
  { name: 'no-wide-writes', statements: ['DELETE_WITHOUT_WHERE', 'UPDATE_WITHOUT_WHERE'], action: 'deny' },
  { name: 'no-drops', statements: ['DROP', 'TRUNCATE'], action: 'deny' },
];

let h: Harness;

beforeAll(async () => {
  h = await startHarness({
    postgresUrl: inject('postgresUrl'),
    seed: "CREATE TABLE ledger (id int PRIMARY KEY, owner text); INSERT INTO ledger SELECT g, 'owner ' || g FROM generate_series(1, 5) g; CREATE TABLE other (id int);",
    target: { guardrails: GUARDRAILS },
  });
});
afterAll(async () => {
  await h?.stop();
});

/** Counted straight on the target, past the agent. */
async function ledger(): Promise<{ rows: number; owners: string[] }> {
  const c = new pg.Client({ connectionString: h.directUrl });
  await c.connect();
  try {
    const r = await c.query('select count(*)::int as n, array_agg(distinct owner order by owner) as owners from ledger');
    return { rows: r.rows[0].n, owners: r.rows[0].owners ?? [] };
  } finally {
    await c.end();
  }
}

const UNTOUCHED = { rows: 5, owners: ['owner 1', 'owner 2', 'owner 3', 'owner 4', 'owner 5'] };

// Each entry: psql -c arguments, run in order in one session (so a function created by the first
// is called by the next).
const CORPUS: Array<[string, string[]]> = [
  ['plain', ['DELETE FROM ledger']],
  ['always-true WHERE', ['DELETE FROM ledger WHERE true']],
  ['1 = 1', ["UPDATE ledger SET owner = 'x' WHERE 1 = 1"]],
  ['CTE', ['WITH d AS (DELETE FROM ledger RETURNING *) SELECT count(*) FROM d']],
  ['EXPLAIN ANALYZE', ['EXPLAIN ANALYZE DELETE FROM ledger']],
  ['multi-statement', ['SELECT 1; DELETE FROM ledger']],
  ['PREPARE/EXECUTE', ['PREPARE p AS DELETE FROM ledger', 'EXECUTE p']],
  ['COPY', ['COPY (DELETE FROM ledger RETURNING *) TO STDOUT']],
  ['DO block', ['DO $$ BEGIN DELETE FROM ledger; END $$']],
  ['DO with LANGUAGE', ['DO LANGUAGE plpgsql $$ BEGIN IF true THEN UPDATE ledger SET owner = \'x\'; END IF; END $$']],
  ['dynamic SQL', ["DO $$ BEGIN EXECUTE 'delete ' || 'from ledger'; END $$"]],
  ['dynamic constant', ["DO $$ BEGIN EXECUTE 'truncate ledger'; END $$"]],
  ['format()', ["DO $$ BEGIN EXECUTE format('DELETE FROM %I', 'ledger'); END $$"]],
  ['nested DO', ["DO $$ BEGIN EXECUTE 'DO $i$ BEGIN DELETE FROM ledger; END $i$'; END $$"]],
  ['SQL function', ['CREATE FUNCTION wipe() RETURNS void LANGUAGE sql AS $$ DELETE FROM ledger $$', 'SELECT wipe()']],
  ['BEGIN ATOMIC function', ['CREATE FUNCTION wipe2() RETURNS void LANGUAGE sql BEGIN ATOMIC DELETE FROM ledger WHERE 1 = 1; END', 'SELECT wipe2()']],
  ['PL/pgSQL function', ['CREATE FUNCTION wipe3() RETURNS void LANGUAGE plpgsql AS $$ BEGIN DELETE FROM ledger; END $$', 'SELECT wipe3()']],
  ['procedure', ['CREATE PROCEDURE wipe4() LANGUAGE sql AS $$ DELETE FROM ledger $$', 'CALL wipe4()']],
  ['replace a harmless body', ['CREATE FUNCTION tidy() RETURNS void LANGUAGE sql AS $$ DELETE FROM ledger WHERE id = 0 $$', 'CREATE OR REPLACE FUNCTION tidy() RETURNS void LANGUAGE sql AS $$ DELETE FROM ledger $$', 'SELECT tidy()']],
  ['trigger function', ["CREATE FUNCTION tf() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN DELETE FROM ledger; RETURN NEW; END $$"]],
  ['rule', ['CREATE RULE r AS ON INSERT TO other DO ALSO DELETE FROM ledger', 'INSERT INTO other VALUES (1)']],
  ['unicode identifier', ['DELETE FROM U&"l\\0065dger"']],
];

describe('the bypass corpus through psql', () => {
  it.each(CORPUS)('when the write is phrased as %s, then it is refused and every row is still there', async (_name, statements) => {
    const r = await h.psql(['-At', '-v', 'ON_ERROR_STOP=0', ...statements.flatMap((s) => ['-c', s])]);
    expect(r.stderr).toMatch(/Vigil guardrail (no-wide-writes|no-drops) denied this statement/);
    expect(await ledger()).toEqual(UNTOUCHED);
  });

  it('when a refusal comes from a body, then the error says which statement in which body', async () => {
    const r = await h.psql(['-At', '-c', "DO $$ BEGIN PERFORM 1; UPDATE ledger SET owner = 'y'; END $$"]);
    // Where, in words: the error is recorded, so it quotes nothing of the body.
    expect(r.stderr).toContain('Vigil guardrail no-wide-writes denied this statement (UPDATE without WHERE, in the DO block)');
    const dynamic = await h.psql(['-At', '-c', "DO $$ BEGIN EXECUTE 'dele' || 'te from ledger'; END $$"]);
    expect(dynamic.stderr).toContain('the guardrails cannot read: EXECUTE of a string built at run time (in the DO block)');
    const events = await h.sessionWhere((e) => e.type === 'guardrail.hit' && e.data.statement.includes("'dele' || 'te"));
    expect(ofType(events, 'guardrail.hit')[0].data).toMatchObject({ rule: 'no-wide-writes', action: 'deny' });
    const inBody = await h.sessionWhere((e) => e.type === 'guardrail.hit' && e.data.statement.includes("owner = 'y'"));
    expect(ofType(inBody, 'guardrail.hit')[0].data).toMatchObject({ rule: 'no-wide-writes', form: 'in the DO block' });
    expect(await ledger()).toEqual(UNTOUCHED);
  });
});

describe('the bypass corpus through node-postgres (extended protocol)', () => {
  it('when each phrasing comes as Parse/Bind/Execute, then it is refused and the rows are there', async () => {
    const client = await h.client('alice');
    try {
      for (const [name, statements] of CORPUS) {
        for (const text of statements) await client.query({ text, values: [] }).catch(() => undefined);
        expect(await ledger(), name).toEqual(UNTOUCHED);
      }
      await expect(client.query({ text: 'DO $$ BEGIN DELETE FROM ledger; END $$', values: [] })).rejects.toMatchObject({ code: '42501' });
    } finally {
      await client.end();
    }
  });
});

describe('ordinary work is not refused', () => {
  it('when a migration creates functions whose bodies make bounded writes and calls them, then everything runs', async () => {
    const r = await h.psql(['-At', '-v', 'ON_ERROR_STOP=1',
      '-c', 'BEGIN',
      '-c', 'CREATE TABLE audit_trail (id int, at timestamptz)',
      '-c', 'CREATE FUNCTION rename_owner(p_id int, p_owner text) RETURNS void LANGUAGE plpgsql AS $$ BEGIN UPDATE ledger SET owner = p_owner WHERE id = p_id; INSERT INTO audit_trail VALUES (p_id, now()); END $$',
      '-c', 'CREATE FUNCTION twice(n int) RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT n * 2 $$',
      '-c', "DO $$ DECLARE n int; BEGIN n := (SELECT count(*) FROM ledger); IF n > 0 THEN DELETE FROM ledger WHERE id = -1; END IF; END $$",
      '-c', "SELECT rename_owner(1, 'owner 1')",
      '-c', 'SELECT twice(21)',
      '-c', "DO $$ BEGIN EXECUTE 'delete from ledger where id = -2'; END $$",
      '-c', 'ROLLBACK']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('42');
    expect(await ledger()).toEqual(UNTOUCHED);
  });

  it('when psql runs meta-commands, then none is refused', async () => {
    const r = await h.psql(['-At', '-c', '\\d ledger', '-c', '\\df', '-c', '\\dt', '-c', '\\l', '-c', '\\du', '-c', '\\dn']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('owner');
  });
});
