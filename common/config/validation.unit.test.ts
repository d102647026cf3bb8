import { describe, expect, it } from 'vitest';
import { parseConfig } from './load-config.ts';

const pg = (extra: Record<string, unknown> = {}) => ({ name: 'db', protocol: 'postgres', listen: '127.0.0.1:15432', upstream: { host: 'h', database: 'd', user: 'u' }, ...extra });
const rules = (...r: unknown[]) => pg({ masking: { rules: r } });

describe('ports', () => {
  it.each(['127.0.0.1:0', '127.0.0.1:1', '0.0.0.0:65535', '[::1]:8080', 'db-gateway:5432'])('when a listen address is %s, then it is accepted', (listen) => {
    expect(parseConfig({ targets: [pg({ listen })] }).targets[0]).toMatchObject({ listen });
  });

  it.each([
    [{ targets: [pg({ listen: '127.0.0.1:99999' })] }, 'targets.0.listen: port 99999 is out of range: expected 0 (any free port) to 65535'],
    [{ targets: [pg({ listen: '[::1]:65536' })] }, 'targets.0.listen: port 65536 is out of range'],
    [{ hub: { listen: '127.0.0.1:70000' } }, 'hub.listen: port 70000 is out of range'],
    [{ agent: { ssh: { listen: '0.0.0.0:99999' } } }, 'agent.ssh.listen: port 99999 is out of range'],
    [{ targets: [pg({ upstream: { host: 'h', database: 'd', user: 'u', port: 0 } })] }, 'targets.0.upstream.port'],
    [{ targets: [pg({ upstream: { host: 'h', database: 'd', user: 'u', port: 65536 } })] }, 'targets.0.upstream.port'],
    [{ redis: { url: 'redis://127.0.0.1:99999' } }, 'redis.url'],
  ])('when a port is out of range (%#), then the field is named', (raw, message) => {
    expect(() => parseConfig(raw)).toThrow(message);
  });

  it('when the address is malformed, then only the format is reported, not a range as well', () => {
    expect(() => parseConfig({ hub: { listen: 'nowhere' } })).toThrow(/hub\.listen: expected host:port, e\.g\. 127\.0\.0\.1:15432$/);
  });
});

describe('regular expressions', () => {
  it('when masking rules compile with their flags, then the config loads', () => {
    const config = parseConfig({ targets: [rules({ name: 'EMP', pattern: 'EMP-\\d{6}' }, { name: 'UNI', pattern: '\\p{L}+', flags: 'iu' })] });
    expect(config.targets[0].masking.rules).toHaveLength(2);
  });

  it.each([
    [rules({ name: 'EMP', pattern: 'EMP-(\\d' }), 'targets.0.masking.rules.0.pattern: not a valid regular expression: Invalid regular expression: /EMP-(\\d/: Unterminated group'],
    // Valid without the u flag, not with it: the pattern is judged with the flags the masker uses.
    [rules({ name: 'OK', pattern: 'a' }, { name: 'EMP', pattern: '\\p{L', flags: 'u' }), 'targets.0.masking.rules.1.pattern: not a valid regular expression: Invalid regular expression: /\\p{L/u'],
    [rules({ name: 'EMP', pattern: 'a', flags: 'ii' }), 'targets.0.masking.rules.0.flags: Invalid flags'],
    [rules({ name: 'EMP', pattern: 'a', flags: 'g' }), 'targets.0.masking.rules.0.flags: flags are some of i, m, s and u'],
    [pg({ guardrails: [{ name: 'x', sql: 'drop (table', action: 'deny' }] }), 'targets.0.guardrails.0.sql: not a valid regular expression: Invalid regular expression: /drop (table/i: Unterminated group'],
    [{ name: 'box', protocol: 'ssh', upstream: { host: 'h', user: 'u', passwordEnv: 'P', hostKey: 'SHA256:abc' }, guardrails: [{ name: 'x', command: '[rm', action: 'deny' }] }, 'targets.0.guardrails.0.command: the command rule "[rm" looks like a regular expression ("[rm"): it names a command and its arguments as words, e.g. "rm -r -f" or "kubectl delete", with * as a wildcard and | between alternatives'],
  ])('when a regular expression does not compile (%#), then the field and the engine\'s reason are named', (target, message) => {
    expect(() => parseConfig({ targets: [target] })).toThrow(message);
  });
});

describe('empty secrets', () => {
  it('when an upstream password is empty in the file, then the config is refused', () => {
    expect(() => parseConfig({ targets: [pg({ upstream: { host: 'h', database: 'd', user: 'u', password: '' } })] }))
      .toThrow('targets.0.upstream.password: empty: omit it when the upstream needs no password');
  });

  it('when passwordEnv names no variable, then the config is refused', () => {
    expect(() => parseConfig({ targets: [pg({ upstream: { host: 'h', database: 'd', user: 'u', passwordEnv: '' } })] }))
      .toThrow('targets.0.upstream.passwordEnv: empty: name the environment variable that holds the secret');
  });
});
