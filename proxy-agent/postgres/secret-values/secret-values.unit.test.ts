import { beforeAll, describe, expect, it } from 'vitest';
import {
  findSecretValues,
  loadSecretValueParser,
  maskSecretLiterals,
  mayHoldSecretValues,
  SECRET_MARKER,
  type SecretContext,
} from './secret-values.ts';

const NEEDLES = ['password', 'passwd', 'secret', 'token', 'api_key', 'apikey', 'ssn'];
const TABLES: Record<string, string[]> = { users: ['id', 'name', 'password', 'api_token'], notes: ['id', 'body'] };

const ctx: SecretContext = {
  isSecretColumn: (name) => NEEDLES.some((needle) => name.toLowerCase().includes(needle)),
  tableColumns: (schema, table) => (schema === undefined || schema === 'public' ? TABLES[table] : undefined),
  preparedParams: (name) => (name === 'add_user' ? new Set([2]) : undefined),
};

const S = SECRET_MARKER;

function masked(sql: string, context: SecretContext = ctx): string {
  return maskSecretLiterals(sql, findSecretValues(sql, context).literals).text;
}

function params(sql: string): number[] {
  return [...findSecretValues(sql, ctx).params].sort((a, b) => a - b);
}

beforeAll(async () => {
  await loadSecretValueParser();
});

describe('INSERT', () => {
  it.each([
    [`INSERT INTO users(name, password) VALUES ('bob', 'hunter2')`, `INSERT INTO users(name, password) VALUES ('bob', ${S})`],
    [
      `INSERT INTO users (name, password) VALUES ('a', 'p1'), ('b', 'p2'), (DEFAULT, DEFAULT), ('c', NULL)`,
      `INSERT INTO users (name, password) VALUES ('a', ${S}), ('b', ${S}), (DEFAULT, DEFAULT), ('c', NULL)`,
    ],
    [
      `INSERT INTO users (name, password) VALUES ('a', crypt('pw', gen_salt('bf')))`,
      `INSERT INTO users (name, password) VALUES ('a', crypt(${S}, gen_salt(${S})))`,
    ],
    [
      `INSERT INTO users (name, password) VALUES ('a', 'p') ON CONFLICT (name) DO UPDATE SET password = 'q', name = 'n'`,
      `INSERT INTO users (name, password) VALUES ('a', ${S}) ON CONFLICT (name) DO UPDATE SET password = ${S}, name = 'n'`,
    ],
    [
      `INSERT INTO users (name, password) SELECT 'x', 'y' FROM notes WHERE id = 1`,
      `INSERT INTO users (name, password) SELECT 'x', ${S} FROM notes WHERE id = 1`,
    ],
    [
      `INSERT INTO users (name, password) SELECT 'a', 'b' UNION SELECT 'c', 'd'`,
      `INSERT INTO users (name, password) SELECT ${S}, ${S} UNION SELECT ${S}, ${S}`,
    ],
    [`INSERT INTO users (name, password) SELECT * FROM old WHERE id = 1`, `INSERT INTO users (name, password) SELECT * FROM old WHERE id = ${S}`],
    [`INSERT INTO users SELECT 1, 'n', 'p'`, `INSERT INTO users SELECT 1, 'n', ${S}`],
    [
      `INSERT INTO users (password) VALUES (crypt(crypt('a', 'b'), 'c'))`,
      `INSERT INTO users (password) VALUES (crypt(crypt(${S}, ${S}), ${S}))`,
    ],
    [`INSERT INTO users (name, id) SELECT 'a', 1 UNION SELECT 'c', 2`, `INSERT INTO users (name, id) SELECT 'a', 1 UNION SELECT 'c', 2`],
    [`INSERT INTO notes (id, body) VALUES (1, 'hello')`, `INSERT INTO notes (id, body) VALUES (1, 'hello')`],
  ])('when %s, then the secret columns are masked', (sql, expected) => {
    expect(masked(sql)).toBe(expected);
  });

  it('when the values are bound parameters, then the secret ones are reported', () => {
    expect(params(`INSERT INTO users (name, password, api_token) VALUES ($1, $2, $3), ($4, $5, $6)`)).toEqual([2, 3, 5, 6]);
  });

  it('when the column list is left out, then the table columns give the positions', () => {
    expect(masked(`insert into users values (1, 'bob', 'pw', 'tok')`)).toBe(`insert into users values (1, 'bob', ${S}, ${S})`);
    expect(masked(`insert into public.users values (1, 'bob', 'pw')`)).toBe(`insert into public.users values (1, 'bob', ${S})`);
    expect(findSecretValues(`insert into users values (1, 'bob', 'pw')`, ctx).unknownTables).toEqual([]);
  });

  it('when the table columns are not known, then every value is masked and the table reported', () => {
    const sql = `insert into audit.log values (1, 'x', $1)`;
    const found = findSecretValues(sql, ctx);
    expect(maskSecretLiterals(sql, found.literals).text).toBe(`insert into audit.log values (${S}, ${S}, $1)`);
    expect([...found.params]).toEqual([1]);
    expect(found.unknownTables).toEqual([{ schema: 'audit', table: 'log' }]);
  });

  it('when a row has more values than the known columns, then the order is stale: all masked, table reported', () => {
    const sql = `insert into users values (1, 'bob', 'pw', 'tok', 'extra')`;
    const found = findSecretValues(sql, ctx);
    expect(maskSecretLiterals(sql, found.literals).text).toBe(`insert into users values (${S}, ${S}, ${S}, ${S}, ${S})`);
    expect(found.unknownTables).toEqual([{ table: 'users' }]);
  });

  it('when the INSERT is in a CTE, then it is found', () => {
    expect(masked(`WITH d AS (INSERT INTO users (password) VALUES ('w') RETURNING id) SELECT * FROM d`)).toBe(
      `WITH d AS (INSERT INTO users (password) VALUES (${S}) RETURNING id) SELECT * FROM d`,
    );
  });
});

