// Guardrails with the real psql and node-postgres (simple and extended protocol) and the real
// OpenSSH client: a denied statement never runs (the table is still there), the client gets an
// error naming the rule and the session goes on; inside a transaction block the denial aborts it
// as a server error would; comments and multi-statement strings do not slip past; the recording
// has the attempt and the guardrail hit. SSH command lines are checked the same way.
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { serialize } from 'pg-protocol';
import { startHarness, type Harness } from '../support/agent-harness.ts';
import { RawClient } from '../support/raw-client.ts';
import { ofType } from '../support/recordings.ts';
import { startSshHarness, type SshHarness } from '../support/ssh-harness.ts';

vi.setConfig({ testTimeout: 60_000, hookTimeout: 120_000 });

const GUARDRAILS = [
  { name: 'no-drops', statements: ['DROP', 'TRUNCATE'], action: 'deny', message: 'ask the DBA' },
  { name: 'no-wide-deletes', statements: ['DELETE_WITHOUT_WHERE'], action: 'deny' },
  { name: 'no-calls', statements: ['CALL'], action: 'deny' },
];

let h: Harness;
let ssh: SshHarness;

beforeAll(async () => {
  h = await startHarness({
    postgresUrl: inject('postgresUrl'),
    seed: 'CREATE TABLE accounts (id int PRIMARY KEY, owner text); INSERT INTO accounts VALUES (1, \'ann\'), (2, \'bob\');',
    target: { guardrails: GUARDRAILS },
  });
  ssh = await startSshHarness({ targets: [] });
});
afterAll(async () => {
  await h?.stop();
  await ssh?.stop();
});


async function tableRows(): Promise<number> {
  const r = await h.psql(['-At', '-c', 'select count(*) from accounts']);
  return Number(r.stdout.trim());
}

describe('guardrails on PostgreSQL', () => {
  it('when psql sends a denied statement, then it gets an error naming the rule, nothing runs, and the session goes on', async () => {
    const r = await h.psql(['-At', '-v', 'ON_ERROR_STOP=0', '-c', '/* harmless */ DROP TABLE accounts', '-c', 'select count(*) from accounts']);
    expect(r.stderr).toContain('Vigil guardrail no-drops denied this statement: ask the DBA');
    expect(r.stdout.trim()).toBe('2');
    expect(await tableRows()).toBe(2);

    const events = await h.sessionWhere((e) => e.type === 'guardrail.hit');
    const hit = ofType(events, 'guardrail.hit')[0];
    // The statement the rule matched (the parser reads past the comment); db.query has the whole text.
    expect(hit.data).toMatchObject({ rule: 'no-drops', action: 'deny', statement: 'DROP TABLE accounts' });
    // The attempt is recorded as it was sent, and the error the client saw.
    expect(ofType(events, 'db.query').map((e) => e.data.sql)).toContain('/* harmless */ DROP TABLE accounts');
    expect(ofType(events, 'db.error')[0].data).toMatchObject({ code: '42501', message: 'Vigil guardrail no-drops denied this statement: ask the DBA' });
  });

  it('when a DELETE\'s WHERE is always true (true, 1 = 1, \'a\' = \'a\', NOT false, an OR with a true branch), then it is refused as one without WHERE and no row goes', async () => {
    for (const predicate of ['true', '1 = 1', "'a' = 'a'", 'NOT false', 'id = 1 OR 1 = 1', "'t'::bool"]) {
      const r = await h.psql(['-At', '-c', `DELETE FROM accounts WHERE ${predicate}`]);
      expect(r.stderr, predicate).toContain('Vigil guardrail no-wide-deletes denied this statement');
      expect(await tableRows(), predicate).toBe(2);
    }
    // A bounded one still runs (in a transaction rolled back, so the table keeps its rows).
    const bounded = await h.psql(['-At', '-c', 'BEGIN; DELETE FROM accounts WHERE id = 1 AND true; ROLLBACK']);
    expect(bounded.stderr).toBe('');
    expect(await tableRows()).toBe(2);
  });

  it('when a denied statement hides after a harmless one in the same string, then the whole string is refused', async () => {
    const r = await h.psql(['-At', '-c', "select 'ok'; delete from accounts"]);
    expect(r.stderr).toContain('Vigil guardrail no-wide-deletes denied this statement');
    expect(r.stdout).toBe('');
    expect(await tableRows()).toBe(2);
  });

  it('when a driver uses the extended protocol, then a denied statement fails at once and the next one runs', async () => {
    const client = await h.client('alice');
    try {
      await expect(client.query('TRUNCATE accounts')).rejects.toThrow(/Vigil guardrail no-drops denied this statement/);
      await expect(client.query({ text: 'DROP TABLE accounts', values: [] })).rejects.toMatchObject({ code: '42501' });
      const ok = await client.query('select owner from accounts where id = $1', [2]);
      expect(ok.rows).toEqual([{ owner: 'bob' }]);
      // Inside a transaction block the denial aborts it, as a server error would.
      await client.query('BEGIN');
      await expect(client.query('delete from accounts')).rejects.toMatchObject({ code: '42501' });
      await expect(client.query('select 1')).rejects.toThrow(/current transaction is aborted/);
      await client.query('ROLLBACK');
      expect((await client.query('select count(*)::int as n from accounts')).rows).toEqual([{ n: 2 }]);
    } finally {
      await client.end();
    }
  });
});

