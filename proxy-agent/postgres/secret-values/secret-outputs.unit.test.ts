import { beforeAll, describe, expect, it } from 'vitest';
import { findSecretValues, loadSecretValueParser, mayHoldSecretValues, type SecretContext } from './secret-values.ts';

const NEEDLES = ['password', 'passwd', 'secret', 'token', 'api_key', 'apikey', 'ssn'];
const TABLES: Record<string, string[]> = { users: ['id', 'name', 'password', 'api_token'], notes: ['id', 'body'] };

const ctx: SecretContext = {
  isSecretColumn: (name) => NEEDLES.some((needle) => name.toLowerCase().includes(needle)),
  tableColumns: (schema, table) => (schema === undefined || schema === 'public' ? TABLES[table] : undefined),
};

/** secretOutputs with each set as a sorted array; undefined when absent. */
function outputs(sql: string): Array<number[] | 'all'> | undefined {
  return findSecretValues(sql, ctx).secretOutputs?.map((o) => (o === 'all' ? 'all' : [...o].sort((a, b) => a - b)));
}

beforeAll(async () => {
  await loadSecretValueParser();
});

describe('secretOutputs: a secret read under another name', () => {
  it.each([
    [`SELECT upper(password) FROM users`, [0]],
    [`SELECT id, password AS p FROM users`, [1]],
    [`SELECT u.api_token || '' AS x FROM users u`, [0]],
    [`SELECT coalesce(password, 'none') FROM users`, [0]],
    [`SELECT (SELECT password FROM users LIMIT 1) AS x`, [0]],
    [`SELECT ARRAY(SELECT api_token FROM users) AS a`, [0]],
    [`SELECT row(id, password) FROM users`, [0]],
    [`SELECT json_build_object('p', password) FROM users`, [0]],
    [`SELECT string_agg(secret, ',') AS s FROM vault`, [0]],
    [`SELECT id, (u).password FROM users u`, [1]],
    [`SELECT CASE WHEN id = 1 THEN api_token ELSE '' END AS t FROM users`, [0]],
    [`SELECT nullif(password, '') AS x FROM users`, [0]],
    [`SELECT name FROM users UNION ALL SELECT password FROM users`, [0]],
    [`SELECT password_changed_at FROM users`, [0]], // its name masks it anyway
    [`SELECT x FROM users, unnest(ARRAY[password]) AS x`, [0]],
    [`SELECT id, creds->>'api_key' AS k, creds #>> '{db,password}' FROM accounts`, [1, 2]],
    [`SELECT v.column2 AS x FROM (VALUES (1, 'a'), (2, $1)) v, users WHERE password = $1`, [0]],
  ])('when %s, then those positions are secret', (sql, positions) => {
    expect(outputs(sql)).toEqual([positions]);
  });

  it.each([
    `SELECT name, id FROM users`,
    `SELECT password = 'x' AS ok, password IS NULL AS missing, count(password) AS n FROM users`,
    `SELECT EXISTS (SELECT 1 FROM users WHERE password = 'y') AS e, id IN (SELECT id FROM users WHERE api_token = 'z') AS i`,
    `SELECT CASE WHEN password = 'x' THEN 'yes' ELSE 'no' END AS matches FROM users`,
    `SELECT upper(name) FROM users WHERE password = 'p'`,
    `SELECT to_jsonb(n) FROM notes n`,
    `SELECT 1`,
    `UPDATE users SET name = 'x' WHERE password = 'p'`,
  ])('when %s, then nothing is secret beyond the names', (sql) => {
    expect(outputs(sql)).toBeUndefined();
  });
});

describe('secretOutputs: whole rows', () => {
  it.each([
    `SELECT to_jsonb(u) FROM users u`,
    `SELECT u FROM users u`,
    `SELECT row_to_json(u.*) FROM users u`,
    `SELECT u::text FROM users u`,
    `SELECT users FROM users`,
    `SELECT public.users FROM public.users`,
    `SELECT s FROM (SELECT * FROM users) s`,
    `SELECT json_agg(x) FROM (SELECT id, password FROM users) x`,
  ])('when %s, then the whole row is secret', (sql) => {
    expect(outputs(sql)).toEqual([[0]]);
  });

  it('when the table columns are not known, then a whole row of it is secret and the table reported', () => {
    const found = findSecretValues(`SELECT l FROM audit.log l`, ctx);
    expect(found.secretOutputs).toEqual([new Set([0])]);
    expect(found.unknownTables).toEqual([{ schema: 'audit', table: 'log' }]);
  });

  it('when a whole row has no secret column, then it is left alone', () => {
    expect(outputs(`SELECT n, n.body FROM notes n`)).toBeUndefined();
  });
});