describe('literal extents', () => {
  it.each([
    [`'x'::text`, `${S}::text`],
    [`CAST('x' AS text)`, `CAST(${S} AS text)`],
    [`interval '1 day'`, `interval ${S}`],
    [`E'it\\'s'`, S],
    [`U&'d!0061' UESCAPE '!'`, S],
    [`$$dollar$$`, S],
    [`$tag$dollar$tag$`, S],
    [`B'101'`, S],
    [`X'ff'`, S],
    [`-1.5`, S],
    [`- 2`, S],
    [`1e5`, S],
    [`'a'\n'b'`, S],
    [`TRUE`, S],
    [`NULL`, `NULL`],
  ])('when the secret value is %s, then the whole literal token is masked', (literal, expected) => {
    expect(masked(`UPDATE users SET password = ${literal} WHERE id = 1`)).toBe(`UPDATE users SET password = ${expected} WHERE id = 1`);
  });

  it('when the text holds control characters or a lone surrogate, then the offsets still hold', () => {
    expect(masked(`select 'a\x01\f' from users where password = 'x'`)).toBe(`select 'a\x01\f' from users where password = ${S}`);
    expect(masked(`select '\ud800' from users where password = 'x'`)).toBe(`select '\ud800' from users where password = ${S}`);
  });

  it('when multibyte text comes before a literal, then the offsets are in UTF-16 units', () => {
    const sql = `/* é € 😀 */ select 'ü' from users where password = 'é€😀x' and name = 'ok'`;
    expect(masked(sql)).toBe(`/* é € 😀 */ select 'ü' from users where password = ${S} and name = 'ok'`);
  });
});

