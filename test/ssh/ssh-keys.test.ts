// Logging in through the agent with an SSH key registered in the dashboard: alice adds her public
// key through the hub's API (her login, with the CSRF token), ssh with that key gets in without
// a token and is recorded as alice; someone else's key, or a key removed, is refused. The agents'
// key directory behaves the same in memory and in Redis.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import ssh2 from 'ssh2';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { createMemoryKeyDirectory, createRedisKeyDirectory, type SshKeyDirectory } from '../../common/ssh-key-directory.ts';
import { startHubWithLogin, type HubWithLogin } from '../support/dashboard-browser.ts';
import { apiAs } from '../support/oidc-login-client.ts';
import { runProcess, startSshHarness, type SshHarness } from '../support/ssh-harness.ts';

vi.setConfig({ testTimeout: 60_000, hookTimeout: 120_000 });

let h: SshHarness;
let web: HubWithLogin;
const directory = createMemoryKeyDirectory();

beforeAll(async () => {
  h = await startSshHarness({ sshKeys: directory });
  web = await startHubWithLogin({ dataDir: h.dir, targets: h.config.targets, bus: h.bus, stores: h.stores, sshKeyDirectory: directory });
});
afterAll(async () => {
  await web?.stop();
  await h?.stop();
});

const loggedIn = (user: string) => apiAs(web.hub.url, user);

function keyPair(name: string): { file: string; pub: string } {
  const file = path.join(h.dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `${name}@laptop`, '-f', file]);
  return { file, pub: fs.readFileSync(`${file}.pub`, 'utf8').trim() };
}

const sshWithKey = (file: string, user = 'box') => runProcess('ssh', [
  '-F', '/dev/null', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR',
  '-o', 'BatchMode=yes', '-o', 'PreferredAuthentications=publickey', '-o', 'IdentitiesOnly=yes', '-i', file,
  '-p', String(h.port), `${user}@127.0.0.1`, 'echo "as $USER"',
], { ...process.env });

describe('SSH keys registered in the dashboard', () => {
  it('when alice registers her key, then ssh with it logs her in without a token; removed, it no longer does', async () => {
    const alice = await loggedIn('alice');
    const key = keyPair('alice_key');
    expect((await sshWithKey(key.file)).code).toBe(255);

    const added = await alice('POST', '/api/ssh-keys', { publicKey: key.pub });
    expect(added.status).toBe(201);
    expect(added.body.key).toMatchObject({ name: 'alice_key@laptop', publicKey: key.pub.split(' ').slice(0, 2).join(' ') });
    expect(added.body.key.fingerprint).toBe(execFileSync('ssh-keygen', ['-l', '-f', `${key.file}.pub`], { encoding: 'utf8' }).split(' ')[1]);
    expect((await alice('GET', '/api/ssh-keys')).body.keys).toHaveLength(1);

    const r = await sshWithKey(key.file);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(`as ${h.sshd.user}\n`);
    const events = await h.sessionWhere((e) => e.type === 'ssh.exec' && e.data.command === 'echo "as $USER"');
    expect(events[0]).toMatchObject({ type: 'session.start', user: 'alice', target: 'box' });

    // The same key registered by someone else: refused. alice+box works, bob+box does not.
    const bob = await loggedIn('aaron');
    expect((await bob('POST', '/api/ssh-keys', { publicKey: key.pub })).status).toBe(409);
    expect((await sshWithKey(key.file, 'alice+box')).code).toBe(0);
    expect((await sshWithKey(key.file, 'aaron+box')).code).toBe(255);

    expect((await bob('DELETE', `/api/ssh-keys/${encodeURIComponent(added.body.key.fingerprint)}`)).status).toBe(404);
    expect((await alice('DELETE', `/api/ssh-keys/${encodeURIComponent(added.body.key.fingerprint)}`)).status).toBe(204);
    expect((await sshWithKey(key.file)).code).toBe(255);
  });

  it('when a client shows a registered public key but signs with another key, then it is refused', async () => {
    const alice = await loggedIn('alice');
    const registered = keyPair('alice_shown');
    const other = keyPair('mallory_signing');
    expect((await alice('POST', '/api/ssh-keys', { publicKey: registered.pub })).status).toBe(201);
    const shown = ssh2.utils.parseKey(registered.pub) as ssh2.ParsedKey;
    const signer = ssh2.utils.parseKey(fs.readFileSync(other.file)) as ssh2.ParsedKey;
    // A key object that presents alice's public key and signs with mallory's private key.
    const forged = Object.assign(Object.create(Object.getPrototypeOf(signer)), signer, { getPublicSSH: () => shown.getPublicSSH() });
    const conn = new ssh2.Client();
    let tries = 0;
    const outcome = await new Promise<string>((resolve) => {
      conn.once('ready', () => resolve('logged in')).once('error', (err) => resolve(err.message));
      conn.connect({
        host: '127.0.0.1', port: h.port, username: 'box',
        // Offered once; then no more methods (ssh2 would otherwise ask again).
        authHandler: (_methods, _partial, next) => next((tries++ === 0 ? { type: 'publickey', username: 'box', key: forged } : false) as never),
      });
    });
    conn.end();
    expect(outcome).toMatch(/authentication methods failed/);
  });

  it('when the pasted text is not a public key, then it is refused with a reason', async () => {
    const alice = await loggedIn('alice');
    const key = keyPair('private_paste');
    const priv = await alice('POST', '/api/ssh-keys', { publicKey: fs.readFileSync(key.file, 'utf8') });
    expect(priv.status).toBe(400);
    expect(priv.body.error.message).toMatch(/private key/);
    expect((await alice('POST', '/api/ssh-keys', { publicKey: 'ssh-ed25519 not-base64!' })).status).toBe(400);
    expect((await alice('POST', '/api/ssh-keys', { publicKey: 'x'.repeat(20_000) })).status).toBe(400);
  });
});

describe.each([
  ['memory', async () => createMemoryKeyDirectory()],
  ['Redis', async () => createRedisKeyDirectory(inject('redisUrl'), `key-dir-test-${process.pid}-${Date.now()}:`)],
])('the SSH key directory (%s)', (_name, make) => {
  let dir: SshKeyDirectory;
  beforeAll(async () => {
    dir = await make();
  });
  afterAll(async () => dir?.close());

  it('when keys are set, replaced and deleted, then lookups follow', async () => {
    expect(await dir.userOf('SHA256:a')).toBeNull();
    await dir.set('SHA256:a', 'alice');
    expect(await dir.userOf('SHA256:a')).toBe('alice');
    await dir.replaceAll(new Map([['SHA256:b', 'bob'], ['SHA256:c', 'carol']]));
    expect(await dir.userOf('SHA256:a')).toBeNull();
    expect(await dir.userOf('SHA256:c')).toBe('carol');
    await dir.delete('SHA256:c');
    expect(await dir.userOf('SHA256:c')).toBeNull();
    await dir.replaceAll(new Map());
    expect(await dir.userOf('SHA256:b')).toBeNull();
  });
});
