// Secrets in SSH sessions, every way they pass through the real OpenSSH client and server: on
// command lines (`mysql -p...`, `curl -u`, `sshpass -p`, `PGPASSWORD=... psql`, exported keys),
// typed into a shell in a real terminal, and printed (an env file, a Kubernetes secret with base64 values, JSON with a
// client secret, a private key). The test reads the recording from the store and fails on any
// secret found in clear.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { tmuxServer } from '../support/tmux.ts';
import { startSshHarness, type SshHarness } from '../support/ssh-harness.ts';

vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

const random = (n: number) => crypto.randomBytes(n).toString('base64url').slice(0, n);
const join = (...parts: string[]) => parts.join('');

/** Built at run time: no file of the repository holds a token a secret scanner would flag. */
const S = {
  mysql: `My${random(12)}`,
  curl: `Curl${random(12)}`,
  sshpass: `Sp${random(12)}`,
  htpasswd: `Ht${random(12)}`,
  pgpassword: `Pg${random(12)}`,
  awsSecret: random(40).replace(/[-_]/g, 'x'),
  typedToken: join('ghp', '_', random(36).replace(/[-_]/g, 'y')),
  typedMysql: `Tm${random(12)}`,
  envPassword: `Env${random(14)}`,
  envStripe: join('sk', '_live_', random(24).replace(/[-_]/g, 'z')),
  envApiKey: random(32).replace(/[-_]/g, 'q'),
  yamlPassword: `Yaml${random(14)}`,
  yamlKeyBody: random(64).replace(/[-_]/g, 'k'),
  jsonSecret: `Cs${random(24)}`,
  pemBody: random(64).replace(/[-_]/g, 'p'),
};

let h: SshHarness;
const terminals = tmuxServer();
beforeAll(async () => {
  h = await startSshHarness();
});
afterAll(async () => {
  terminals.kill();
  await h?.stop();
});

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('secrets in SSH sessions', () => {
  it('when secrets pass on command lines, typed into a shell and printed, then none reaches the store', async () => {
    const home = h.sshd.dir;
    fs.writeFileSync(path.join(home, 'app.env'), [
      `DB_PASSWORD=${S.envPassword}`,
      `STRIPE_SECRET_KEY=${S.envStripe}`,
      `SERVICE_API_KEY=${S.envApiKey}`,
      'LOG_LEVEL=info',
      '',
    ].join('\n'));
    const pem = [join('-----BEGIN ', 'PRIVATE KEY-----'), S.pemBody, join('-----END ', 'PRIVATE KEY-----')].join('\n');
    fs.writeFileSync(path.join(home, 'secret.yaml'), [
      'apiVersion: v1',
      'kind: Secret',
      'data:',
      `  password: ${b64(S.yamlPassword)}`,
      `  tls.key: ${b64([join('-----BEGIN ', 'RSA PRIVATE KEY-----'), S.yamlKeyBody, join('-----END ', 'RSA PRIVATE KEY-----')].join('\n'))}`,
      'type: Opaque',
      '',
    ].join('\n'));
    fs.writeFileSync(path.join(home, 'client.json'), JSON.stringify({ client_id: 'vigil-app', client_secret: S.jsonSecret }, null, 2));
    fs.writeFileSync(path.join(home, 'id_demo'), `${pem}\n`);

    const run = (command: string) => h.ssh('box', [command]);
    await run(`mysql -u root -p${S.mysql} -h 127.0.0.1 -P 9 shop -e 'select 1' 2>/dev/null; true`);
    await run(`curl -s -u deploy:${S.curl} http://127.0.0.1:9/ 2>/dev/null; true`);
    await run(`sshpass -p '${S.sshpass}' ssh nobody@127.0.0.1 2>/dev/null; true`);
    await run(`htpasswd -b /tmp/vigil-htpasswd admin ${S.htpasswd} 2>/dev/null; true`);
    await run(`PGPASSWORD=${S.pgpassword} psql -h 127.0.0.1 -p 9 -c 'select 1' 2>/dev/null; true`);
    await run(`export AWS_SECRET_ACCESS_KEY=${S.awsSecret}; echo exported`);
    await run(`cd ${home} && cat app.env secret.yaml client.json id_demo`);
    // Typed at a shell in a real terminal (tmux), line by line.
    const c = await h.client('box');
    const ssh = ['ssh', ...c.args, '-tt', '-p', String(h.port), c.destination, 'sh'].map((a) => `'${a}'`).join(' ');
    const tmux = (...args: string[]) => terminals.command(c.env)(...args);
    tmux('new-session', '-d', '-s', 't', '-x', '120', '-y', '30', ssh);
    await expect.poll(() => tmux('capture-pane', '-p', '-t', 't'), { timeout: 20_000 }).toMatch(/[$#] *$/m);
    tmux('send-keys', '-t', 't', `export GITHUB_TOKEN=${S.typedToken}; echo token-set`, 'Enter');
    await expect.poll(() => tmux('capture-pane', '-p', '-t', 't'), { timeout: 10_000 }).toContain('token-set');
    tmux('send-keys', '-t', 't', `mysql -p${S.typedMysql} -h 127.0.0.1 -P 9 -e 'select 1' 2>/dev/null; echo mysql-tried`, 'Enter');
    await expect.poll(() => tmux('capture-pane', '-p', '-t', 't'), { timeout: 10_000 }).toContain('mysql-tried');
    tmux('send-keys', '-t', 't', 'exit', 'Enter');
    await h.waitForEnded(8);

    const stored = JSON.stringify(await h.sessions());
    for (const [where, value] of Object.entries(S)) expect(stored, `${where} in the store`).not.toContain(value);
    for (const encoded of [b64(S.yamlPassword)]) expect(stored).not.toContain(encoded);
    // The commands stay readable around what was masked.
    expect(stored).toContain('mysql -u root -p[PASSWORD]');
    expect(stored).toContain('curl -s -u deploy:[PASSWORD]');
    expect(stored).toContain('LOG_LEVEL=info');
  });
});