describe('UPDATE and MERGE', () => {
  it.each([
    [
      `UPDATE users SET password = 'p', name = 'n' WHERE name = 'bob'`,
      `UPDATE users SET password = ${S}, name = 'n' WHERE name = 'bob'`,
    ],
    [`UPDATE users SET (name, api_token) = ('n', 't')`, `UPDATE users SET (name, api_token) = ('n', ${S})`],
    [`UPDATE users SET (id, secret) = (SELECT 1, 2)`, `UPDATE users SET (id, secret) = (SELECT ${S}, ${S})`],
    [`UPDATE users SET (id, name) = (SELECT 1, 'x')`, `UPDATE users SET (id, name) = (SELECT 1, 'x')`],
    [`UPDATE users SET info.password = 'p'`, `UPDATE users SET info.password = ${S}`],
    [
      `MERGE INTO users u USING src s ON u.id = s.id WHEN MATCHED AND u.api_token = 'z' THEN UPDATE SET password = 'a', name = 'k' ` +
        `WHEN NOT MATCHED THEN INSERT (id, password) VALUES (1, 'b') WHEN NOT MATCHED BY SOURCE THEN DELETE`,
      `MERGE INTO users u USING src s ON u.id = s.id WHEN MATCHED AND u.api_token = ${S} THEN UPDATE SET password = ${S}, name = 'k' ` +
        `WHEN NOT MATCHED THEN INSERT (id, password) VALUES (1, ${S}) WHEN NOT MATCHED BY SOURCE THEN DELETE`,
    ],
    [
      `MERGE INTO users USING src ON true WHEN NOT MATCHED THEN INSERT VALUES (1, 'n', 'p', 't')`,
      `MERGE INTO users USING src ON true WHEN NOT MATCHED THEN INSERT VALUES (1, 'n', ${S}, ${S})`,
    ],
  ])('when %s, then the secret assignments are masked', (sql, expected) => {
    expect(masked(sql)).toBe(expected);
  });

  it('when MERGE inserts into a table of unknown columns, then that clause is masked and the table reported', () => {
    const sql = `MERGE INTO acct USING src ON true WHEN NOT MATCHED THEN INSERT VALUES (1, 'n')`;
    expect(masked(sql)).toBe(`MERGE INTO acct USING src ON true WHEN NOT MATCHED THEN INSERT VALUES (${S}, ${S})`);
    expect(findSecretValues(sql, ctx).unknownTables).toEqual([{ table: 'acct' }]);
  });
});

describe('comparisons', () => {
  it.each([
    [`SELECT * FROM users WHERE password = 'p'`, `SELECT * FROM users WHERE password = ${S}`],
    [`SELECT * FROM users WHERE 'p' = u.password`, `SELECT * FROM users WHERE ${S} = u.password`],
    [`SELECT * FROM users WHERE name = 'bob'`, `SELECT * FROM users WHERE name = 'bob'`],
    [`DELETE FROM users WHERE api_token <> 't' AND id = 3`, `DELETE FROM users WHERE api_token <> ${S} AND id = 3`],
    [`SELECT 1 WHERE lower(password) IN ('a', 'b')`, `SELECT 1 WHERE lower(password) IN (${S}, ${S})`],
    [`SELECT 1 WHERE password BETWEEN 'a' AND 'b'`, `SELECT 1 WHERE password BETWEEN ${S} AND ${S}`],
    [`SELECT 1 WHERE token = ANY(ARRAY['a', 'b'])`, `SELECT 1 WHERE token = ANY(ARRAY[${S}, ${S}])`],
    [`SELECT 1 WHERE password::text COLLATE "C" LIKE 'h%'`, `SELECT 1 WHERE password::text COLLATE "C" LIKE ${S}`],
    [`SELECT 1 WHERE secret IS DISTINCT FROM 'x'`, `SELECT 1 WHERE secret IS DISTINCT FROM ${S}`],
    [`SELECT 1 WHERE secret SIMILAR TO 'x%'`, `SELECT 1 WHERE secret SIMILAR TO ${S}`],
    [`SELECT 1 WHERE (name, password) = ('n', 'p')`, `SELECT 1 WHERE (name, password) = ('n', ${S})`],
    [`SELECT 1 WHERE password IN (SELECT 'p')`, `SELECT 1 WHERE password IN (SELECT ${S})`],
    [`SELECT CASE password WHEN 'p' THEN 'yes' END FROM users`, `SELECT CASE password WHEN ${S} THEN 'yes' END FROM users`],
    [`SELECT password = 'p' AS ok FROM users`, `SELECT password = ${S} AS ok FROM users`],
    [`SELECT 1 FROM a JOIN b ON b.ssn = 'x' HAVING max(b.secret) > 'y'`, `SELECT 1 FROM a JOIN b ON b.ssn = ${S} HAVING max(b.secret) > ${S}`],
    [
      `SELECT 1 FROM users, LATERAL (SELECT 1 FROM x WHERE x.token = 'l') l WHERE EXISTS (SELECT 1 WHERE secret = 'e')`,
      `SELECT 1 FROM users, LATERAL (SELECT 1 FROM x WHERE x.token = ${S}) l WHERE EXISTS (SELECT 1 WHERE secret = ${S})`,
    ],
  ])('when %s, then the compared values are masked', (sql, expected) => {
    expect(masked(sql)).toBe(expected);
  });

  it('when a secret column is compared with parameters, then they are reported', () => {
    expect(params(`SELECT 1 FROM users u JOIN t ON t.password = $3 WHERE name = $1 AND secret IN ($2, $4)`)).toEqual([2, 3, 4]);
  });

  it('when the comparison is under EXPLAIN, then it is found', () => {
    expect(params(`EXPLAIN ANALYZE DELETE FROM users WHERE password = $1`)).toEqual([1]);
  });
});

