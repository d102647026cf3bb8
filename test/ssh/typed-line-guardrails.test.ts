// Guardrails on lines typed at an interactive shell, with the real OpenSSH client in a real
// terminal (tmux) and the demo shell (bash in a pseudo-terminal) as the target. A denied line
// never runs, wherever its text came from (typed, edited, recalled from history), the user reads
// why and the shell goes on; a line an approve rule holds runs once an approver says so (over
// Redis, through a hub); a full-screen program's Enters are not shell lines.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import type { ControlBus } from '../../common/control/control-bus.ts';
import { createRedisControlBus } from '../../common/control/redis-control-bus.ts';
import { startHubWithLogin, type HubWithLogin } from '../support/dashboard-browser.ts';
import { apiAs, type ApiCall } from '../support/oidc-login-client.ts';
import { ofType } from '../support/recordings.ts';
import { startSshHarness, type SshHarness } from '../support/ssh-harness.ts';
import { tmuxServer } from '../support/tmux.ts';

vi.setConfig({ testTimeout: 60_000, hookTimeout: 120_000 });

const run = `${process.pid}-${Date.now()}`;
const DENIED = 'vigil: guardrail no-touch denied this command: not from here';
const controls: ControlBus[] = [];
const terminals = tmuxServer();
let h: SshHarness;
let web: HubWithLogin;
let aaron: ApiCall;

beforeAll(async () => {
  const prefix = `typed-lines-${run}:`;
  const control = async () => {
    const bus = await createRedisControlBus(inject('redisUrl'), prefix);
    controls.push(bus);
    return bus;
  };
  // Rules on a command's name only: they read the same whether the policy matches text or parses.
  h = await startSshHarness({
    demoShell: {
      guardrails: [
        { name: 'no-touch', command: 'touch', action: 'deny', message: 'not from here' },
        { name: 'mkdir-approval', command: 'mkdir', action: 'approve' },
      ],
    },
    control: await control(),
  });
  web = await startHubWithLogin({ dataDir: h.dir, targets: h.config.targets, bus: h.bus, stores: h.stores, control: await control() });
  aaron = await apiAs(web.hub.url, 'aaron');
});

afterAll(async () => {
  terminals.kill();
  await web?.stop();
  await h?.stop();
  for (const c of controls) await c.close();
});

let terminalCount = 0;

/** A shell through the agent in a terminal of its own: its screen, and keys to send it (tmux names). */
async function openTerminal(command: string[] = []) {
  const name = `t${++terminalCount}`;
  const c = await h.client('demo-shell');
  const tmux = terminals.command(c.env);
  const ssh = ['ssh', ...c.args, '-tt', '-p', String(h.port), c.destination, ...command].map((a) => `'${a}'`).join(' ');
  tmux('new-session', '-d', '-s', name, '-x', '100', '-y', '30', ssh);
  const screen = () => tmux('capture-pane', '-p', '-t', name);
  await expect.poll(screen, { timeout: 20_000 }).toContain('demo-shell:');
  return {
    screen,
    keys: (...keys: string[]) => tmux('send-keys', '-t', name, ...keys),
    /** Types a line that must run, and waits for what it prints. */
    async works(n: number) {
      tmux('send-keys', '-t', name, `echo ok-$((${n}*2))`, 'Enter');
      await expect.poll(screen, { timeout: 10_000 }).toContain(`ok-${n * 2}`);
    },
  };
}

/** A path the test can look for: a denied line would have made it. */
const evidence = (label: string) => path.join(h.dir, `${label}-${run}`);

