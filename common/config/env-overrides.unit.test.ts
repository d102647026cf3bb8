import { describe, expect, it } from 'vitest';
import { loadConfig } from './load-config.ts';

const file = () => ({
  targets: [{ name: 'demo', protocol: 'postgres', listen: '127.0.0.1:15432', upstream: { host: 'h', database: 'd', user: 'u' } }],
});
const load = (env: Record<string, string>) => loadConfig(undefined, env, file());

describe('environment overrides', () => {
  it('when overrides are valid, then they apply with their YAML types', () => {
    const config = load({ VIGIL__TARGETS__DEMO__MASKING__RULES: '[{name: EMP, pattern: "EMP-\\\\d+"}]', VIGIL__TARGETS__DEMO__MAXROWS: '5' });
    expect(config.targets[0]).toMatchObject({ maxRows: 5, masking: { rules: [{ name: 'EMP', pattern: 'EMP-\\d+' }] } });
  });

  it('when a value is one word ending in a colon, such as a key prefix, then it is that text, not a YAML mapping', () => {
    expect(load({ VIGIL__REDIS__KEYPREFIX: 'prod-vigil:' }).redis.keyPrefix).toBe('prod-vigil:');
    expect(load({ VIGIL__REDIS__KEYPREFIX: 'a:b:' }).redis.keyPrefix).toBe('a:b:');
    // A mapping written as one is still a mapping.
    expect(load({ VIGIL__HUB__RATELIMITS: 'loginsPerMinute: 5' }).hub.rateLimits.loginsPerMinute).toBe(5);
  });

  it('when an override is not valid YAML, then the error names the variable and the parser\'s reason on one line', () => {
    expect(() => load({ VIGIL__TARGETS__DEMO__MASKING__RULES: '[oops' }))
      .toThrow(/^invalid config \(defaults\):\n {2}VIGIL__TARGETS__DEMO__MASKING__RULES: not valid YAML: Flow sequence must end with a \] at line 1, column 6$/);
  });

  it('when several overrides are broken, then each is reported on its own line', () => {
    let message = '';
    try {
      load({ VIGIL__TARGETS__DEMO__MASKING__RULES: '[oops', VIGIL__HUB__AUTH: '{a: 1', VIGIL__TARGETS__DEMO: 'x' });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message.split('\n').slice(1)).toEqual([
      expect.stringMatching(/^ {2}VIGIL__TARGETS__DEMO__MASKING__RULES: not valid YAML: /),
      expect.stringMatching(/^ {2}VIGIL__HUB__AUTH: not valid YAML: /),
      '  VIGIL__TARGETS__DEMO: cannot replace a whole list item',
    ]);
  });

  it('when an override makes a setting invalid, then the schema error says which variable set it', () => {
    expect(() => load({ VIGIL__TARGETS__DEMO__LISTEN: '127.0.0.1:99999' }))
      .toThrow('targets.0.listen: port 99999 is out of range: expected 0 (any free port) to 65535 (from VIGIL__TARGETS__DEMO__LISTEN)');
    expect(() => load({ VIGIL__TARGETS__DEMO__MASKING__RULES: '[{name: EMP, pattern: "("}]' }))
      .toThrow(/targets\.0\.masking\.rules\.0\.pattern: not a valid regular expression: .* \(from VIGIL__TARGETS__DEMO__MASKING__RULES\)/);
    expect(() => load({ REDIS_URL: 'not a url' })).toThrow(/redis\.url: .* \(from REDIS_URL\)/);
  });

  it('when an override creates a target, then what that target lacks is blamed on the variable', () => {
    expect(() => load({ VIGIL__TARGETS__OTHER__LISTEN: '127.0.0.1:1' })).toThrow(/targets\.1\.protocol: .* \(from VIGIL__TARGETS__OTHER__LISTEN\)/);
  });

  it('when the file itself is wrong, then no variable is blamed', () => {
    const broken = { targets: [{ ...file().targets[0], listen: 'nowhere' }] };
    expect(() => loadConfig(undefined, { VIGIL__TARGETS__DEMO__MAXROWS: '5' }, broken)).toThrow(/targets\.0\.listen: expected host:port, e\.g\. 127\.0\.0\.1:15432$/);
  });
});