describe('functions that take keys and passwords', () => {
  it.each([
    [`SELECT crypt('pw', salt) FROM users`, `SELECT crypt(${S}, salt) FROM users`],
    [`SELECT pgp_sym_encrypt('data', 'key', 'cipher-algo=aes256')`, `SELECT pgp_sym_encrypt(${S}, ${S}, 'cipher-algo=aes256')`],
    [`SELECT pgp_sym_decrypt(c, 'key') FROM t`, `SELECT pgp_sym_decrypt(c, ${S}) FROM t`],
    [`SELECT pgp_sym_decrypt_bytea(c, psw => 'key') FROM t`, `SELECT pgp_sym_decrypt_bytea(c, psw => ${S}) FROM t`],
    [`SELECT pgp_sym_decrypt(c, foo => 'x', bar => 'y') FROM t`, `SELECT pgp_sym_decrypt(c, foo => ${S}, bar => ${S}) FROM t`],
    [`SELECT pgp_pub_encrypt('data', dearmor('pub'))`, `SELECT pgp_pub_encrypt(${S}, dearmor('pub'))`],
    [`SELECT pgp_pub_decrypt(m, dearmor('k'), 'pw') FROM t`, `SELECT pgp_pub_decrypt(m, dearmor(${S}), ${S}) FROM t`],
    [`SELECT hmac('data', 'key', 'sha256')`, `SELECT hmac('data', ${S}, 'sha256')`],
    [`SELECT public.encrypt('data', 'key', 'aes')`, `SELECT public.encrypt(${S}, ${S}, 'aes')`],
    [`SELECT decrypt_iv(x, 'key', 'iv', 'aes') FROM t`, `SELECT decrypt_iv(x, ${S}, 'iv', 'aes') FROM t`],
    [`SELECT dblink_connect('c1', 'host=h password=p')`, `SELECT dblink_connect('c1', ${S})`],
    [`SELECT dblink_connect('dbname=x')`, `SELECT dblink_connect(${S})`],
    [
      `SELECT * FROM dblink('host=h password=p', 'select a where b = 1') AS t(a int)`,
      `SELECT * FROM dblink(${S}, 'select a where b = 1') AS t(a int)`,
    ],
    [`SELECT dblink_exec('postgresql://u:p@h/db', 'x')`, `SELECT dblink_exec(${S}, 'x')`],
    [`SELECT * FROM dblink('c1', 'select 2') AS t(a int)`, `SELECT * FROM dblink('c1', 'select 2') AS t(a int)`],
    [`SELECT pg_catalog.set_config('my.api_key', 'v', false)`, `SELECT pg_catalog.set_config('my.api_key', ${S}, false)`],
    [
      `SELECT set_config(setting_name => 'x.token', new_value => 'w', is_local => true)`,
      `SELECT set_config(setting_name => 'x.token', new_value => ${S}, is_local => true)`,
    ],
    [`SELECT set_config('search_path', 'p', false)`, `SELECT set_config('search_path', 'p', false)`],
  ])('when %s, then the secret arguments are masked', (sql, expected) => {
    expect(masked(sql)).toBe(expected);
  });

  it('when a secret argument is a parameter, then it is reported', () => {
    expect(params(`SELECT crypt($1, gen_salt($2)), dblink_exec($3, $4), hmac($5, $6, 'sha1')`)).toEqual([1, 3, 6]);
  });
});

