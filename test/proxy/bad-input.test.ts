// Bad input closes only the connection it came on; the agent keeps serving everyone else.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import crypto from 'node:crypto';
import { serialize } from 'pg-protocol';
import { run, startHarness, type Harness } from '../support/agent-harness.ts';
import { RawClient } from '../support/raw-client.ts';

let h: Harness;

beforeAll(async () => {
  h = await startHarness({ postgresUrl: inject('postgresUrl') });
});
afterAll(async () => h?.stop());

async function stillServes() {
  const r = await h.psql(['-At', '-c', 'select 1']);
  expect(r.stdout).toBe('1\n');
}

function int32(n: number) {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

describe('bad input to the listener', () => {
  it('when a client sends random bytes, then its connection is closed and others are served', async () => {
    for (let i = 0; i < 20; i++) {
      const c = await RawClient.connect(h.port);
      c.socket.write(crypto.randomBytes(64 + i * 13));
      await c.waitClosed();
    }
    await stillServes();
  });

  it('when a startup length field says 2 GB, then the connection is closed at once', async () => {
    const c = await RawClient.connect(h.port);
    c.socket.write(Buffer.concat([int32(0x7fffffff), int32(196608)]));
    await c.waitClosed();
    await stillServes();
  });

  it('when a message after login claims 2 GB, then that session ends with an error and others go on', async () => {
    const c = await RawClient.login(h.port, 'eve', await h.token('eve'));
    c.socket.write(Buffer.concat([Buffer.from('Q'), int32(0x7fffffff)]));
    await c.waitClosed();
    await stillServes();
  });

  it('when a startup packet is truncated and the client goes away, then nothing breaks', async () => {
    const c = await RawClient.connect(h.port);
    c.socket.write(serialize.startup({ user: 'x', database: 'y' }).subarray(0, 10));
    c.socket.destroy();
    await stillServes();
  });

  it('when a client sends a query before authenticating, then it gets an error and is closed', async () => {
    const c = await RawClient.connect(h.port);
    c.socket.write(serialize.startup({ user: 'mallory', database: 'pg' }));
    await c.waitFor((m) => m.name === 'authenticationCleartextPassword');
    c.socket.write(serialize.query('select 1'));
    const [err] = await c.waitFor((m) => m.name === 'error');
    expect(err).toMatchObject({ severity: 'FATAL' });
    await c.waitClosed();
    await stillServes();
  });

  it('when the token is bad, expired or for another target, then psql prints a clear FATAL', async () => {
    const uri = (token: string) => `postgresql://alice:${token}@127.0.0.1:${h.port}/pg?sslmode=disable`;
    // Asynchronously: the agent runs in this process and must keep answering.
    const psql = async (token: string) => (await run('psql', ['-X', uri(token), '-c', 'select 1'])).stderr;
    expect(await psql('not-a-token')).toContain('the password is not a valid Vigil token');
    expect(await psql(await h.token('alice', 'pg', -1000))).toContain('the Vigil token has expired');
    expect(await psql(await h.token('alice', 'other-target'))).toContain('the Vigil token is for target "other-target"');
    expect(await psql(await h.token('bob'))).toContain('the Vigil token was issued to "bob"');
  });

  it('when an SSLRequest comes to a listener without TLS, then it is declined and the client continues in plain text', async () => {
    const r = await h.psql(['-At', '-c', 'select 2']);
    expect(r.stdout).toBe('2\n');
    const c = await RawClient.connect(h.port);
    const answer = new Promise<number>((resolve) => c.socket.once('data', (d) => resolve(d[0])));
    c.socket.write(serialize.requestSsl());
    expect(String.fromCharCode(await answer)).toBe('N');
    c.socket.destroy();
  });
});
