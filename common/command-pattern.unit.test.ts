import { describe, expect, it } from 'vitest';
import { CommandPattern } from './command-pattern.ts';

const m = (pattern: string, argv: Array<string | null>) => CommandPattern.parse(pattern).match(argv);
const words = (line: string) => line.split(' ');

describe('a command pattern', () => {
  it('when the options are there in any order, spelling or cluster, then it matches', () => {
    for (const argv of ['rm -r -f d', 'rm -rf d', 'rm -fr d', 'rm -Rfr d', 'rm -f d -r', 'rm -v -r -i -f d', '/bin/rm -rf d', '/usr/bin/rm -f -r d']) {
      expect(m('rm -r -f', words(argv)), argv).toBe('yes');
      expect(m('rm -rf', words(argv)), argv).toBe('yes');
    }
    expect(m('rm -r|-R|--recursive -f|--force', words('rm --recursive --force d'))).toBe('yes');
    expect(m('rm -r|-R|--recursive -f|--force', words('rm -R --force=yes d'))).toBe('yes');
    // GNU getopt takes an unambiguous prefix of a long option.
    expect(m('rm --recursive --force', words('rm --rec --forc d'))).toBe('yes');
  });

  it('when an option is missing, only after --, or another command, then it does not match', () => {
    expect(m('rm -r -f', words('rm file.txt'))).toBe('no');
    expect(m('rm -r -f', words('rm -r d'))).toBe('no');
    expect(m('rm -r -f', words('rm -- -rf'))).toBe('no');
    expect(m('rm -r -f', words('grep -r -f patterns .'))).toBe('no');
    expect(m('rm -r -f', words('rmdir -rf d'))).toBe('no');
    expect(m('rm --force', words('rm --forceful d'))).toBe('no');
    expect(m('rm', [])).toBe('no');
  });

  it('when the operands come in order among the other arguments, then it matches', () => {
    expect(m('kubectl delete', words('kubectl -n prod delete pod x'))).toBe('yes');
    expect(m('systemctl stop', words('systemctl --now stop nginx'))).toBe('yes');
    expect(m('terraform destroy', words('terraform destroy -auto-approve'))).toBe('yes');
    expect(m('kubectl delete pod|pods', words('kubectl delete -n x pods a'))).toBe('yes');
    expect(m('git push *origin*', words('git push my-origin main'))).toBe('yes');
    expect(m('kubectl delete', words('kubectl get pods'))).toBe('no');
    expect(m('kubectl delete pod', words('kubectl pod delete'))).toBe('no');
  });

  it('when the name has a wildcard or alternatives, then it matches the basename against each', () => {
    expect(m('mkfs*', words('mkfs.ext4 /dev/sda1'))).toBe('yes');
    expect(m('mkfs*', words('/sbin/mkfs -t xfs /dev/sdb'))).toBe('yes');
    expect(m('mkfs*', words('mkdir x'))).toBe('no');
    expect(m('shutdown|reboot', words('/sbin/reboot'))).toBe('yes');
    expect(m('mkfs.ext4', words('mkfsxext4'))).toBe('no');
  });

  it('when a word is not static, then it is maybe, unless the static words already match', () => {
    expect(m('rm -r -f', [null, '-rf', 'd'])).toBe('maybe');
    expect(m('ls', [null])).toBe('maybe');
    expect(m('rm -r -f', ['rm', '-rf', null])).toBe('yes');
    expect(m('rm -r -f', ['rm', null, 'd'])).toBe('maybe');
    expect(m('kubectl delete', ['kubectl', null])).toBe('maybe');
    expect(m('rm -r -f', ['ls', null])).toBe('no');
  });

  it('when it is written as a regular expression or is empty, then parsing says how to write it', () => {
    for (const bad of ['', '   ', 'rm\\s+-rf', '^rm', 'rm$', '(rm|del)', 'rm [-]rf', 'rm -r+', 'rm?', 'rm.*', 'rm -rf;', '-rf', 'rm -r|', 'rm a||b', 'rm -r|x', 'rm --force=yes', 'rm -*', 'rm --']) {
      expect(() => CommandPattern.parse(bad), bad).toThrow(/command/);
    }
    expect(() => CommandPattern.parse('^rm -rf')).toThrow(/regular expression.*"rm -r -f"/);
  });

  it('describes itself for explanations', () => {
    expect(CommandPattern.parse('rm -r -f').describe()).toBe('rm with -r and -f');
    expect(CommandPattern.parse('rm -rf').describe()).toBe('rm with -r and -f');
    expect(CommandPattern.parse('rm -r|-R|--recursive -f|--force').describe()).toBe('rm with -r (or -R, --recursive) and -f (or --force)');
    expect(CommandPattern.parse('kubectl delete').describe()).toBe('kubectl with delete');
    expect(CommandPattern.parse('reboot').describe()).toBe('reboot');
    expect(CommandPattern.parse('  kubectl   delete ').name).toBe('kubectl');
  });
});