describe('settings and options', () => {
  it.each([
    [`SET SESSION my.api_key TO 'k'`, `SET SESSION my.api_key TO ${S}`],
    [`SET x.token = 1`, `SET x.token = ${S}`],
    [`SET work_mem = '4MB'`, `SET work_mem = '4MB'`],
    [`ALTER SYSTEM SET my.secret = 's'`, `ALTER SYSTEM SET my.secret = ${S}`],
    [`ALTER ROLE bob SET my.password = 's'`, `ALTER ROLE bob SET my.password = ${S}`],
    [`ALTER DATABASE d SET my.key TO 'q'`, `ALTER DATABASE d SET my.key TO ${S}`],
    [
      `CREATE USER MAPPING FOR bob SERVER s OPTIONS (user 'x', password 'y')`,
      `CREATE USER MAPPING FOR bob SERVER s OPTIONS (user 'x', password ${S})`,
    ],
    [
      `ALTER USER MAPPING FOR bob SERVER s OPTIONS (SET password 'z', DROP x)`,
      `ALTER USER MAPPING FOR bob SERVER s OPTIONS (SET password ${S}, DROP x)`,
    ],
    [
      `CREATE SERVER s FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host 'h', sslkey 'k')`,
      `CREATE SERVER s FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host 'h', sslkey ${S})`,
    ],
    [`CREATE ROLE x PASSWORD 'y' VALID UNTIL '2030-01-01'`, `CREATE ROLE x PASSWORD ${S} VALID UNTIL '2030-01-01'`],
    [`ALTER USER x WITH ENCRYPTED PASSWORD 'y'`, `ALTER USER x WITH ENCRYPTED PASSWORD ${S}`],
    [`CREATE USER z PASSWORD NULL`, `CREATE USER z PASSWORD NULL`],
    [
      `CREATE SUBSCRIPTION s CONNECTION 'host=h password=p' PUBLICATION p`,
      `CREATE SUBSCRIPTION s CONNECTION ${S} PUBLICATION p`,
    ],
  ])('when %s, then the secret value is masked', (sql, expected) => {
    expect(masked(sql)).toBe(expected);
  });
});

describe('PREPARE and EXECUTE', () => {
  it('when a statement is prepared, then its secret parameters are returned for later', () => {
    const found = findSecretValues(`PREPARE add(text, text) AS INSERT INTO users (name, password) VALUES ($1, $2)`, ctx);
    expect(found.prepared).toEqual({ name: 'add', params: new Set([2]) });
    expect(found.preparedStatements).toEqual([found.prepared]);
    expect(found.params.size).toBe(0);
  });

  it('when a prepared query holds a literal in a secret place, then it is masked too', () => {
    expect(masked(`PREPARE q AS SELECT 1 FROM users WHERE password = 'p' AND id = $1`)).toBe(
      `PREPARE q AS SELECT 1 FROM users WHERE password = ${S} AND id = $1`,
    );
  });

  it('when a known prepared statement is executed, then its secret arguments are masked', () => {
    expect(masked(`EXECUTE add_user('bob', 'pw')`)).toBe(`EXECUTE add_user('bob', ${S})`);
    expect(params(`EXECUTE add_user($1, $2)`)).toEqual([2]);
    expect(masked(`EXECUTE other('bob', 'pw')`)).toBe(`EXECUTE other('bob', 'pw')`);
  });

  it('when the context knows no prepared statements, then EXECUTE is left alone', () => {
    const { preparedParams: _, ...withoutPrepared } = ctx;
    expect(masked(`EXECUTE add_user('bob', 'pw')`, withoutPrepared)).toBe(`EXECUTE add_user('bob', 'pw')`);
  });

  it('when a string prepares then executes, then the EXECUTE uses that PREPARE', () => {
    const sql = `PREPARE a AS SELECT 1 FROM users WHERE token = $1; PREPARE b AS SELECT $1; EXECUTE a('t'); EXECUTE b('x')`;
    const found = findSecretValues(sql, ctx);
    expect(maskSecretLiterals(sql, found.literals).text).toBe(
      `PREPARE a AS SELECT 1 FROM users WHERE token = $1; PREPARE b AS SELECT $1; EXECUTE a(${S}); EXECUTE b('x')`,
    );
    expect(found.prepared).toEqual({ name: 'b', params: new Set() });
    expect(found.preparedStatements?.map((p) => p.name)).toEqual(['a', 'b']);
  });
});

