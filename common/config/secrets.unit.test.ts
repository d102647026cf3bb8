import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from './load-config.ts';
import { checkSecrets, envSecrets, readSecret, secretProblem, sessionSecretOf } from './secrets.ts';

const config = parseConfig({
  hub: { auth: { oidc: { issuer: 'https://idp.example.com', clientId: 'vigil', roles: { map: { ops: ['admin'] } } } } },
  targets: [
    { name: 'billing', protocol: 'postgres', listen: '127.0.0.1:0', upstream: { host: 'h', database: 'd', user: 'u', passwordEnv: 'BILLING_PW' } },
    { name: 'plain', protocol: 'postgres', listen: '127.0.0.1:0', upstream: { host: 'h', database: 'd', user: 'u', password: 'inline' } },
    { name: 'web-1', protocol: 'ssh', upstream: { host: 'h', user: 'u', passwordEnv: 'WEB1_PW', hostKey: 'SHA256:abc' } },
  ],
});
const problems = (env: Record<string, string>) => envSecrets(config).map((s) => secretProblem(s, env)).filter(Boolean);
const goodEnv = { BILLING_PW: 'b', WEB1_PW: 'w', VIGIL_OIDC_CLIENT_SECRET: 'c' };

describe('secrets from the environment', () => {
  it('when the config is read, then every variable a hub or agent would read is listed with who reads it', () => {
    expect(envSecrets(config).map((s) => [s.role, s.variable])).toEqual([
      ['agent', 'BILLING_PW'], ['agent', 'WEB1_PW'], ['hub', 'VIGIL_OIDC_CLIENT_SECRET'], ['hub', 'VIGIL_SESSION_SECRET'],
    ]);
  });

  it('when every secret is set, then there is no problem and the values are read', () => {
    expect(problems(goodEnv)).toEqual([]);
    expect(envSecrets(config).map((s) => readSecret(s, goodEnv))).toEqual(['b', 'w', 'c', undefined]);
  });

  it('when secrets are unset or empty, then each problem names the variable and the setting that points at it', () => {
    expect(problems({ BILLING_PW: '', VIGIL_SESSION_SECRET: '' })).toEqual([
      'target billing: environment variable BILLING_PW (upstream.passwordEnv) is empty',
      'target web-1: environment variable WEB1_PW (upstream.passwordEnv) is not set',
      'hub: environment variable VIGIL_OIDC_CLIENT_SECRET (hub.auth.oidc.clientSecretEnv) is not set',
      'hub: environment variable VIGIL_SESSION_SECRET (hub.auth.sessionSecretEnv) is empty',
    ]);
  });

  it('when the session secret is short, then it is refused; when unset, then the hub may make its own', () => {
    const secret = sessionSecretOf(config.hub.auth);
    expect(() => readSecret(secret, { VIGIL_SESSION_SECRET: 'short' })).toThrow('VIGIL_SESSION_SECRET (hub.auth.sessionSecretEnv) must hold at least 32 characters');
    expect(readSecret(secret, {})).toBeUndefined();
  });

  it('when a process starts, then all of its own secrets are checked at once and the other process\'s are not', () => {
    expect(() => checkSecrets(config, 'vigil.yaml', 'agent', {})).toThrow(/^invalid config vigil\.yaml:\n {2}target billing: .* is not set\n {2}target web-1: .* is not set$/);
    expect(checkSecrets(config, 'vigil.yaml', 'agent', { BILLING_PW: 'b', WEB1_PW: 'w' }).map((s) => s.variable)).toEqual(['BILLING_PW', 'WEB1_PW']);
    expect(() => checkSecrets(config, 'vigil.yaml', 'hub', { BILLING_PW: 'b', WEB1_PW: 'w' })).toThrow(/^invalid config vigil\.yaml:\n {2}hub: environment variable VIGIL_OIDC_CLIENT_SECRET .* is not set$/);
  });

  it('when a secret is read for start-up and is empty, then it is a ConfigError (printed without a stack)', () => {
    const [billing] = envSecrets(config);
    expect(() => readSecret(billing, { BILLING_PW: '' })).toThrow(ConfigError);
  });
});