describe('lines typed at a shell, under guardrails', () => {
  it('when a denied command is typed, then it does not run, the user reads why, and the shell goes on', async () => {
    const t = await openTerminal();
    const file = evidence('typed');
    t.keys(`touch ${file}`, 'Enter');
    await expect.poll(t.screen, { timeout: 10_000 }).toContain(DENIED);
    await t.works(21);
    expect(fs.existsSync(file)).toBe(false);
    // Still one shell, at a prompt.
    t.keys('exit', 'Enter');
    const events = await h.sessionWhere((e) => e.type === 'guardrail.hit' && e.data.statement === `touch ${file}`);
    expect(ofType(events, 'guardrail.hit').map((e) => e.data)).toEqual([{ rule: 'no-touch', action: 'deny', statement: `touch ${file}`, form: 'typed at the shell' }]);
    expect(ofType(events, 'ssh.exit')[0].data).toEqual({ channel: 0, exitCode: 0 });
  });

  it('when the shell is started as a command with a terminal (ssh -t host bash), then its typed lines are checked too', async () => {
    const t = await openTerminal(['PS1="demo-shell:exec$ " bash --norc -i']);
    const file = evidence('exec-shell');
    t.keys(`touch ${file}`, 'Enter');
    await expect.poll(t.screen, { timeout: 10_000 }).toContain(DENIED);
    await t.works(23);
    expect(fs.existsSync(file)).toBe(false);
  });

  it('when the line is put together by editing it, then the line as it stands is denied', async () => {
    const t = await openTerminal();
    const file = evidence('edited');
    // The keys never spell the command: the o goes in after a move to the line's start.
    t.keys('-l', `tuch ${file}`);
    t.keys('C-a', 'Right', 'o');
    await expect.poll(t.screen, { timeout: 10_000 }).toContain(`touch ${file}`);
    t.keys('Enter');
    await expect.poll(t.screen, { timeout: 10_000 }).toContain(DENIED);
    await t.works(22);
    expect(fs.existsSync(file)).toBe(false);
    t.keys('exit', 'Enter');
    const events = await h.sessionWhere((e) => e.type === 'guardrail.hit' && e.data.statement === `touch ${file}`);
    expect(ofType(events, 'guardrail.hit')).toHaveLength(1);
  });

  it('when a denied command is recalled from history, then it is denied too', async () => {
    const t = await openTerminal();
    const file = evidence('recalled');
    // Into the history without running it, and without its name on the typed line.
    t.keys(`history -s "$(printf 'to%sch %s' u ${file})"`, 'Enter');
    await t.works(23);
    t.keys('Up', 'Up');
    await expect.poll(t.screen, { timeout: 10_000 }).toMatch(new RegExp(`demo-shell:\\S*\\$ touch ${file}\\s*$`));
    t.keys('Enter');
    await expect.poll(t.screen, { timeout: 10_000 }).toContain(DENIED);
    await t.works(24);
    expect(fs.existsSync(file)).toBe(false);
    t.keys('exit', 'Enter');
  });

  it('when a full-screen program runs, then the words it is typed are not shell lines', async () => {
    const t = await openTerminal();
    const file = evidence('never');
    const notes = evidence('notes');
    t.keys(`vi -u NONE ${notes}`, 'Enter');
    await expect.poll(t.screen, { timeout: 10_000 }).toMatch(/^~/m);
    t.keys('i');
    t.keys('-l', `touch ${file}`);
    t.keys('Enter');
    t.keys('-l', 'second line');
    t.keys('Escape');
    t.keys('-l', ':wq');
    t.keys('Enter');
    await expect.poll(() => fs.existsSync(notes) && fs.readFileSync(notes, 'utf8'), { timeout: 10_000 }).toBe(`touch ${file}\nsecond line\n`);
    await t.works(25);
    expect(t.screen()).not.toContain('vigil:');
    expect(fs.existsSync(file)).toBe(false);
    t.keys('exit', 'Enter');
  });

  it('when an approve rule holds a typed command, then it waits for the approver and runs once approved', async () => {
    const t = await openTerminal();
    const dir = evidence('held-dir');
    t.keys(`mkdir ${dir}`, 'Enter');
    await expect.poll(t.screen, { timeout: 10_000 }).toMatch(/vigil: guardrail mkdir-approval holds this for approval: waiting for approval \(request #\d+\)/);
    const id = Number(/request #(\d+)/.exec(t.screen())![1]);
    const { body } = await aaron('GET', '/api/access-requests?status=pending');
    expect((body.requests as { id: number; statement: string }[]).find((r) => r.id === id)?.statement).toBe(`mkdir ${dir}`);
    await new Promise((r) => setTimeout(r, 300));
    expect(fs.existsSync(dir)).toBe(false);

    expect((await aaron('POST', `/api/access-requests/${id}/approve`, {})).status).toBe(200);
    await expect.poll(() => fs.existsSync(dir), { timeout: 10_000 }).toBe(true);
    await t.works(26);
    t.keys('exit', 'Enter');
    const events = await h.sessionWhere((e) => e.type === 'guardrail.hit' && e.data.statement === `mkdir ${dir}`);
    expect(ofType(events, 'guardrail.hit').map((e) => e.data)).toEqual([{ rule: 'mkdir-approval', action: 'approve', statement: `mkdir ${dir}`, form: 'typed at the shell' }]);
  });
});
