// Client masking (masking.client: true) leaves no path around it: COPY ... TO STDOUT (psql's COPY
// and \copy, text and CSV) reaches the client masked and still parses, a binary COPY of a covered
// column is refused with a clear error and the session goes on, and casts and encodings of a
// masked value (bytea, hex, base64, whole rows as JSON or text) are masked whole. Through the
// real psql and node-postgres; the recording (store and Redis) is read back to hold nothing in
// clear, nor in an encoding, either.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { QueryConfig } from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startHarness, type Harness } from '../support/agent-harness.ts';
import { captureRedis, type RedisCapture } from '../support/redis-capture.ts';

const RAW = {
  email: 'grace.hopper@navy.example.com',
  email2: 'ada.lovelace@example.org',
  card: '4111 1111 1111 1111',
  card2: '5500 0000 0000 0004',
  ssn: '123-45-6789',
  ssn2: '078-05-1120',
  token: 'tok_live_8c1f2a9b7d',
};

/** Every raw value and the encodings a query could turn it into. */
const FORBIDDEN = Object.entries(RAW).flatMap(([name, value]) => [
  [name, value],
  [`${name} in hex`, Buffer.from(value).toString('hex')],
  [`${name} in base64`, Buffer.from(value).toString('base64').replace(/=+$/, '')],
]);

/** A note with every character COPY escapes or quotes, around an address. */
const NOTE = `tab\there, "quoted", back\\slash\nnew line, mail ${RAW.email} ok`;
const MASKED_NOTE = NOTE.replace(RAW.email, '[EMAIL]');
const sqlString = (s: string) => `E'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\t/g, '\\t').replace(/\n/g, '\\n')}'`;

// `card` is no column rule (card_number is): its values are masked by what they look like.
const SEED = `
  CREATE TABLE people (id int, email text, card text, note text, ssn text, api_token text);
  INSERT INTO people VALUES
    (1, '${RAW.email}', '${RAW.card}', ${sqlString(NOTE)}, '${RAW.ssn}', '${RAW.token}'),
    (2, '${RAW.email2}', '${RAW.card2}', 'plain, note', '${RAW.ssn2}', 'tok_2'),
    (3, NULL, NULL, NULL, NULL, NULL);
  CREATE TABLE people_back (LIKE people);
`;

function expectNothingInClear(text: string, where: string): void {
  for (const [name, value] of FORBIDDEN) expect(text, `${name} in ${where}`).not.toContain(value);
}