describe('guardrails and client encodings', () => {
  it('when a client connects in another encoding or tries to switch, then it is refused (rules read SQL as UTF-8)', async () => {
    const uri = await h.uri('alice');
    const { spawn } = await import('node:child_process');
    const run = (args: string[], env: NodeJS.ProcessEnv) => new Promise<{ code: number; stderr: string }>((resolve) => {
      const p = spawn('psql', ['-X', uri, ...args], { env: { ...process.env, ...env } });
      let stderr = '';
      p.stderr.on('data', (d) => (stderr += d));
      p.on('close', (code) => resolve({ code: code ?? -1, stderr }));
    });
    const sjis = await run(['-c', 'select 1'], { PGCLIENTENCODING: 'SJIS' });
    expect(sjis.code).not.toBe(0);
    expect(sjis.stderr).toContain('connect with client_encoding UTF8');
    const switched = await run(['-c', "set client_encoding to 'GBK'", '-c', 'show client_encoding'], {});
    expect(switched.stderr).toContain('client_encoding cannot be changed on a target with guardrails');
  });
});

describe('guardrails against clients that pipeline', () => {
  it('when a client sends a denied statement with its password, before the login completes, then it is still refused', async () => {
    const c = await RawClient.connect(h.port);
    c.socket.write(serialize.startup({ user: 'mallory', database: 'pg' }));
    await c.waitFor((m) => m.name === 'authenticationCleartextPassword');
    // The password and the statement in one write: the statement waits while the agent logs in.
    c.write(serialize.password(await h.token('mallory')), serialize.query('DROP TABLE accounts'));
    const [error] = await c.waitFor((m) => m.name === 'error');
    expect(String(error.message)).toContain('Vigil guardrail no-drops denied this statement');
    await c.waitFor((m) => m.name === 'readyForQuery', 2);
    c.end();
    expect(await tableRows()).toBe(2);
  });

  it('when a client makes a fastpath function call a rule denies, then it gets the rule\'s error and the session goes on', async () => {
    const c = await RawClient.login(h.port, 'carol', await h.token('carol'));
    // FunctionCall: now() (OID 1299), no arguments, text result.
    const body = Buffer.alloc(4 + 2 + 2 + 2);
    body.writeUInt32BE(1299, 0);
    c.write(Buffer.concat([Buffer.from('F'), Buffer.from([0, 0, 0, 4 + body.length]), body]));
    const [error] = await c.waitFor((m) => m.name === 'error');
    expect(String(error.message)).toContain('Vigil guardrail no-calls denied this statement');
    await c.waitFor((m) => m.name === 'readyForQuery', 2);
    c.write(serialize.query('select 7 as seven'));
    const rows = await c.waitFor((m) => m.name === 'dataRow');
    expect((rows[0] as unknown as { fields: string[] }).fields).toEqual(['7']);
    c.end();
  });

  it('when a denied Parse sits in the middle of a pipeline, then what came before runs, the rest is skipped until Sync, and the next batch runs', async () => {
    const c = await RawClient.login(h.port, 'carol', await h.token('carol'));
    c.write(
      serialize.parse({ text: 'select 1 as one' }), serialize.bind({}), serialize.describe({ type: 'P' }), serialize.execute({}),
      serialize.parse({ text: 'truncate accounts' }), serialize.bind({}), serialize.execute({}),
      serialize.parse({ text: 'select 3 as three' }), serialize.bind({}), serialize.describe({ type: 'P' }), serialize.execute({}),
      serialize.sync(),
      serialize.parse({ text: "select 'after' as four" }), serialize.bind({}), serialize.describe({ type: 'P' }), serialize.execute({}),
      serialize.sync(),
    );
    await c.waitFor((m) => m.name === 'readyForQuery', 3);
    c.end();
    const names = c.messages.map((m) => m.name);
    const rows = c.messages.filter((m) => m.name === 'dataRow').map((m) => (m as unknown as { fields: string[] }).fields);
    expect(rows).toEqual([['1'], ['after']]);
    expect(names.filter((n) => n === 'error')).toHaveLength(1);
    expect(String(c.messages.find((m) => m.name === 'error')!.message)).toContain('no-drops');
    expect(await tableRows()).toBe(2);
  });
});

describe('guardrails on SSH', () => {
  it('when a command line matches a deny rule, then it does not run and the client is told', async () => {
    // The harness's sshd, with a target whose rules deny shutting the host down.
    const up = { host: '127.0.0.1', port: ssh.sshd.port, user: ssh.sshd.user, privateKeyFile: ssh.sshd.clientKeyFile, hostKey: ssh.sshd.hostKey };
    const h2 = await startSshHarness({
      targets: [{ name: 'ruled-box', protocol: 'ssh', upstream: up, guardrails: [{ name: 'no-shutdown', command: 'shutdown|reboot|poweroff', action: 'deny', message: 'not from here' }] }],
    });
    try {
      const denied = await h2.ssh('ruled-box', ['reboot now']);
      expect(denied.code).toBe(1);
      expect(denied.stderr).toContain('vigil: guardrail no-shutdown denied this command: not from here');
      expect((await h2.ssh('ruled-box', ['echo allowed'])).stdout).toBe('allowed\n');
      const events = await h2.sessionWhere((e) => e.type === 'guardrail.hit');
      expect(ofType(events, 'guardrail.hit')[0].data).toMatchObject({ rule: 'no-shutdown', action: 'deny', statement: 'reboot now' });
    } finally {
      await h2.stop();
    }
  });
});
