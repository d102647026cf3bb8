// Interactive terminals through the agent: the real OpenSSH client in a real terminal (tmux)
// logs in to the demo shell of `vigil dev` (a shell in a pseudo-terminal behind an embedded SSH
// server), types, resizes its window and answers a password prompt; the recording has the typed
// line, the output, the new size, and not the password; replayed, the recording shows the screen
// the engineer saw. Signals reach the program.
import ssh2 from 'ssh2';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { VigilEvent } from '../../common/events/index.ts';
import { VirtualTerminal } from '../../server/recordings/terminal/virtual-terminal.ts';
import { ofType } from '../support/recordings.ts';
import { tmuxServer } from '../support/tmux.ts';
import { startSshHarness, type SshHarness } from '../support/ssh-harness.ts';

vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

let h: SshHarness;
const terminals = tmuxServer();
let tmuxEnv: NodeJS.ProcessEnv;

beforeAll(async () => {
  h = await startSshHarness({ demoShell: true });
});
afterAll(async () => {
  terminals.kill();
  await h?.stop();
});

const tmux = (...args: string[]) => terminals.command(tmuxEnv)(...args);
const screen = () => tmux('capture-pane', '-p', '-t', 't');
const trimEnd = (lines: string[]) => {
  const out = lines.map((l) => l.replace(/\s+$/, ''));
  while (out.length && out.at(-1) === '') out.pop();
  return out;
};

/** The screen a recording shows at its end: its output and resizes fed to a headless terminal. */
async function replay(events: VigilEvent[]): Promise<string[]> {
  const shell = events.find((e) => e.type === 'ssh.shell')!;
  const screenOf = new VirtualTerminal(shell.data.pty!.cols, shell.data.pty!.rows);
  for (const e of events) {
    if (e.type === 'term.output') screenOf.write(e.data.text);
    if (e.type === 'term.resize') screenOf.resize(e.data.cols, e.data.rows);
  }
  const lines = trimEnd(screenOf.lines());
  screenOf.dispose();
  return lines;
}


describe('terminals through the agent', () => {
  it('when someone works in a shell, then what they type and see is recorded, with resizes, and a password they type is not', async () => {
    const c = await h.client('demo-shell');
    tmuxEnv = c.env;
    const ssh = ['ssh', ...c.args, '-tt', '-p', String(h.port), c.destination].map((a) => `'${a}'`).join(' ');
    tmux('new-session', '-d', '-s', 't', '-x', '100', '-y', '30', ssh);
    await expect.poll(screen, { timeout: 20_000 }).toContain('demo-shell:');

    tmux('send-keys', '-t', 't', 'echo typed-$((6*7))', 'Enter');
    await expect.poll(screen, { timeout: 10_000 }).toContain('typed-42');

    tmux('resize-window', '-t', 't', '-x', '120', '-y', '40');
    tmux('send-keys', '-t', 't', 'echo size-$(tput cols)x$(tput lines)', 'Enter');
    await expect.poll(screen, { timeout: 10_000 }).toContain('size-120x40');

    tmux('send-keys', '-t', 't', 'read -s -p "Password: " pw; echo; echo got-${#pw}', 'Enter');
    await expect.poll(screen, { timeout: 10_000 }).toContain('Password:');
    tmux('send-keys', '-t', 't', 'hunter2secret', 'Enter');
    await expect.poll(screen, { timeout: 10_000 }).toContain('got-13');

    // The recording so far, replayed into a headless terminal, shows the screen tmux shows.
    tmux('send-keys', '-t', 't', 'clear; printf "\\033[1;31mred\\033[0m %s\\n" one two three; ls -d /', 'Enter');
    await expect.poll(screen, { timeout: 10_000 }).toContain('three');
    await new Promise((r) => setTimeout(r, 500)); // the recorder emits output after a short pause
    const live = (await h.sessions()).find((s) => s.events.some((e) => e.type === 'ssh.shell') && !s.events.some((e) => e.type === 'session.end'))!;
    expect(await replay(live.events)).toEqual(trimEnd(screen().split('\n')));

    tmux('send-keys', '-t', 't', 'exit', 'Enter');
    const events = await h.sessionWhere((e) => e.type === 'ssh.shell');

    expect(ofType(events, 'ssh.shell')[0].data).toEqual({ channel: 0, pty: { term: expect.any(String), cols: 100, rows: 30 } });
    const typed = ofType(events, 'term.input').map((e) => e.data);
    expect(typed).toContainEqual({ channel: 0, text: 'echo typed-$((6*7))\r' });
    expect(typed).toContainEqual({ channel: 0, hidden: 13 });
    const shown = ofType(events, 'term.output').map((e) => e.data.text).join('');
    expect(shown).toContain('typed-42');
    expect(shown, shown).toContain('got-13');
    expect(ofType(events, 'term.resize').map((e) => e.data)).toContainEqual({ channel: 0, cols: 120, rows: 40 });
    expect(JSON.stringify(events)).not.toContain('hunter2secret');
    expect(ofType(events, 'ssh.exit')[0].data).toEqual({ channel: 0, exitCode: 0 });
  });

  it('when the client signals a program, then it ends by that signal and the recording says so', async () => {
    const conn = new ssh2.Client();
    await new Promise<void>((resolve, reject) => {
      conn.once('ready', () => resolve()).once('error', reject);
      void h.token('alice', 'demo-shell').then((password) => conn.connect({ host: '127.0.0.1', port: h.port, username: 'demo-shell', password }));
    });
    try {
      const exit = await new Promise<unknown[]>((resolve, reject) => {
        conn.exec('echo started; exec sleep 30', (err, stream) => {
          if (err) return reject(err);
          stream.on('data', (d: Buffer) => {
            if (d.toString().includes('started')) stream.signal('TERM');
          });
          stream.on('exit', (...args: unknown[]) => resolve(args));
        });
      });
      // ssh2's client reports the signal as SIGTERM (on the wire it is TERM).
      expect(exit.slice(0, 2)).toEqual([null, 'SIGTERM']);
    } finally {
      conn.end();
    }
    const events = await h.sessionWhere((e) => e.type === 'ssh.exec' && e.data.command.includes('exec sleep 30'));
    expect(ofType(events, 'ssh.exit')[0].data).toEqual({ channel: 0, signal: 'TERM' });
  });
});
