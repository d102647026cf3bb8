// The SSH half of issue 18's bypass corpus, through the real OpenSSH client and a real sshd: a rule
// naming `rm` with -r and -f holds against every phrasing (quoting, split or long options, a path,
// sh -c strings, sudo/env/xargs/find -exec/timeout wrappers, lists, subshells, substitutions), and
// what cannot be read (a command in a variable, eval, base64 | sh) is refused by default. Each case
// asserts the directory is still there, not only that an error came back. Ordinary commands run.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ofType } from '../support/recordings.ts';
import { startSshHarness, type SshHarness } from '../support/ssh-harness.ts';

vi.setConfig({ testTimeout: 60_000, hookTimeout: 120_000 });

let base: SshHarness;
let h: SshHarness;
let victim: string;

beforeAll(async () => {
  base = await startSshHarness();
  const up = { host: '127.0.0.1', port: base.sshd.port, user: base.sshd.user, privateKeyFile: base.sshd.clientKeyFile, hostKey: base.sshd.hostKey };
  h = await startSshHarness({
    targets: [{
      name: 'guarded-box', protocol: 'ssh', upstream: up,
      guardrails: [
        { name: 'no-tree-deletes', command: 'rm -r|-R|--recursive -f|--force', action: 'deny', message: 'delete trees from a reviewed script' },
        { name: 'no-shutdown', command: 'shutdown|reboot|poweroff', action: 'deny' },
      ],
    }],
  });
  victim = path.join(h.dir, 'victim');
});
afterAll(async () => {
  await h?.stop();
  await base?.stop();
});

function plant(): void {
  fs.mkdirSync(path.join(victim, 'sub'), { recursive: true });
  fs.writeFileSync(path.join(victim, 'sub', 'keep.txt'), 'still here');
}

const D = () => victim;
const b64 = (s: string) => Buffer.from(s).toString('base64');

const CORPUS: Array<[string, () => string]> = [
  ['plain', () => `rm -rf ${D()}`],
  ['split options', () => `rm -r -f ${D()}`],
  ['reordered', () => `rm -fr ${D()}`],
  ['long options', () => `rm --recursive --force ${D()}`],
  ['a path', () => `/bin/rm -Rf ${D()}`],
  ['a backslash', () => `\\rm -rf ${D()}`],
  ['empty quotes', () => `r''m -rf ${D()}`],
  ['ANSI-C quoting', () => `$'\\x72m' -rf ${D()}`],
  ['sh -c', () => `sh -c "r''m -rf ${D()}"`],
  ['bash -c in a list', () => `true && bash -c 'rm -r -f ${D()}'`],
  ['a variable', () => `x=rm; $x -rf ${D()}`],
  ['sudo', () => `sudo -n rm -rf ${D()} || true`],
  ['env', () => `env A=1 rm -rf ${D()}`],
  ['xargs', () => `echo ${D()} | xargs rm -rf`],
  ['find -exec', () => `find ${D()} -maxdepth 0 -exec rm -rf {} \\;`],
  ['timeout', () => `timeout 5 rm -rf ${D()}`],
  ['a subshell', () => `(cd / && rm -rf ${D()})`],
  ['a substitution', () => `echo $(rm -rf ${D()})`],
  ['eval', () => `eval "rm -rf ${D()}"`],
  ['base64 | sh', () => `echo ${b64(`rm -rf ${D()}`)} | base64 -d | sh`],
  ['a pipeline', () => `ls / | rm -rf ${D()}`],
  ['command', () => `command rm -rf ${D()}`],
];

describe('command guardrails over ssh exec: the corpus', () => {
  beforeAll(() => plant());

  // Side by side (each its own ssh connection): a phrasing that got through would delete the
  // directory under all of them, and its own case is the one without the refusal.
  it.concurrent.each(CORPUS)('when the tree delete is phrased with %s, then it is refused and the directory is still there', async (_name, line) => {
    const r = await h.ssh('guarded-box', [line()]);
    expect(r.stderr).toMatch(/vigil: guardrail no-tree-deletes denied this command/);
    expect(r.code).toBe(1);
    expect(fs.readFileSync(path.join(victim, 'sub', 'keep.txt'), 'utf8')).toBe('still here');
  });
});

describe('command guardrails over ssh exec', () => {
  it('when a command is refused, then the recording has the hit and the client reads which command where', async () => {
    plant();
    const r = await h.ssh('guarded-box', [`bash -c 'sudo rm -rf ${D()}'`]);
    expect(r.stderr).toContain(`vigil: guardrail no-tree-deletes denied this command (rm -rf ${D()}, in bash -c > sudo): delete trees from a reviewed script`);
    const events = await h.sessionWhere((e) => e.type === 'guardrail.hit' && e.data.statement.includes("bash -c 'sudo"));
    expect(ofType(events, 'guardrail.hit')[0].data).toMatchObject({ rule: 'no-tree-deletes', action: 'deny', form: 'in bash -c > sudo' });
  });

  it('when ordinary commands run (pipelines, a file rm, strings that mention rm -rf), then none is refused', async () => {
    plant();
    fs.writeFileSync(path.join(victim, 'old.log'), 'x');
    const lines = [
      `ls -la ${D()} | grep sub | sort | uniq -c | head -n 5`,
      `rm ${D()}/old.log`,
      `echo "rm -rf ${D()}" > /dev/null`,
      `grep -r -F still ${D()} | wc -l`,
      `for f in ${D()}/sub/*; do cat "$f"; done`,
      `find ${D()} -name '*.txt' -exec cat {} \\;`,
    ];
    const results = await Promise.all(lines.map((line) => h.ssh('guarded-box', [line])));
    results.forEach((r, i) => {
      expect(r.stderr, lines[i]).not.toContain('vigil: guardrail');
      expect(r.code, lines[i]).toBe(0);
    });
    expect(fs.existsSync(path.join(victim, 'old.log'))).toBe(false);
    expect(fs.readFileSync(path.join(victim, 'sub', 'keep.txt'), 'utf8')).toBe('still here');
  });
});