describe('COPY', () => {
  const spec = (sql: string) => findSecretValues(sql, ctx).copy;

  it('when COPY FROM STDIN names its columns, then they give the secret fields', () => {
    expect(spec(`COPY users (id, password) FROM STDIN`)).toEqual({
      direction: 'in',
      format: 'text',
      delimiter: '\t',
      quote: '"',
      escape: '"',
      header: false,
      secretFields: [false, true],
    });
  });

  it('when the options are given in the new syntax, then they are read', () => {
    expect(spec(`COPY public.users (id, password) FROM STDIN WITH (FORMAT csv, DELIMITER ';', QUOTE '''', ESCAPE '\\', HEADER, NULL 'x')`)).toEqual({
      direction: 'in',
      format: 'csv',
      delimiter: ';',
      quote: "'",
      escape: '\\',
      header: true,
      nullString: 'x',
      secretFields: [false, true],
    });
    expect(spec(`COPY users TO STDOUT (FORMAT text, HEADER false)`)?.header).toBe(false);
    expect(spec(`COPY users TO STDOUT (FORMAT csv, HEADER match)`)?.header).toBe(true);
    expect(spec(`COPY users TO STDOUT (FORMAT binary)`)?.format).toBe('binary');
  });

  it('when the options are given in the old syntax, then they are read', () => {
    expect(spec(`COPY users FROM STDIN WITH CSV HEADER DELIMITER ';'`)).toEqual({
      direction: 'in',
      format: 'csv',
      delimiter: ';',
      quote: '"',
      escape: '"',
      header: true,
      secretFields: [false, false, true, true],
      fromCatalog: true,
    });
  });

  it('when the table columns are not known, then every field is secret and the table reported', () => {
    const found = findSecretValues(`COPY audit.log TO STDOUT`, ctx);
    expect(found.copy?.direction).toBe('out');
    expect(found.copy?.secretFields).toBeNull();
    expect(found.unknownTables).toEqual([{ schema: 'audit', table: 'log' }]);
  });

  it.each([
    [`COPY (SELECT id, password AS p, u.api_token, lower(secret) AS l, name FROM users u) TO STDOUT`, [false, true, true, true, false]],
    [`COPY (SELECT u.*, 1 FROM users u) TO STDOUT`, [false, false, true, true, false]],
    [`COPY (SELECT name FROM users UNION ALL SELECT password FROM users) TO STDOUT`, [true]],
    [`COPY (DELETE FROM users WHERE id = 1 RETURNING *) TO STDOUT`, [false, false, true, true]],
    [`COPY (SELECT * FROM users JOIN notes ON true) TO STDOUT`, [false, false, true, true, false, false]],
    [`COPY (SELECT * FROM users JOIN audit.log ON true) TO STDOUT`, null],
    [`COPY (VALUES (1)) TO STDOUT`, [false]],
    [`COPY (SELECT * FROM generate_series(1, 3)) TO STDOUT`, null],
  ])('when the data comes from a query (%s), then its target list gives the secret fields', (sql, expected) => {
    expect(spec(sql)?.secretFields).toEqual(expected);
  });

  it('when the COPY reads or writes a file or a program, then there is no data on the wire', () => {
    expect(spec(`COPY users TO '/tmp/users'`)).toBeUndefined();
    expect(spec(`COPY users FROM PROGRAM 'cat x'`)).toBeUndefined();
  });

  it('when the COPY query compares a secret column, then the value is masked', () => {
    expect(masked(`COPY (SELECT id FROM users WHERE password = 'p') TO STDOUT`)).toBe(`COPY (SELECT id FROM users WHERE password = ${S}) TO STDOUT`);
  });
});

describe('DDL', () => {
  it.each([
    `CREATE TABLE t (a int)`,
    `ALTER TABLE users ADD COLUMN b int`,
    `ALTER TABLE users RENAME COLUMN a TO b`,
    `DROP TABLE users`,
    `DROP SCHEMA s CASCADE`,
    `CREATE TABLE t2 AS SELECT 1`,
    `SELECT * INTO t2 FROM users`,
    `ALTER TABLE users SET SCHEMA s2`,
    `SET search_path = app, public`,
    `select 1; alter table users drop column name`,
  ])('when %s, then the column orders may have changed', (sql) => {
    expect(findSecretValues(sql, ctx).changesColumns).toBe(true);
  });

  it.each([`SELECT 1`, `INSERT INTO notes VALUES (1, 'x')`, `SET work_mem = '4MB'`, `ALTER ROLE bob SET search_path = x`])(
    'when %s, then they have not',
    (sql) => {
      expect(findSecretValues(sql, ctx).changesColumns).toBe(false);
    },
  );
});

describe('several statements', () => {
  it('when a string holds several statements, then each is analysed', () => {
    const sql = `INSERT INTO users (name, password) VALUES ('a', 'p'); SELECT 'x' FROM notes; UPDATE users SET api_token = 't' WHERE id = 2`;
    expect(masked(sql)).toBe(`INSERT INTO users (name, password) VALUES ('a', ${S}); SELECT 'x' FROM notes; UPDATE users SET api_token = ${S} WHERE id = 2`);
  });
});