describe('secretOutputs: renames through CTEs and subqueries', () => {
  it.each([
    [`WITH x AS (SELECT password AS a FROM users) SELECT a FROM x`, [0]],
    [`WITH x AS (SELECT password AS a FROM users), y AS (SELECT a AS b, 1 AS c FROM x) SELECT c, b FROM y`, [1]],
    [`WITH x(a, b) AS (SELECT name, password FROM users) SELECT b AS c, a FROM x`, [0]],
    [`SELECT s.a, s.b FROM (SELECT name AS a, api_token AS b FROM users) s`, [1]],
    [`SELECT z FROM (SELECT id, password FROM users) AS s(y, z)`, [0]],
    [`SELECT c FROM users u(a, b, c)`, [0]],
    [`SELECT lower(k) FROM (SELECT * FROM users) s(i, n, k)`, [0]],
    [`WITH RECURSIVE r(a, n) AS (SELECT 'x', 1 UNION ALL SELECT password, n + 1 FROM users, r WHERE n < 2) SELECT a FROM r`, [0]],
    [`SELECT x.p FROM users u JOIN LATERAL (SELECT u.password AS p) x ON true`, [0]],
    [`SELECT (SELECT t.a FROM (SELECT u.api_token AS a) t) AS v FROM users u`, [0]],
  ])('when %s, then the renamed secret is followed', (sql, positions) => {
    expect(outputs(sql)).toEqual([positions]);
  });

  it.each([`SELECT a FROM some_view`, `SELECT x.a FROM (SELECT * FROM some_view) x`, `WITH x AS (SELECT name AS a FROM users) SELECT a FROM x`])(
    'when %s, then provenance the text does not show is left to the names',
    (sql) => {
      expect(outputs(sql)).toBeUndefined();
      expect(findSecretValues(sql, ctx).unknownTables).toEqual([]);
    },
  );
});

describe('secretOutputs: secret-returning functions', () => {
  it.each([
    [`SELECT set_config('app.token', 'v', false)`, [0]],
    [`SELECT set_config(setting_name => 'my.password', new_value => $1, is_local => true)`, [0]],
    [`SELECT current_setting('app.password')`, [0]],
    [`SELECT 1 AS a, pg_catalog.current_setting('my.api_key', true) AS b`, [1]],
    [`SELECT pgp_sym_decrypt(data, 'k') AS plain FROM t`, [0]],
    [`SELECT pgp_pub_decrypt_bytea(data, key) FROM t`, [0]],
    [`SELECT convert_from(decrypt(data, 'k', 'aes'), 'utf8') AS plain FROM t`, [0]],
    [`SELECT decrypt_iv(data, 'k', 'iv', 'aes') FROM t`, [0]],
    [`SELECT s FROM current_setting('app.secret') AS s`, [0]],
    [`SHOW my.api_key`, [0]],
  ])('when %s, then the result is secret', (sql, positions) => {
    expect(outputs(sql)).toEqual([positions]);
  });

  it.each([
    `SELECT current_setting('search_path')`,
    `SELECT set_config('search_path', 'x', false)`,
    `SELECT current_setting(name) FROM pg_settings`,
    `SELECT pgp_sym_encrypt('data', 'key')`,
    `SHOW work_mem`,
  ])('when %s, then it is not', (sql) => {
    expect(outputs(sql)).toBeUndefined();
  });

  it('when a secret parameter is echoed, then that column is secret', () => {
    expect(outputs(`SELECT $1::text AS echo FROM users WHERE password = $1`)).toEqual([[0]]);
  });
});

describe('secretOutputs: RETURNING', () => {
  it.each([
    [`INSERT INTO users (name, password) VALUES ('a', 'b') RETURNING id, password`, [1]],
    [`UPDATE users SET name = 'x' RETURNING upper(api_token) AS t`, [0]],
    [`DELETE FROM users u WHERE id = 1 RETURNING id, u`, [1]],
    [`UPDATE users SET password = 'n' RETURNING id, old AS before`, [1]],
    [`UPDATE users SET password = 'n' RETURNING WITH (OLD AS o) o.api_token || '' AS t`, [0]],
    [`UPDATE notes n SET body = u.name FROM users u WHERE u.id = n.id RETURNING n.id, u.password AS p`, [1]],
    [`MERGE INTO users u USING notes s ON u.id = s.id WHEN MATCHED THEN UPDATE SET name = 'x' RETURNING u.api_token AS t`, [0]],
    [`WITH d AS (DELETE FROM users RETURNING password AS p) SELECT upper(p) FROM d`, [0]],
  ])('when %s, then the returned secrets are found', (sql, positions) => {
    expect(outputs(sql)).toEqual([positions]);
  });

  it.each([
    `INSERT INTO notes (body) VALUES ('x') RETURNING *`,
    `INSERT INTO users (name) VALUES ('a') RETURNING *`, // its secret columns keep their names
    `UPDATE users SET password = 'x' WHERE id = 1`,
  ])(
    'when %s, then nothing is returned secret',
    (sql) => {
      expect(outputs(sql)).toBeUndefined();
    },
  );
});

