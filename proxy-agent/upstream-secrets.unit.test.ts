import { describe, expect, it } from 'vitest';
import { parseConfig } from '../common/config/load-config.ts';
import type { PostgresTarget, SshTarget } from '../common/config/schema.ts';
import { resolveUpstream } from './agent.ts';
import { resolveSshUpstream } from './ssh/upstream-ssh.ts';

const [pg, ssh] = parseConfig({
  targets: [
    { name: 'billing', protocol: 'postgres', listen: '127.0.0.1:0', upstream: { host: 'h', database: 'd', user: 'u', passwordEnv: 'BILLING_PW' } },
    { name: 'web-1', protocol: 'ssh', upstream: { host: 'h', user: 'u', passwordEnv: 'WEB1_PW', hostKey: 'SHA256:abc' } },
  ],
}).targets as [PostgresTarget, SshTarget];

describe('upstream passwords from the environment', () => {
  it('when the variable holds a password, then the agent logs in with it', () => {
    expect(resolveUpstream(pg, { BILLING_PW: 's3cret' }).password).toBe('s3cret');
    expect(resolveSshUpstream(ssh, { WEB1_PW: 's3cret' }).password).toBe('s3cret');
  });

  it('when the variable is empty, then the agent refuses to start, naming it', () => {
    expect(() => resolveUpstream(pg, { BILLING_PW: '' })).toThrow('target billing: environment variable BILLING_PW (upstream.passwordEnv) is empty');
    expect(() => resolveSshUpstream(ssh, { WEB1_PW: '' })).toThrow('target web-1: environment variable WEB1_PW (upstream.passwordEnv) is empty');
  });

  it('when the variable is not set, then the agent refuses to start, naming it', () => {
    expect(() => resolveUpstream(pg, {})).toThrow('BILLING_PW (upstream.passwordEnv) is not set');
    expect(() => resolveSshUpstream(ssh, {})).toThrow('WEB1_PW (upstream.passwordEnv) is not set');
  });
});
