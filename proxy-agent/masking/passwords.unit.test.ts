import { describe, expect, it } from 'vitest';
import { defaultMasker } from './test-support.ts';

const masker = defaultMasker();
const mask = (text: string) => masker.maskText(text);

describe('CONN_PASSWORD', () => {
  it.each([
    ['postgres://app:s3cr3t@db.example.com:5432/app', 'postgres://app:[CONN_PASSWORD]@db.example.com:5432/app'],
    ['postgresql://app:p%40ss@h1,h2/db?sslmode=require', 'postgresql://app:[CONN_PASSWORD]@h1,h2/db?sslmode=require'],
    ['mysql://root:toor@127.0.0.1/mysql', 'mysql://root:[CONN_PASSWORD]@127.0.0.1/mysql'],
    ['redis://:r3d1s@cache:6379/0', 'redis://:[CONN_PASSWORD]@cache:6379/0'],
    ['amqp://guest:guest@mq/vhost', 'amqp://guest:[CONN_PASSWORD]@mq/vhost'],
    ['mongodb+srv://u:pa@ss/w@cluster0.example.net/db', 'mongodb+srv://u:[CONN_PASSWORD]@cluster0.example.net/db'],
  ])('when a URI carries a password (%s), then only the password is masked', (text, expected) => {
    expect(mask(text)).toEqual({ text: expected, counts: { CONN_PASSWORD: 1 } });
  });

  it.each([
    ["host=db user=app password=hunter2 dbname=app", 'host=db user=app password=[CONN_PASSWORD] dbname=app'],
    ["host=db password='with space\\'s' port=5432", "host=db password='[CONN_PASSWORD]' port=5432"],
    ['PGPASSWORD=hunter2 psql', 'PGPASSWORD=[CONN_PASSWORD] psql'],
    ['{"password": "hunter2"}', '{"password": "[CONN_PASSWORD]"}'],
    ["update users set password = 'it''s' where id = 1", "update users set password = '[CONN_PASSWORD]' where id = 1"],
  ])('when a key/value string carries a password (%s), then only the value is masked', (text, expected) => {
    expect(mask(text).text).toBe(expected);
  });

  it.each([
    'postgres://app@db/app', 'https://example.com:8443/path', 'password_hash = $1', 'forgot your password?',
    // A quote that is not closed on its line is no value (a shell prompt, not a secret).
    'read -s -p "Password: "; echo; echo done\r\nsaved\r\n$ ',
    "echo 'password: '\nnext line",
    'Password: \r\ngot-13\r\n',
  ])(
    'when %j carries no password, then it is left alone',
    (text) => {
      expect(mask(text)).toEqual({ text, counts: null });
    },
  );
});

describe('CONN_PASSWORD with other assignment operators', () => {
  it.each([
    ["$config = ['password' => 'hunter2'];", "$config = ['password' => '[CONN_PASSWORD]'];"],
    ['password := hunter2', 'password := [CONN_PASSWORD]'],
    ['db:\n  password: |\n    hunter2\n  user: app', 'db:\n  password: |\n    [CONN_PASSWORD]\n  user: app'],
    ['password: >-\n  hunter2', 'password: >-\n  [CONN_PASSWORD]'],
  ])('when %j assigns a password, then the password is masked, not the operator', (text, expected) => {
    expect(mask(text)).toEqual({ text: expected, counts: { CONN_PASSWORD: 1 } });
  });
});

describe('ROLE_PASSWORD', () => {
  it.each([
    ["CREATE ROLE alice LOGIN PASSWORD 'x'", "CREATE ROLE alice LOGIN PASSWORD '[ROLE_PASSWORD]'"],
    ["create user bob with password 'Tr0ub4dor&3';", "create user bob with password '[ROLE_PASSWORD]';"],
    ["ALTER USER bob WITH ENCRYPTED PASSWORD 'x'", "ALTER USER bob WITH ENCRYPTED PASSWORD '[ROLE_PASSWORD]'"],
    ["ALTER ROLE \"Bob\" PASSWORD 'it''s mine' VALID UNTIL '2030-01-01'", "ALTER ROLE \"Bob\" PASSWORD '[ROLE_PASSWORD]' VALID UNTIL '2030-01-01'"],
    ["alter role bob password E'a\\'b\\\\c'", "alter role bob password E'[ROLE_PASSWORD]'"],
    ['CREATE ROLE c PASSWORD $$dollar$$', 'CREATE ROLE c PASSWORD $$[ROLE_PASSWORD]$$'],
    ['CREATE ROLE c PASSWORD $pw$a$$b$pw$ LOGIN', 'CREATE ROLE c PASSWORD $pw$[ROLE_PASSWORD]$pw$ LOGIN'],
    ["CREATE ROLE d PASSWORD\n  'multi\nline'", "CREATE ROLE d PASSWORD\n  '[ROLE_PASSWORD]'"],
  ])('when %j sets a password, then only the literal content is masked', (sql, expected) => {
    expect(mask(sql)).toEqual({ text: expected, counts: { ROLE_PASSWORD: 1 } });
  });

  it('when the statement is cut off inside the literal, then the rest of the text is masked', () => {
    expect(mask("CREATE ROLE e PASSWORD 'abc").text).toBe("CREATE ROLE e PASSWORD '[ROLE_PASSWORD]");
  });

  it.each(["ALTER ROLE f PASSWORD NULL", "CREATE ROLE g WITH LOGIN", "select password from users"])(
    'when %j carries no password literal, then it is left alone',
    (sql) => {
      expect(mask(sql)).toEqual({ text: sql, counts: null });
    },
  );
});
