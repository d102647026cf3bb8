// Secrets and personal data never leave the agent unmasked: not in the store, not in Redis.
// With client masking on, the client sees masked rows too and psql keeps working.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startHarness, type Harness } from '../support/agent-harness.ts';
import { captureRedis, type RedisCapture } from '../support/redis-capture.ts';
import type { VigilEvent } from '../../common/events/index.ts';

const RAW = {
  email: 'grace.hopper@navy.example.com',
  card: '4111 1111 1111 1111',
  jwt: 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U',
  aws: 'AKIAIOSFODNN7EXAMPLE',
  ssn: '123-45-6789',
  apiToken: 'tok_live_8c1f2a9b7d',
  rolePassword: 'R0le-Pa55word!',
};

const SEED = `
  CREATE TABLE people (id int, email text, card text, note text, ssn text, api_token text);
  INSERT INTO people VALUES
    (1, '${RAW.email}', '${RAW.card}', 'jwt ${RAW.jwt}', '${RAW.ssn}', '${RAW.apiToken}'),
    (2, 'ada@example.org', '5500-0000-0000-0004', 'key ${RAW.aws}', '078-05-1120', 'tok_2');
`;

describe('masking in the recording', () => {
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

  it('when results, queries, parameters and errors carry secrets, then none reaches the store or the Redis stream', async () => {
    const r = await h.psql(['-At', '-c', 'select * from people order by id']);
    expect(r.stdout).toContain(RAW.email); // the client's view is untouched by default
    await h.psql(['-c', `select * from people where email = '${RAW.email}'`]);
    await h.psql(['-c', `CREATE ROLE masked_role PASSWORD '${RAW.rolePassword}'`]);
    await h.psql(['-c', `select 1/0 where '${RAW.card}' <> ''`]);
    await h.psql(['-c', `select * from nope where card = '${RAW.card}'`]);
    const c = await h.client();
    await c.query('select id from people where email = $1', [RAW.email]);
    await c.end();
    await h.waitForEnded(6);

    const stored = JSON.stringify(await h.sessions());
    const inRedis = await redis.text();
    expect(inRedis).toContain('[EMAIL]');
    for (const [name, value] of Object.entries(RAW)) {
      expect(stored, `${name} in the store`).not.toContain(value);
      expect(inRedis, `${name} in Redis`).not.toContain(value);
    }
    expect(stored).toContain('[EMAIL]');
    expect(stored).toContain('[CARD]');
    expect(stored).toContain('[JWT]');
    expect(stored).toContain('[SECRET_COLUMN]');
    expect(stored).toContain('[ROLE_PASSWORD]');
  });

  it('when a result is masked, then the event counts what each rule masked', async () => {
    await h.psql(['-c', 'select email, ssn from people where id = 1']);
    const isIt = (e: VigilEvent) => e.type === 'db.result' && e.data.columns.map((c) => c.name).join() === 'email,ssn';
    const result = (await h.sessionWhere(isIt)).find(isIt);
    expect(result?.masked).toEqual({ EMAIL: 1, SECRET_COLUMN: 1 });
  });
});

describe('masking what the client receives', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ postgresUrl: inject('postgresUrl'), seed: SEED, target: { masking: { client: true } } });
  });
  afterAll(async () => h?.stop());

  it('when client masking is on, then psql prints masked rows with correct framing and keeps working', async () => {
    const r = await h.psql(['-At', '-c', 'select id, email, card, ssn from people order by id', '-c', 'select 42']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('1|[EMAIL]|[CARD]|[SECRET_COLUMN]\n2|[EMAIL]|[CARD]|[SECRET_COLUMN]\n42\n');
  });

  it('when node-postgres reads masked rows, then it decodes them', async () => {
    const c = await h.client();
    const { rows } = await c.query('select id, email, note from people where id = $1', [1]);
    expect(rows).toEqual([{ id: 1, email: '[EMAIL]', note: 'jwt [JWT]' }]);
    await c.end();
  });
});
