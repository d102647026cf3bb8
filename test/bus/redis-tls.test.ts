// Redis with TLS and an ACL user, on a real server with a certificate from a CA made here: the
// event bus and every other Vigil connection (control bus, key directory, login sessions, the
// Socket.IO adapter: all open through one function) connect with `rediss://user:password@host?ca=`;
// a wrong password or a server certificate from another CA is refused, saying why.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisBus } from '../../common/bus/redis-bus.ts';
import { createRedisConnection } from '../../common/redis-connection.ts';
import { startRedis, type RedisInstance } from '../support/services.ts';
import { makeTestCa, type TestCa } from '../support/test-ca.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-redis-tls-'));
let redis: RedisInstance;

let ours: TestCa;
let theirs: TestCa;
const url = (user: string, password: string, ca: string) => `rediss://${user}:${password}@127.0.0.1:${redis.port}?ca=${encodeURIComponent(ca)}`;

beforeAll(async () => {
  ours = makeTestCa(dir, 'ours');
  theirs = makeTestCa(dir, 'theirs');
  redis = await startRedis({ tls: { certFile: ours.cert, keyFile: ours.key, caFile: ours.ca }, users: [['vigil-hub', 's3cret-hub']] });
}, 60_000);

afterAll(async () => {
  await redis?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Connects and runs PING, or says why not (first error), within a few seconds. */
async function ping(u: string): Promise<string> {
  let first = '';
  const client = createRedisConnection(u, (err) => (first ||= err.message));
  const result = await Promise.race([
    client.connect().then(() => client.ping()),
    new Promise<string>((resolve) => setTimeout(() => resolve(`failed: ${first}`), 3000)),
  ]).catch((err: Error) => `failed: ${first || err.message}`);
  client.destroy();
  return result;
}

describe('Redis over TLS with an ACL user', () => {
  it('when the URL is rediss:// with the user, its password and the CA, then the event bus works over TLS', async () => {
    const bus = await createRedisBus(url('vigil-hub', 's3cret-hub', ours.ca), { keyPrefix: 'tls-test:' });
    try {
      await bus.ensureGroup('g');
      await bus.append([{ sessionId: 's1', seq: 1, body: '{"x":1}' }]);
      const got = await bus.readGroup({ group: 'g', consumer: 'c', count: 10, blockMs: 1000 });
      expect(got.flatMap((d) => d.bodies)).toEqual(['{"x":1}']);
    } finally {
      await bus.close();
    }
    expect(await ping(url('vigil-hub', 's3cret-hub', ours.ca))).toBe('PONG');
  });

  it('when the password is wrong, the default user is used, or the server\'s certificate is from another CA, then the connection is refused, saying why', async () => {
    expect(await ping(url('vigil-hub', 'wrong', ours.ca))).toMatch(/^failed: .*(WRONGPASS|invalid username-password)/);
    expect(await ping(`rediss://127.0.0.1:${redis.port}?ca=${encodeURIComponent(ours.ca)}`)).toMatch(/^failed: .*(NOAUTH|WRONGPASS|disabled|auth)/i);
    expect(await ping(url('vigil-hub', 's3cret-hub', theirs.ca))).toMatch(/^failed: .*certificate/i);
  });

  it('when a URL names a CA without TLS, or a CA file that is not there, then it says so', () => {
    expect(() => createRedisConnection(`redis://127.0.0.1:${redis.port}?ca=/tmp/ca.pem`, () => undefined)).toThrow('the Redis URL names a CA (?ca=) but is not rediss:// (TLS)');
    expect(() => createRedisConnection(`rediss://127.0.0.1:${redis.port}?ca=/nonexistent/ca.pem`, () => undefined)).toThrow('cannot read the Redis CA file /nonexistent/ca.pem: ENOENT');
  });
});