describe('client masking leaves no path around it', () => {
  let h: Harness;
  let redis: RedisCapture;
  let tmp: string;
  /** Sessions opened through the agent, to wait for all of them to be stored. */
  let opened = 0;
  const psql = (args: string[], opts?: { input?: string }) => {
    opened++;
    return h.psql(args, opts);
  };
  beforeAll(async () => {
    h = await startHarness({ postgresUrl: inject('postgresUrl'), redisUrl: inject('redisUrl'), seed: SEED, target: { masking: { client: true } } });
    redis = await captureRedis(inject('redisUrl'), h.keyPrefix);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-leaks-'));
  });
  afterAll(async () => {
    fs.rmSync(tmp, { recursive: true, force: true });
    await redis?.close();
    await h?.stop();
  });

  /** Loads COPY data into people_back straight into PostgreSQL (not through the agent): the server's own parser reads it. */
  async function loadBack(data: string, columns: string, options = ''): Promise<Record<string, string | null>[]> {
    await direct(['-c', 'TRUNCATE people_back']);
    const loaded = await direct(['-c', `COPY people_back (${columns}) FROM STDIN ${options}`], data);
    expect(loaded.stderr).toBe('');
    const rows = await direct(['-At', '-F', '\x1f', '-R', '\x1e', '-c', `SELECT ${columns} FROM people_back ORDER BY id`]);
    const names = columns.split(', ');
    return rows.stdout.replace(/\x1e?\n?$/, '').split('\x1e').map((line) => {
      const values = line.split('\x1f');
      return Object.fromEntries(names.map((n, i) => [n, values[i] === '' ? null : values[i]]));
    });
  }

  function direct(args: string[], input = ''): Promise<{ stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      const child = spawn('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', h.directUrl, ...args]);
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('close', () => resolve({ stdout, stderr }));
      child.stdin.end(input);
    });
  }

  it('when psql runs COPY people TO STDOUT, then the client gets masked rows that PostgreSQL parses back with the other columns intact', async () => {
    const r = await psql(['-c', 'COPY people TO STDOUT']);
    expect(r.stderr).toBe('');
    expectNothingInClear(r.stdout, 'the client output');
    const back = await loadBack(r.stdout, 'id, email, card, note, ssn, api_token');
    expect(back).toEqual([
      { id: '1', email: '[EMAIL]', card: '[CARD]', note: MASKED_NOTE, ssn: '[SECRET_COLUMN]', api_token: '[SECRET_COLUMN]' },
      { id: '2', email: '[EMAIL]', card: '[CARD]', note: 'plain, note', ssn: '[SECRET_COLUMN]', api_token: '[SECRET_COLUMN]' },
      { id: '3', email: null, card: null, note: null, ssn: null, api_token: null },
    ]);
  });

  it('when psql runs COPY (query) TO STDOUT as CSV with a header, then the CSV is masked and parses', async () => {
    const r = await psql(['-c', 'COPY (SELECT id, email, note, ssn AS x FROM people ORDER BY id) TO STDOUT WITH (FORMAT csv, HEADER)']);
    expect(r.stderr).toBe('');
    expectNothingInClear(r.stdout, 'the client output');
    expect(r.stdout.split('\n')[0]).toBe('id,email,note,x');
    const back = await loadBack(r.stdout, 'id, email, note, ssn', 'WITH (FORMAT csv, HEADER)');
    expect(back).toEqual([
      { id: '1', email: '[EMAIL]', note: MASKED_NOTE, ssn: '[SECRET_COLUMN]' },
      { id: '2', email: '[EMAIL]', note: 'plain, note', ssn: '[SECRET_COLUMN]' },
      { id: '3', email: null, note: null, ssn: null },
    ]);
  });

  it('when psql runs \\copy to stdout and to a file, then both are masked', async () => {
    const file = path.join(tmp, 'people.csv');
    const r = await psql(['-q'], { input: `\\copy people to stdout\n\\copy (select id, email, card, note from people order by id) to '${file}' with csv\n` });
    expect(r.stderr).toBe('');
    expectNothingInClear(r.stdout, 'the client output');
    const written = fs.readFileSync(file, 'utf8');
    expectNothingInClear(written, 'the file psql wrote');
    const back = await loadBack(written, 'id, email, card, note', 'WITH (FORMAT csv)');
    expect(back.map((row) => row.note)).toEqual([MASKED_NOTE, 'plain, note', null]);
    expect(back.map((row) => row.card)).toEqual(['[CARD]', '[CARD]', null]);
  });

  it('when a COPY row is larger than a message the agent holds whole, then it streams through masked', async () => {
    const r = await psql(['-c', `COPY (SELECT i, repeat('x', 3000000) || ' mail ${RAW.email}' FROM generate_series(1, 3) i) TO STDOUT`]);
    expect(r.stderr).toBe('');
    expectNothingInClear(r.stdout, 'the client output');
    const lines = r.stdout.split('\n');
    expect(lines.slice(0, 3).map((line) => [line.length, line.endsWith(' mail [EMAIL]')])).toEqual([1, 2, 3].map(() => [2 + 3000000 + 13, true]));
  });

  it('when psql copies into a table through the agent, then the data arrives as sent', async () => {
    await direct(['-c', 'TRUNCATE people_back']);
    const r = await psql(['-q'], { input: `\\copy people_back (id, note) from stdin\n7\t${RAW.email}\n\\.\n` });
    expect(r.stderr).toBe('');
    expect((await direct(['-At', '-c', 'SELECT id, note FROM people_back'])).stdout).toBe(`7|${RAW.email}\n`);
  });

  it('when a COPY\'s data comes encoded, then each encoded value is masked whole', async () => {
    const r = await psql(['-c', "COPY (SELECT id, encode(convert_to(email, 'UTF8'), 'base64'), ssn::bytea, card::bytea FROM people ORDER BY id) TO STDOUT"]);
    expect(r.stderr).toBe('');
    expectNothingInClear(r.stdout, 'the client output');
    expect(r.stdout).toBe('1\t[EMAIL]\t[SECRET_COLUMN]\t[CARD]\n2\t[EMAIL]\t[SECRET_COLUMN]\t[CARD]\n3\t\\N\t\\N\t\\N\n');
  });

  it('when a binary COPY would copy a covered column, then it is refused with why and what to do, and the next statement on the connection works', async () => {
    const r = await psql(['-At'], { input: 'COPY people TO STDOUT (FORMAT binary);\nselect 42;\n' });
    expect(r.stderr).toContain('ERROR:  Vigil client masking refused COPY ... TO STDOUT in binary format: column "ssn" is covered by the masking rule "ssn"');
    expect(r.stderr).toContain('HINT:  The statement did not run. Use COPY ... TO STDOUT (FORMAT text) or (FORMAT csv)');
    expect(r.stdout).toBe('42\n');
    expectNothingInClear(r.stdout, 'the client output');
    const derived = await psql(['-At'], { input: "\\copy (select id, encode(ssn::bytea, 'hex') as h from people) to stdout with binary\nselect 'still here';\n" });
    expect(derived.stderr).toContain('column "h" comes from a column a masking rule covers');
    expect(derived.stdout).toBe('still here\n');
  });

  it('when a binary COPY copies no covered column, then it runs, and a value a detector finds anything in is NULL', async () => {
    const r = await psql(['-c', 'COPY (SELECT id, note, email FROM people ORDER BY id) TO STDOUT (FORMAT binary)']);
    expect(r.stderr).toBe('');
    expectNothingInClear(r.stdout, 'the client output');
    expect(r.stdout).toContain('PGCOPY');
    expect(r.stdout).toContain('plain, note');
  });

  it.each([
    ['select ssn::bytea from people order by id', '[SECRET_COLUMN]'],
    ["select encode(ssn::bytea, 'hex') from people order by id", '[SECRET_COLUMN]'],
    ["select encode(convert_to(email, 'UTF8'), 'base64') from people order by id", '[EMAIL]'],
    ["select encode(card::bytea, 'hex') as h from people order by id", '[CARD]'],
    ['select email::bytea, card::bytea from people order by id', '[EMAIL]|[CARD]'],
    ['select to_jsonb(p) from people p order by id', '[SECRET_COLUMN]'],
    ['select row_to_json(p) from people p order by id', '[SECRET_COLUMN]'],
    ['select p::text from people p order by id', '[SECRET_COLUMN]'],
    ['select x from (select encode(email::bytea, \'base64\') as x, id from people) s order by id', '[EMAIL]'],
  ])('when psql reads %s, then the value is masked whole', async (sql, marker) => {
    const r = await psql(['-At', '-c', sql]);
    expect(r.stderr).toBe('');
    expectNothingInClear(r.stdout, 'the client output');
    expect(r.stdout.split('\n').slice(0, 2)).toEqual([marker, marker]);
  });

  it('when node-postgres reads casts in binary format, then a masked value is NULL and the rest decodes', async () => {
    opened++;
    const c = await h.client();
    try {
      // With a parameter node-postgres takes the extended protocol, where `binary` asks for binary results.
      const text = "select id, email::bytea as e, encode(convert_to(note, 'UTF8'), 'base64') as n from people where id > $1 order by id";
      // (`binary` is a node-postgres option its types do not declare.)
      const { rows, fields } = await c.query({ text, values: [0], binary: true } as QueryConfig<number[]>);
      expect(fields.map((f) => f.format)).toEqual(['binary', 'binary', 'binary']);
      expect(rows.map((row) => [row.id, row.e, String(row.n)])).toEqual([
        [1, null, '[EMAIL]'],
        [2, null, Buffer.from('plain, note').toString('base64')],
        [3, null, 'null'],
      ]);
    } finally {
      await c.end();
    }
  });

  it('when all of this ran, then the recording holds nothing in clear or encoded either', async () => {
    await h.waitForEnded(opened);
    const stored = JSON.stringify(await h.sessions());
    expectNothingInClear(stored, 'the store');
    expectNothingInClear(await redis.text(), 'Redis');
    expect(stored).toContain('[EMAIL]');
    expect(stored).toContain('db.copy');
  });
});
