import { describe, expect, inject, it } from 'vitest';
import pg from 'pg';
import { createClient } from 'redis';

describe('private test services', () => {
  it('when the suite starts, then a private PostgreSQL and Redis answer on their own ports', async () => {
    const client = new pg.Client({ connectionString: inject('postgresUrl') });
    await client.connect();
    const { rows } = await client.query('select current_setting($1) as port', ['port']);
    expect(Number(rows[0].port)).not.toBe(5432);
    await client.end();
    const redis = createClient({ url: inject('redisUrl') });
    await redis.connect();
    expect(await redis.ping()).toBe('PONG');
    expect(inject('redisUrl')).not.toMatch(/:6379$/);
    await redis.quit();
  });
});
