// Secrets written, not only read: every way a statement can carry a secret column's value, a key
// or a password to the target (INSERT, UPDATE, MERGE, COPY, prepared statements bound many times,
// function arguments, comparisons, settings), through the real psql and node-postgres. The test
// reads the recording from the store and everything that went through Redis, and fails on any
// secret value found in clear.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startHarness, type Harness } from '../support/agent-harness.ts';
import { captureRedis, type RedisCapture } from '../support/redis-capture.ts';
import { ofType } from '../support/recordings.ts';

/** Each secret is unique, so a leak names the path it took. */
const S = {
  insertList: 'pw-insert-list-7Gq2',
  insertRow2: 'pw-insert-row2-Lm4x',
  insertNoColumns: 'pw-no-columns-Zt81',
  insertNoColumnsLater: 'pw-no-columns-later-Qp3c',
  tokenNoColumns: 'tok-no-columns-Hx55',
  upsert: 'pw-upsert-Vb90',
  update: 'pw-update-Kd27',
  updateRow: 'tok-update-row-Ws64',
  merge: 'pw-merge-Ny38',
  mergeInsert: 'pw-merge-insert-Ff12',
  where: 'pw-where-Rr71',
  whereIn: 'tok-where-in-Cc09',
  crypt: 'pw-crypt-Jj48',
  pgpKey: 'key-pgp-Ee66',
  setting: 'pw-setting-Uu23',
  copyText: 'pw-copy-text-Oo57',
  copyCsv: 'pw-copy-csv-Ii85',
  bindNamed: 'pw-bind-named-Aa13',
  bindNamed2: 'pw-bind-named2-Bb31',
  bindUnnamed: 'pw-bind-unnamed-Dd42',
  sqlPrepared: 'pw-sql-prepare-Gg79',
  tempCopy: 'pw-temp-copy-Mm26',
  numericPin: '804213',
};

const SEED = `
  CREATE TABLE creds (id int PRIMARY KEY, name text, password text, api_token text, pin int);
  CREATE TABLE plain (id int, note text);
`;

describe('secrets written into secret columns', () => {
  let h: Harness;
  let redis: RedisCapture;
  beforeAll(async () => {
    h = await startHarness({ postgresUrl: inject('postgresUrl'), redisUrl: inject('redisUrl'), seed: SEED });
    redis = await captureRedis(inject('redisUrl'), h.keyPrefix);
  });
  afterAll(async () => {
    await redis?.close();
    await h?.stop();
  });

  it('when psql and node-postgres write secrets every way, then no secret reaches the store or Redis', async () => {
    const psql = async (sql: string, input?: string) => {
      const r = await h.psql(['-v', 'ON_ERROR_STOP=0', '-c', sql], input === undefined ? {} : { input });
      return r;
    };
    await psql(`INSERT INTO creds (id, name, password) VALUES (1, 'alice', '${S.insertList}'), (2, 'bob', '${S.insertRow2}')`);
    await psql(`INSERT INTO creds VALUES (3, 'carol', '${S.insertNoColumns}', '${S.tokenNoColumns}', ${S.numericPin})`);
    await psql(`INSERT INTO creds (id, name, password) VALUES (1, 'alice', 'x') ON CONFLICT (id) DO UPDATE SET password = '${S.upsert}'`);
    await psql(`UPDATE creds SET password = '${S.update}' WHERE name = 'bob'`);
    await psql(`UPDATE creds SET (name, api_token) = ('bob', '${S.updateRow}') WHERE id = 2`);
    await psql(`MERGE INTO creds c USING (SELECT 2 AS id) s ON c.id = s.id WHEN MATCHED THEN UPDATE SET password = '${S.merge}' WHEN NOT MATCHED THEN INSERT (id, password) VALUES (s.id, '${S.mergeInsert}')`);
    await psql(`SELECT id FROM creds WHERE password = '${S.where}' OR api_token IN ('${S.whereIn}', 'other')`);
    await psql(`SELECT crypt('${S.crypt}', 'salt'), pgp_sym_encrypt('data', '${S.pgpKey}')`);
    await psql(`SELECT set_config('app.password', '${S.setting}', false); SELECT current_setting('app.password')`);
    await psql('COPY creds (id, name, password) FROM STDIN', `10\tdave\t${S.copyText}\n\\.\n`);
    await psql('COPY creds (id, name, password) FROM STDIN WITH (FORMAT csv)', `11,erin,"${S.copyCsv}"\n\\.\n`);
    // A temporary table: no other connection can look it up, its CREATE says its columns.
    await h.psql(['-At'], { input: `CREATE TEMP TABLE tmp_creds (id int, note text, password text);\n\\copy tmp_creds from stdin\n5\tkeep-me\t${S.tempCopy}\n\\.\n` });
    await psql(`PREPARE put_pw (int, text) AS INSERT INTO creds (id, password) VALUES ($1, $2); EXECUTE put_pw(12, '${S.sqlPrepared}')`);

    const c = await h.client();
    const named = { name: 'put-password', text: 'INSERT INTO creds (id, name, password) VALUES ($1, $2, $3)' };
    await c.query({ ...named, values: [20, 'frank', S.bindNamed] });
    await c.query({ ...named, values: [21, 'grace', S.bindNamed2] });
    await c.query('UPDATE creds SET password = $1 WHERE id = $2', [S.bindUnnamed, 21]);
    await c.end();

    // Read back under other names: a result is as secret as the column it comes from.
    await psql(`SELECT upper(password) AS shout, coalesce(api_token, '') AS t, password AS p FROM creds`);

    // The column order of `creds` has been learned by now: a later INSERT without a column list
    // masks the secret column's value only.
    await psql(`INSERT INTO creds VALUES (4, 'heidi', '${S.insertNoColumnsLater}')`);
    await h.waitForEnded(16);

    // Compared without case: upper(password) must not leak either.
    const stored = JSON.stringify(await h.sessions()).toLowerCase();
    const inRedis = (await redis.text()).toLowerCase();
    for (const [path, value] of Object.entries(S)) {
      expect(stored, `${path} in the store`).not.toContain(value.toLowerCase());
      expect(inRedis, `${path} in Redis`).not.toContain(value.toLowerCase());
    }
    expect(stored).toContain("'[secret_column]'");
    // What is not secret stays readable.
    expect(stored).toContain("'alice'");
    expect(stored).toContain("'heidi'");
    expect(stored).toContain('frank');
    expect(stored).toContain('5\\tkeep-me\\t[secret_column]');
  });

  it('when a prepared statement is bound, then its secret parameter is masked on every bind and counted', async () => {
    const c = await h.client();
    const named = { name: 'put-token', text: 'INSERT INTO creds (id, api_token) VALUES ($1, $2)' };
    for (let i = 0; i < 3; i++) await c.query({ ...named, values: [30 + i, `tok-${i}-secret`] });
    await c.end();
    const events = await h.sessionWhere((e) => e.type === 'db.query' && e.data.sql.includes('api_token) VALUES ($1, $2)'));
    const binds = ofType(events, 'db.query').filter((e) => e.data.sql.includes('api_token) VALUES ($1, $2)'));
    expect(binds).toHaveLength(3);
    for (const [i, e] of binds.entries()) {
      expect(e.data.protocol).toBe('extended');
      if (e.data.protocol !== 'extended') continue;
      expect(e.data.params).toEqual([{ value: String(30 + i), format: 'text' }, { value: '[SECRET_COLUMN]', format: 'text' }]);
      expect(e.masked).toEqual({ SECRET_COLUMN: 1 });
    }
  });
});