describe('when the parser refuses the text', () => {
  it('when it names a secret column, then every constant and parameter is masked', () => {
    const sql = `insert into users (name, password) values ('a', -1, $2`;
    const found = findSecretValues(sql, ctx);
    expect(maskSecretLiterals(sql, found.literals).text).toBe(`insert into users (name, password) values (${S}, -${S}, $2`);
    expect([...found.params]).toEqual([2]);
  });

  it('when it names a secret function, then every constant is masked', () => {
    expect(masked(`selec crypt('pw', 'salt')`)).toBe(`selec crypt(${S}, ${S})`);
  });

  it('when it names nothing secret, then nothing is masked', () => {
    expect(masked(`selec 'a', 1 from notes`)).toBe(`selec 'a', 1 from notes`);
  });

  it('when even the scanner refuses it (an unterminated string), then every quoted run is masked', () => {
    expect(masked(`select 'it''s', E'a\\'b', 'open`)).toBe(`select ${S}, E${S}, ${S}`);
  });

  it('when the text is empty or only a comment, then nothing is found', () => {
    expect(findSecretValues('', ctx).literals).toEqual([]);
    expect(findSecretValues('-- nothing', ctx).literals).toEqual([]);
  });
});

describe('maskSecretLiterals', () => {
  it('when given spans, then it replaces each and counts them', () => {
    expect(maskSecretLiterals(`a 'x' b 'y'`, [[2, 5], [8, 11]])).toEqual({ text: `a ${S} b ${S}`, count: 2 });
    expect(maskSecretLiterals(`nothing`, [])).toEqual({ text: `nothing`, count: 0 });
  });
});

describe('mayHoldSecretValues', () => {
  it.each([
    `SELECT * FROM t WHERE PassWord = 'x'`,
    `insert into notes values (1)`,
    `COPY notes FROM STDIN`,
    `select pgp_sym_decrypt(c, 'k')`,
    `select crypt('a', 'b')`,
    `SELECT set_config('a', 'b', false)`,
    `SET my.token = 'x'`,
    `EXECUTE p(1)`,
    `drop table t`,
    `INSERT INTO s.t AS x (a) VALUES (1); INSERT INTO u VALUES (2)`,
    `INSERT /* c */ INTO t (a) VALUES (1)`,
    `INSERT INTO t SELECT 1`,
  ])('when %s, then it may', (sql) => {
    expect(mayHoldSecretValues(sql, NEEDLES)).toBe(true);
  });

  it.each([
    `SELECT id, name FROM notes WHERE id = 1`,
    `UPDATE notes SET body = 'x' WHERE id = 2`,
    `DELETE FROM notes`,
    // Columns listed and none of them secret: what pgbench's TPC-B-like script inserts.
    `INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (5, 1, 55, -1234, CURRENT_TIMESTAMP)`,
    `insert into "My T" ("a") values (1)`,
  ])(
    'when %s, then it cannot',
    (sql) => {
      expect(mayHoldSecretValues(sql, NEEDLES)).toBe(false);
    },
  );

  it('when a needle holds regex characters, then it is matched literally', () => {
    expect(mayHoldSecretValues(`select a.b from t`, ['a.b'])).toBe(true);
    expect(mayHoldSecretValues(`select axb from t`, ['a.b'])).toBe(false);
  });
});

describe('temporary tables the string creates', () => {
  it('when CREATE TEMP TABLE lists its columns, then their order is reported and no cached column order is forgotten', () => {
    const values = findSecretValues('CREATE TEMP TABLE t (id int PRIMARY KEY, note text, password text, CHECK (id > 0))', ctx);
    expect(values.temporaryTables).toEqual([{ table: 't', columns: ['id', 'note', 'password'] }]);
    expect(values.changesColumns).toBe(false);
  });

  it.each(['CREATE TEMP TABLE t (LIKE users)', 'CREATE TEMP TABLE t () INHERITS (users)', 'CREATE TABLE t (id int, password text)'])(
    'when %j does not list a temporary table\'s own columns, then none is reported',
    (sql) => {
      expect(findSecretValues(sql, ctx).temporaryTables).toBeUndefined();
    },
  );
});
