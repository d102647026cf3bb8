import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { runVigil } from './run-vigil.ts';

// Each case starts a Node process through tsx; on a loaded 2-core machine that takes a while.
vi.setConfig({ testTimeout: 120_000 });

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-config-check-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const write = (name: string, lines: string[]) => {
  const file = path.join(dir, name);
  fs.writeFileSync(file, lines.join('\n'));
  return file;
};

describe('vigil config check', () => {
  it('when the documented example and the secrets it names are given, then it prints a one-line summary and exits 0', async () => {
    const res = await runVigil(['config', 'check', 'examples/vigil.yaml'], { BILLING_DB_PASSWORD: 'x' });
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(res.stdout).toBe('ok: 2 targets (billing: postgres on 0.0.0.0:6543, web-1: ssh on 0.0.0.0:2222), hub on 127.0.0.1:8080, secrets from BILLING_DB_PASSWORD\n');
  });

  it('when the file has several bad fields, then each is named on its own line and it exits 1', async () => {
    const file = write('bad.yaml', [
      'hub: { listen: "127.0.0.1:99999" }',
      'targets:',
      '  - name: demo',
      '    protocol: postgres',
      '    listen: 127.0.0.1:15432',
      '    upstream: { host: h, database: d, user: u, password: "" }',
      '    masking:',
      '      rules: [{ name: EMP, pattern: "EMP-(\\\\d" }]',
    ]);
    const res = await runVigil(['config', 'check', file], {});
    expect(res.code).toBe(1);
    expect(res.stdout).toBe('');
    expect(res.stderr.split('\n')).toEqual([
      `vigil: invalid config ${file}:`,
      '  hub.listen: port 99999 is out of range: expected 0 (any free port) to 65535',
      '  targets.0.upstream.password: empty: omit it when the upstream needs no password',
      '  targets.0.masking.rules.0.pattern: not a valid regular expression: Invalid regular expression: /EMP-(\\d/: Unterminated group',
      '',
    ]);
  });

  it('when secrets the processes would read are missing or empty, then it names each variable; --role limits it to one process', async () => {
    const file = write('secrets.yaml', [
      'hub:',
      '  auth:',
      '    oidc: { issuer: "https://idp.example.com", clientId: vigil, roles: { map: { ops: [admin] } } }',
      'targets:',
      '  - { name: billing, protocol: postgres, listen: "127.0.0.1:6543", upstream: { host: h, database: d, user: u, passwordEnv: BILLING_PW } }',
    ]);
    const [both, agent] = await Promise.all([
      runVigil(['config', 'check', file], { BILLING_PW: '' }),
      runVigil(['config', 'check', '--role', 'agent', file], { BILLING_PW: 'x' }),
    ]);
    expect(both.code).toBe(1);
    expect(both.stderr).toContain('\n  target billing: environment variable BILLING_PW (upstream.passwordEnv) is empty\n');
    expect(both.stderr).toContain('\n  hub: environment variable VIGIL_OIDC_CLIENT_SECRET (hub.auth.oidc.clientSecretEnv) is not set');
    expect(agent.stderr).toBe('');
    expect(agent.code).toBe(0);
    expect(agent.stdout).toMatch(/^ok: 1 target \(billing: postgres on 127\.0\.0\.1:6543\), hub on 127\.0\.0\.1:8080, secrets from BILLING_PW\n$/);
  });

  it('when an environment override is not valid YAML, then the message names the variable', async () => {
    const res = await runVigil(['config', 'check', 'examples/vigil.yaml'], { BILLING_DB_PASSWORD: 'x', VIGIL__TARGETS__BILLING__MASKING__RULES: '[oops' });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('VIGIL__TARGETS__BILLING__MASKING__RULES: not valid YAML');
  });
});
