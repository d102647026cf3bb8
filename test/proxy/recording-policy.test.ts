// When the recording cannot be kept (Redis gone and the agent's spool full), a target marked
// `recording: required` fails closed: new sessions are refused and open ones end with a message.
// A `best-effort` target keeps serving.
import { afterEach, describe, expect, inject, it } from 'vitest';
import { startRedis, type RedisInstance } from '../support/services.ts';
import { startHarness, type Harness } from '../support/agent-harness.ts';
import { RawClient } from '../support/raw-client.ts';
import { serialize } from 'pg-protocol';

let redis: RedisInstance | undefined;
let h: Harness | undefined;

afterEach(async () => {
  await h?.stop().catch(() => undefined);
  await redis?.stop().catch(() => undefined);
  h = undefined;
  redis = undefined;
});

async function fillSpool(c: RawClient, queries: number) {
  for (let i = 0; i < queries && !c.closed; i++) {
    c.write(serialize.query(`select ${i}`));
    await c.waitFor((m) => m.name === 'readyForQuery', i + 2).catch(() => undefined);
  }
}

describe('recording policy when the spool is full', () => {
  it('when recording is required and Redis is gone, then open sessions end with a FATAL and new ones are refused', async () => {
    redis = await startRedis();
    h = await startHarness({ postgresUrl: inject('postgresUrl'), redisUrl: redis.url, target: { recording: 'required' }, spool: { maxEvents: 30, maxBytes: 1 << 20 } });
    const c = await RawClient.login(h.port, 'alice', await h.token());
    await redis.stop();
    await fillSpool(c, 40);
    const [fatal] = await c.waitFor((m) => m.name === 'error');
    expect(fatal).toMatchObject({ severity: 'FATAL' });
    expect(String(fatal.message)).toContain('requires recording');
    await c.waitClosed();

    const r = await h.psql(['-c', 'select 1']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('requires recording and the recording pipeline is unavailable');
  });

  it('when recording is best-effort and Redis is gone, then sessions keep working', async () => {
    redis = await startRedis();
    h = await startHarness({ postgresUrl: inject('postgresUrl'), redisUrl: redis.url, target: { recording: 'best-effort' }, spool: { maxEvents: 30, maxBytes: 1 << 20 } });
    const c = await RawClient.login(h.port, 'alice', await h.token());
    await redis.stop();
    await fillSpool(c, 40);
    expect(c.closed).toBe(false);
    expect(c.messages.filter((m) => m.name === 'error')).toEqual([]);
    c.end();
    const r = await h.psql(['-At', '-c', 'select 7']);
    expect(r.stdout).toBe('7\n');
  });

  it('when the hub persists slower than a client sends, then the session slows down instead of ending or losing events', async () => {
    redis = await startRedis();
    // A spool of 60 events; the hub confirms 4 times a second: 600 statements cannot fit at once.
    h = await startHarness({ postgresUrl: inject('postgresUrl'), redisUrl: redis.url, target: { recording: 'required' }, spool: { maxEvents: 60, maxBytes: 1 << 20 } });
    const statements = Array.from({ length: 300 }, (_, i) => `select ${i} as throttled;`).join('\n');
    const r = await h.psql(['-At', '-v', 'ON_ERROR_STOP=1'], { input: statements });
    expect(r.stderr).toBe('');
    expect(r.stdout.split('\n').filter(Boolean)).toHaveLength(300);
    const events = await h.sessionWhere((e) => e.type === 'db.query' && e.data.sql.includes('299 as throttled'), 60_000);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(events.filter((e) => e.type === 'db.result')).toHaveLength(300);
    expect(events.at(-1)).toMatchObject({ type: 'session.end', data: { reason: 'client_terminate' } });
    expect(h.agent.publisher.stats().dropped).toBe(0);
  }, 90_000);
});
