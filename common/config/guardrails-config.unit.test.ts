import { describe, expect, it } from 'vitest';
import { parseConfig } from './load-config.ts';

const pgTarget = (guardrails: unknown[]) => ({ name: 'db', protocol: 'postgres', listen: '127.0.0.1:0', upstream: { host: 'h', database: 'd', user: 'u' }, guardrails });
const sshTarget = (guardrails: unknown[]) => ({ name: 'box', protocol: 'ssh', upstream: { host: 'h', user: 'u', passwordEnv: 'P', hostKey: 'SHA256:abc' }, guardrails });

describe('guardrails in the config', () => {
  it('when rules fit their target, then the config loads', () => {
    const config = parseConfig({
      targets: [
        pgTarget([{ name: 'no-drops', statements: ['DROP'], action: 'deny' }, { name: 'held', statements: ['TRUNCATE'], action: 'approve' }]),
        sshTarget([{ name: 'no-reboot', command: 'reboot', action: 'deny' }]),
      ],
    });
    expect(config.targets.map((t) => t.guardrails.length)).toEqual([2, 1]);
    // Open access and one approval from anyone with the role, unless the target says otherwise.
    expect(config.targets[0]).toMatchObject({ access: 'open', approval: { minApprovals: 1, approverGroups: [], reasonRequired: true, adminSelfApproval: false } });
  });

  it.each([
    [pgTarget([{ name: 'x', command: 'rm', action: 'deny' }]), /matches statements or sql/],
    [sshTarget([{ name: 'x', statements: ['DROP'], action: 'deny' }]), /matches command lines/],
    [{ ...pgTarget([]), access: 'jit', approval: { defaultDuration: '2h', maxDuration: '1h' } }, /defaultDuration is longer than maxDuration/],
    [{ ...pgTarget([]), access: 'sometimes' }, /access/],
    [{ ...pgTarget([]), approval: { minApprovals: 0 } }, /minApprovals/],
    [pgTarget([{ name: 'x', sql: '(', action: 'deny' }]), /not a valid regular expression/],
    [pgTarget([{ name: 'x', statements: ['NUKE'], action: 'deny' }]), /statements/],
    [pgTarget([{ name: 'x', statements: ['DROP'], maxRows: 10, action: 'deny' }]), /maxRows needs statements that write rows/],
    [pgTarget([{ name: 'x', statements: ['DELETE'], maxRows: 10, action: 'allow' }]), /maxRows limits a deny or approve rule/],
    [sshTarget([{ name: 'x', command: '^\\s*rm\\s+-rf', action: 'deny' }]), /looks like a regular expression/],
    [{ ...pgTarget([]), guardrailUnknown: 'sometimes' }, /guardrailUnknown/],
  ])('when a rule does not fit (%#), then start-up says why', (target, message) => {
    expect(() => parseConfig({ targets: [target] })).toThrow(message);
  });
});
