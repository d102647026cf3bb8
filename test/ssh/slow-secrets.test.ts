// Masking leaks of issue 19, through the real OpenSSH client and server: a 2048-bit RSA private key
// printed line by line with pauses (by exec, and in an interactive shell in a real terminal) is
// masked whole in the recording, as when printed at once; an answer typed where the terminal does
// not echo (`read -s` at a prompt with no password-like word, `stty -echo; read`) is recorded as a
// count of hidden characters, while a command typed at the shell is recorded as text.
import crypto from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { VigilEvent } from '../../common/events/index.ts';
import { ofType } from '../support/recordings.ts';
import { tmuxServer } from '../support/tmux.ts';
import { startSshHarness, type SshHarness } from '../support/ssh-harness.ts';

vi.setConfig({ testTimeout: 90_000, hookTimeout: 60_000 });

let h: SshHarness;
const terminals = tmuxServer();
beforeAll(async () => {
  h = await startSshHarness();
});
afterAll(async () => {
  terminals.kill();
  await h?.stop();
});

/** A fresh 2048-bit RSA key in the target's home, as `ssh-keygen -m PEM` writes it; its base64 lines. */
function rsaKey(name: string): { file: string; body: string[]; end: string } {
  const file = path.join(h.sshd.dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', 'rsa', '-b', '2048', '-m', 'PEM', '-N', '', '-C', 'slow', '-f', file]);
  const lines = fs.readFileSync(file, 'utf8').trim().split('\n');
  expect(lines[0]).toMatch(/^-----BEGIN RSA PRIVATE KEY-----$/);
  return { file, body: lines.filter((l) => !l.startsWith('-----')), end: lines.at(-1)! };
}

/**
 * Prints `file` a line at a time, each line in two writes, with pauses of 100 to 300 ms, then
 * `marker`-42 (computed, so a screen shows it only once the command ran).
 */
const slowCat = (file: string, marker: string) =>
  `i=0; while IFS= read -r l; do printf '%s' "\${l:0:20}"; sleep 0.1; printf '%s\\n' "\${l:20}"; i=$((i+1)); sleep 0.$((i % 3 + 1)); done < '${file}'; echo ${marker}-$((6*7))`;

/** Every 16-character piece of each key line (a line may be recorded in pieces). */
function expectNoKeyIn(recorded: string, key: { body: string[]; end: string }): void {
  for (const line of key.body) {
    for (let at = 0; at + 16 <= line.length; at += 8) expect(recorded, `key line ${line}`).not.toContain(line.slice(at, at + 16));
  }
  expect(recorded).not.toContain(key.end);
}

const outputOf = (events: VigilEvent[]) => ofType(events, 'term.output').map((e) => e.data.text).join('');

describe('slow secrets and silent answers in SSH sessions', () => {
  it('when a private key is printed line by line with pauses by exec, then the recording masks it whole', async () => {
    const key = rsaKey('exec_key.pem');
    const result = await h.ssh('box', [slowCat(key.file, 'exec-printed')]);
    expect(result.stdout).toContain(key.body[3]); // the client sees the key: only the recording masks it
    const events = await h.sessionWhere((e) => e.type === 'ssh.exec' && e.data.command.includes('exec-printed'));
    const shown = outputOf(events);
    expect(shown).toContain('[PRIVATE_KEY]\nexec-printed-42');
    expect(shown.match(/\[PRIVATE_KEY\]/g)).toHaveLength(1);
    expectNoKeyIn(JSON.stringify(events), key);
  });

  it('when a key is printed slowly, a secret is typed where nothing echoes and a command is typed in a real terminal, then only the command is recorded in clear', async () => {
    const key = rsaKey('tty_key.pem');
    const typedSilently = `Rs${crypto.randomBytes(6).toString('hex')}`;
    const pastedSilently = `Se${crypto.randomBytes(6).toString('hex')}`;
    const c = await h.client('box');
    const ssh = ['ssh', ...c.args, '-tt', '-p', String(h.port), c.destination, 'bash --norc --noprofile -i'].map((a) => `'${a}'`).join(' ');
    const tmux = (...args: string[]) => terminals.command(c.env)(...args);
    const screen = () => tmux('capture-pane', '-p', '-t', 't');
    const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
    tmux('new-session', '-d', '-s', 't', '-x', '120', '-y', '40', ssh);
    await expect.poll(screen, { timeout: 20_000 }).toMatch(/[$#] *$/m);

    tmux('send-keys', '-t', 't', slowCat(key.file, 'tty-printed'), 'Enter');
    await expect.poll(screen, { timeout: 30_000, interval: 250 }).toContain('tty-printed-42');

    // `read -s` at a prompt that names nothing secret, typed key by key.
    tmux('send-keys', '-t', 't', "read -s -p 'pw: ' x; echo; echo got-${#x}", 'Enter');
    await expect.poll(screen, { timeout: 10_000 }).toMatch(/pw: *$/m);
    await pause(200);
    for (const ch of typedSilently) {
      tmux('send-keys', '-t', 't', '-l', ch);
      await pause(40);
    }
    tmux('send-keys', '-t', 't', 'Enter');
    await expect.poll(screen, { timeout: 10_000 }).toContain(`got-${typedSilently.length}`);

    // Echo turned off, no prompt at all, the answer arriving at once.
    tmux('send-keys', '-t', 't', 'stty -echo; echo ready-$((1+1)); read y; stty echo; echo got2-${#y}', 'Enter');
    await expect.poll(screen, { timeout: 10_000 }).toContain('ready-2');
    await pause(200);
    tmux('send-keys', '-t', 't', pastedSilently, 'Enter');
    await expect.poll(screen, { timeout: 10_000 }).toContain(`got2-${pastedSilently.length}`);

    tmux('send-keys', '-t', 't', 'echo hello', 'Enter');
    await expect.poll(screen, { timeout: 10_000 }).toMatch(/^hello$/m);
    tmux('send-keys', '-t', 't', 'exit', 'Enter');
    const events = await h.sessionWhere((e) => e.type === 'ssh.exec' && e.data.command.startsWith('bash --norc'));

    const recorded = JSON.stringify(events);
    expectNoKeyIn(recorded, key);
    expect(outputOf(events)).toMatch(/\[PRIVATE_KEY\]\r\ntty-printed-42/);
    expect(recorded).not.toContain(typedSilently);
    expect(recorded).not.toContain(pastedSilently);
    const typed = ofType(events, 'term.input').map((e) => e.data);
    expect(typed).toContainEqual({ channel: 0, hidden: typedSilently.length });
    expect(typed).toContainEqual({ channel: 0, hidden: pastedSilently.length });
    expect(typed).toContainEqual({ channel: 0, text: 'echo hello\r' });
    expect(typed).toContainEqual({ channel: 0, text: "read -s -p 'pw: ' x; echo; echo got-${#x}\r" });
  });
});