describe('secretOutputs: *', () => {
  it.each([
    [`SELECT *, upper(password) FROM users`, [2, 3, 4]],
    [`SELECT n.*, u.password AS p FROM notes n, users u`, [2]],
    [`SELECT * FROM (SELECT password AS a, name FROM users) s`, [0]],
    [`SELECT upper(password), * FROM mystery`, [0]],
    [`SELECT * FROM users JOIN notes USING (id)`, [2, 3]],
    [`SELECT *, api_token AS t FROM users JOIN notes USING (id)`, [2, 3, 5]],
    [`SELECT *, api_token AS t FROM users JOIN notes ON true`, [2, 3, 6]],
    [`SELECT * FROM (SELECT *, password AS a FROM users) s`, [2, 3, 4]],
  ])('when %s, then the star is counted', (sql, positions) => {
    expect(outputs(sql)).toEqual([positions]);
  });

  it.each([`SELECT *, upper(password) FROM mystery`, `SELECT m.*, u.password AS p FROM mystery m, users u`, `SELECT * FROM (SELECT *, password AS a FROM mystery) s`])(
    'when %s, then a secret after a star of unknown width masks all',
    (sql) => {
      expect(outputs(sql)).toEqual(['all']);
    },
  );

  it('when a star over an unknown table has nothing secret after it, then the names decide and no table is reported', () => {
    const found = findSecretValues(`SELECT * FROM audit.log`, ctx);
    expect(found.secretOutputs).toBeUndefined();
    expect(found.unknownTables).toEqual([]);
  });
});

describe('secretOutputs: statement indexes', () => {
  it.each([
    [`SET x = 1; SELECT password AS p FROM users`, [[], [0]]],
    [`SELECT 1;; SELECT u FROM users u`, [[], [0]]],
    [`BEGIN; UPDATE users SET name = 'n' RETURNING api_token AS t; COMMIT`, [[], [0], []]],
    [`SELECT name FROM users; SELECT id, lower(password) FROM users; SELECT 2`, [[], [1], []]],
    [`PREPARE q AS SELECT upper(password) FROM users; EXECUTE q; EXECUTE other`, [[], [0], []]],
    [`DECLARE c CURSOR FOR SELECT u FROM users u; FETCH 10 FROM c; MOVE c`, [[], [0], []]],
    [`COPY (SELECT upper(password) FROM users) TO STDOUT; SELECT api_token AS t FROM users`, [[], [0]]],
  ])('when %s, then each statement has its entry', (sql, expected) => {
    expect(outputs(sql)).toEqual(expected);
  });
});

describe('COPY with provenance', () => {
  it.each([
    [`COPY (SELECT upper(password) AS x, u, id FROM users u) TO STDOUT`, [true, true, false]],
    [`COPY (WITH x AS (SELECT api_token AS a FROM users) SELECT a, 1 FROM x) TO STDOUT`, [true, false]],
    [`COPY (SELECT password = 'x' AS ok, current_setting('app.password') FROM users) TO STDOUT`, [false, true]],
    [`COPY (SELECT * FROM users JOIN mystery ON true) TO STDOUT`, null],
  ])('when %s, then the fields follow the same provenance', (sql, expected) => {
    expect(findSecretValues(sql, ctx).copy?.secretFields).toEqual(expected);
  });
});

describe('mayHoldSecretValues and secret results', () => {
  it.each([
    `SELECT current_setting('app.password')`,
    `SELECT current_setting('my.key', true)`,
    `SELECT convert_from(decrypt(data, k, 'aes'), 'utf8') FROM t`,
    `SELECT pgp_pub_decrypt(m, k) FROM t`,
    `SELECT set_config('a.b', 'c', false)`,
    `SHOW my.token`,
    `SELECT upper(api_key) AS k FROM t`,
    `SELECT u FROM users u`,
    `SELECT to_jsonb(u.*) FROM users u`,
    `SELECT row(1, t.*) FROM users AS t`,
    `SELECT json_agg(t) FROM (SELECT * FROM users) t`,
    `SELECT c FROM users u(a, b, c)`,
    `SELECT z FROM (SELECT * FROM users) s(x, y, z)`,
    `WITH x(a, b) AS (SELECT * FROM users) SELECT b FROM x`,
    `DELETE FROM users u WHERE id = 1 RETURNING u`,
    `SELECT n.id, u FROM notes n, users u`,
    `SELECT n.id, u FROM notes n JOIN users u ON u.id = n.id`,
    `SELECT users FROM public.users`,
    `SELECT "U" FROM users "U"`,
    `SELECT json_agg("u"."x".*) FROM users "x"`,
    `SELECT "a""b" FROM users AS "a""b"`,
  ])('when %s, then it may', (sql) => {
    expect(mayHoldSecretValues(sql, NEEDLES)).toBe(true);
  });

  it.each([
    `SELECT "users".* FROM "users" WHERE "users"."id" = $1 LIMIT $2`,
    `SELECT o.id, c.name FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.total > 10 ORDER BY o.id`,
    `SELECT id, name FROM notes WHERE id IN (SELECT note_id FROM tags WHERE tag = $1)`,
    `SELECT count(*) FROM notes`,
    `SELECT t.id FROM tags t WHERE EXISTS (SELECT "notes".* FROM notes WHERE "notes".id = t.note_id)`,
  ])('when %s, then it cannot', (sql) => {
    expect(mayHoldSecretValues(sql, NEEDLES)).toBe(false);
  });
});
