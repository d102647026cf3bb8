import { EventEmitter } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import type { GuardrailDecision } from '../guardrails/guardrail-policy.ts';
import { type GateHost, TypedLineGate } from './typed-line-gate.ts';

/**
 * A shell's line editor, as the gate's target: it echoes what is typed, erases on DEL, moves on
 * the arrows, recalls history on up, lists completions on Tab, asks for more on an open quote, answers Ctrl-C with a fresh
 * prompt, runs `vi` on the alternate screen and `read -s` with echo off. Its output comes back a
 * moment later, as a remote terminal's would.
 */
class FakeShell extends EventEmitter implements GateHost {
  received = '';
  ran: string[] = [];
  secrets: string[] = [];
  history: string[] = [];
  ended = false;
  full = false;
  private line = '';
  private cursor = 0;
  private more = '';
  private mode: 'shell' | 'secret' | 'vi' = 'shell';
  private vi = '';
  private esc = '';
  private out = '';

  constructor(private readonly show: (text: string) => void) {
    super();
    this.print('$ ');
  }

  write(chunk: Buffer): boolean {
    this.received += chunk.toString();
    for (const ch of chunk.toString()) this.key(ch);
    return !this.full;
  }

  end(): void {
    this.ended = true;
  }

  private print(text: string): void {
    if (!this.out) setTimeout(() => {
      const out = this.out;
      this.out = '';
      this.show(out);
    }, 1);
    this.out += text;
  }

  private key(ch: string): void {
    if (this.mode !== 'vi' && (this.esc || ch === '\x1b')) {
      this.esc += ch;
      if (this.esc.length > 1 && /[A-Za-z~]$/.test(this.esc)) this.escape(this.esc.slice(1));
      return;
    }
    if (this.mode === 'vi') return this.viKey(ch);
    if (ch === '\r' || ch === '\n') return this.enter();
    if (ch === '\x03') {
      this.line = '';
      this.cursor = 0;
      this.more = '';
      this.mode = 'shell';
      return this.print('^C\r\n$ ');
    }
    if (ch === '\x7f') {
      if (this.cursor === 0) return;
      const rest = this.line.slice(this.cursor);
      this.line = this.line.slice(0, this.cursor - 1) + rest;
      this.cursor--;
      if (this.mode === 'shell') this.print(`\b${rest} ${'\b'.repeat(rest.length + 1)}`);
      return;
    }
    // Completions listed below the line, then the prompt and the line drawn again.
    if (ch === '\t' && this.mode === 'shell') return this.print(`\r\n${this.line}down  ${this.line}out\r\n$ ${this.line}`);
    if (ch < ' ') return;
    const rest = this.line.slice(this.cursor);
    this.line = this.line.slice(0, this.cursor) + ch + rest;
    this.cursor++;
    if (this.mode === 'shell') this.print(ch + rest + '\b'.repeat(rest.length));
  }

  private escape(seq: string): void {
    this.esc = '';
    if (this.mode !== 'shell') return;
    if (seq === '[D' && this.cursor > 0) {
      this.cursor--;
      this.print('\b');
    } else if (seq === '[C' && this.cursor < this.line.length) {
      this.print(this.line[this.cursor++]);
    } else if (seq === '[A' && this.history.length > 0) {
      this.line = this.history.at(-1)!;
      this.cursor = this.line.length;
      this.print(`\r\x1b[K$ ${this.line}`);
    }
  }

  private enter(): void {
    const line = this.line;
    this.line = '';
    this.cursor = 0;
    this.print('\r\n');
    if (this.mode === 'secret') {
      this.secrets.push(line);
      this.mode = 'shell';
      return this.print('$ ');
    }
    const command = this.more + line;
    if ((command.match(/'/g) ?? []).length % 2 === 1) {
      this.more = `${command}\n`;
      return this.print('> ');
    }
    this.more = '';
    this.ran.push(command);
    this.history.push(command);
    if (command === 'vi') {
      this.mode = 'vi';
      return this.print('\x1b[?1049h\x1b[H');
    }
    if (command === 'read -s') {
      this.mode = 'secret';
      return this.print('Password: ');
    }
    this.print('$ ');
  }

  private viKey(ch: string): void {
    this.vi += ch;
    if (ch === '\r' && this.vi.endsWith(':q\r')) {
      this.mode = 'shell';
      this.ran.push(`vi:${this.vi}`);
      this.vi = '';
      return this.print('\x1b[?1049l$ ');
    }
    this.print(ch === '\r' ? '\r\n' : ch);
  }
}

/** Denies shutdown, holds rm for approval, finds a line with an open quote incomplete. */
function fakePolicy() {
  const checked: string[] = [];
  return {
    checked,
    checkCommand(line: string): GuardrailDecision {
      checked.push(line);
      if (/^\s*shutdown\b/.test(line)) return { action: 'deny', rule: 'no-shutdown', message: 'not from here', statement: line };
      if (/^\s*rm\b/.test(line)) return { action: 'approve', rule: 'rm-approval', statement: line };
      if ((line.match(/'/g) ?? []).length % 2 === 1) return { action: 'allow', incomplete: true };
      return { action: 'allow' };
    },
  };
}

function setup(opts: { maxBuffered?: number; cols?: number } = {}) {
  const policy = fakePolicy();
  const hits: { rule: string; action: string; line: string }[] = [];
  const holds: { line: string; rule: string; decide(refusal: string | null): void }[] = [];
  let client = '';
  let gate: TypedLineGate | undefined;
  const shell = new FakeShell((text) => {
    client += text;
    gate?.output(Buffer.from(text));
  });
  gate = new TypedLineGate({
    policy, host: shell, cols: 80, rows: 24, quietMs: 10, maxWaitMs: 200, ...opts,
    tell: (text) => (client += text),
    hit: (rule, action, line) => hits.push({ rule, action, line }),
    hold: (line, rule, notice) => new Promise((resolve) => {
      notice(`guardrail ${rule} holds this for approval: waiting for approval (request #7)`);
      holds.push({ line, rule, decide: resolve });
    }),
  });
  const g = gate;
  return {
    gate: g, shell, policy, hits, holds,
    client: () => client,
    /** Sends each chunk as the client would, a moment apart. */
    async type(...chunks: string[]) {
      for (const chunk of chunks) {
        g.write(Buffer.from(chunk));
        await new Promise((r) => setTimeout(r, 5));
      }
    },
  };
}

const DENIED = 'vigil: guardrail no-shutdown denied this command: not from here';

describe('TypedLineGate', () => {
  it('when a line is allowed, then its bytes reach the target exactly as typed', async () => {
    const t = setup();
    await t.type('e', 'c', 'h', 'o', ' hi', '\r', 'ls -l\r');
    await vi.waitFor(() => expect(t.shell.ran).toEqual(['echo hi', 'ls -l']));
    expect(t.shell.received).toBe('echo hi\rls -l\r');
    expect(t.policy.checked).toEqual(['echo hi', 'ls -l']);
    expect(t.hits).toEqual([]);
  });

  it('when a line is denied, then its Enter never reaches the target, the client reads why and the shell goes on', async () => {
    const t = setup();
    await t.type('shutdown -h now\r');
    await vi.waitFor(() => expect(t.client()).toContain(`\r\n${DENIED}\r\n`));
    await vi.waitFor(() => expect(t.client()).toMatch(/\^C\r\n\$ $/));
    expect(t.shell.received).toBe('shutdown -h now\x03');
    expect(t.hits).toEqual([{ rule: 'no-shutdown', action: 'deny', line: 'shutdown -h now' }]);

    await t.type('echo ok\r');
    await vi.waitFor(() => expect(t.shell.ran).toEqual(['echo ok']));
    expect(t.policy.checked.at(-1)).toBe('echo ok');
  });

  it('when the line was edited with backspace, then the line as shown is checked, not the keys', async () => {
    const t = setup();
    await t.type('shutdoxn', '\x7f', '\x7f', 'wn', '\r');
    await vi.waitFor(() => expect(t.client()).toContain(DENIED));
    expect(t.policy.checked).toEqual(['shutdown']);
    expect(t.shell.received).not.toContain('\r');
  });

  it('when a word is fixed in the middle of the line, then the fixed line is checked', async () => {
    const t = setup();
    await t.type('hutdown now', ...Array(11).fill('\x1b[D'), 's', '\r');
    await vi.waitFor(() => expect(t.client()).toContain(DENIED));
    expect(t.policy.checked).toEqual(['shutdown now']);
    expect(t.shell.ran).toEqual([]);
  });

  it('when a line is longer than the terminal is wide, then its wrapped rows are read as one line, spaces at the margin kept', async () => {
    const t = setup({ cols: 20 });
    // The space after "shutdown" falls on the last column of the first row.
    const line = `shutdown${' '.repeat(10)}${'x'.repeat(30)} y`;
    await t.type(line, '\r');
    await vi.waitFor(() => expect(t.client()).toContain(DENIED));
    expect(t.policy.checked).toEqual([line]);
  });

  it('when a line is recalled from history, then the recalled line is checked', async () => {
    const t = setup();
    t.shell.history.push('shutdown -r now');
    await t.type('\x1b[A', '\r');
    await vi.waitFor(() => expect(t.client()).toContain(DENIED));
    expect(t.policy.checked).toEqual(['shutdown -r now']);
    expect(t.shell.received).toBe('\x1b[A\x03');
  });

  it('when the shell lists completions and draws the line again below them, then the line is read without the list or the prompt', async () => {
    const t = setup();
    await t.type('shut', '\t', 'down now\r');
    await vi.waitFor(() => expect(t.client()).toContain(DENIED));
    expect(t.policy.checked).toEqual(['shutdown now']);
  });

  it('when several lines are pasted, then they run up to the denied one and what follows it is dropped', async () => {
    const t = setup();
    await t.type('\x1b[200~echo a\recho b\rshutdown\recho c\r\x1b[201~');
    await vi.waitFor(() => expect(t.client()).toContain(DENIED));
    await new Promise((r) => setTimeout(r, 100));
    expect(t.shell.ran).toEqual(['echo a', 'echo b']);
    expect(t.shell.received).toBe('\x1b[200~echo a\recho b\rshutdown\x03');
    expect(t.policy.checked).toEqual(['echo a', 'echo b', 'shutdown']);
  });

  it('when a line is incomplete, then the next Enter checks the whole command, until it completes or Ctrl-C drops it', async () => {
    const t = setup();
    await t.type("echo 'a\r", "b'\r", 'echo c\r');
    await vi.waitFor(() => expect(t.shell.ran).toEqual(["echo 'a\nb'", 'echo c']));
    expect(t.policy.checked).toEqual(["echo 'a", "echo 'a\nb'", 'echo c']);

    await t.type("echo 'x\r", '\x03', 'echo d\r');
    await vi.waitFor(() => expect(t.shell.ran.at(-1)).toBe('echo d'));
    expect(t.policy.checked.slice(3)).toEqual(["echo 'x", 'echo d']);
  });

  it('when a full-screen program runs, then its Enters pass unchecked; back at the prompt lines are checked again', async () => {
    const t = setup();
    await t.type('vi\r', 'i', 'shutdown\r', 'more\r', '\x1b', ':q\r');
    await vi.waitFor(() => expect(t.shell.ran).toEqual(['vi', 'vi:ishutdown\rmore\r\x1b:q\r']));
    expect(t.policy.checked).toEqual(['vi']);
    await t.type('shutdown\r');
    await vi.waitFor(() => expect(t.client()).toContain(DENIED));
    expect(t.policy.checked).toEqual(['vi', 'shutdown']);
  });

  it('when an answer is typed with echo off, then it is not checked and it passes', async () => {
    const t = setup();
    await t.type('read -s\r', 'shutdown-is-my-password\r', 'echo done\r');
    await vi.waitFor(() => expect(t.shell.ran).toEqual(['read -s', 'echo done']));
    expect(t.shell.secrets).toEqual(['shutdown-is-my-password']);
    expect(t.policy.checked).toEqual(['read -s', 'echo done']);
    expect(t.hits).toEqual([]);
  });

  it('when an approve rule holds a line, then its Enter and what follows wait until approved', async () => {
    const t = setup();
    await t.type('rm -r build\r', 'echo after\r');
    await vi.waitFor(() => expect(t.holds).toHaveLength(1));
    expect(t.holds[0]).toMatchObject({ line: 'rm -r build', rule: 'rm-approval' });
    expect(t.client()).toContain('\r\nvigil: guardrail rm-approval holds this for approval: waiting for approval (request #7)\r\n');
    expect(t.hits).toEqual([{ rule: 'rm-approval', action: 'approve', line: 'rm -r build' }]);
    await new Promise((r) => setTimeout(r, 50));
    expect(t.shell.received).toBe('rm -r build');

    t.holds[0].decide(null);
    await vi.waitFor(() => expect(t.shell.ran).toEqual(['rm -r build', 'echo after']));
    expect(t.shell.received).toBe('rm -r build\recho after\r');
  });

  it('when approvers refuse a held line, then it is dropped as a denied one is', async () => {
    const t = setup();
    await t.type('rm -r build\r');
    await vi.waitFor(() => expect(t.holds).toHaveLength(1));
    t.holds[0].decide('request #7 was denied by aaron: not today');
    await vi.waitFor(() => expect(t.client()).toContain('\r\nvigil: request #7 was denied by aaron: not today\r\n'));
    expect(t.shell.received).toBe('rm -r build\x03');
    expect(t.shell.ran).toEqual([]);
  });

  it('when the client presses Ctrl-C while a line is held, then the wait ends and the line is dropped', async () => {
    const t = setup();
    await t.type('rm -r build\r');
    await vi.waitFor(() => expect(t.holds).toHaveLength(1));
    await t.type('\x03');
    await vi.waitFor(() => expect(t.client()).toContain('no longer waiting for approval'));
    expect(t.shell.received).toBe('rm -r build\x03');
    await new Promise((r) => setTimeout(r, 50));
    await t.type('echo ok\r');
    await vi.waitFor(() => expect(t.shell.ran).toEqual(['echo ok']));
  });

  it('when the client ends its input behind a held line, then EOF goes after the line', async () => {
    const t = setup();
    await t.type('rm x\r', 'echo last\r');
    t.gate.end();
    await vi.waitFor(() => expect(t.holds).toHaveLength(1));
    await new Promise((r) => setTimeout(r, 30));
    expect(t.shell.ended).toBe(false);
    t.holds[0].decide(null);
    await vi.waitFor(() => expect(t.shell.ended).toBe(true));
    expect(t.shell.received).toBe('rm x\recho last\r');
  });

  it('when much waits behind a held line, or the target is full, then the client is made to wait', async () => {
    const t = setup({ maxBuffered: 8 });
    await t.type('rm x\r');
    await vi.waitFor(() => expect(t.holds).toHaveLength(1));
    let taken = false;
    t.gate.write(Buffer.from('echo 0123456789'), () => (taken = true));
    await new Promise((r) => setTimeout(r, 30));
    expect(taken).toBe(false);
    t.holds[0].decide(null);
    await vi.waitFor(() => expect(taken).toBe(true));

    t.shell.full = true;
    await t.type('\r');
    await vi.waitFor(() => expect(t.shell.received).toMatch(/\r$/));
    let next = false;
    t.gate.write(Buffer.from('l'), () => (next = true));
    await new Promise((r) => setTimeout(r, 30));
    expect(t.shell.received).toMatch(/\rl$/);
    expect(next).toBe(false);
    t.shell.full = false;
    t.shell.emit('drain');
    expect(next).toBe(true);
  });

  it('when the screen was cleared under the line, then the line is read where the cursor is, without its prompt', async () => {
    const t = setup();
    await t.type('shut');
    // What Ctrl-L draws: the screen cleared, the prompt and the line redrawn at the top.
    t.gate.output(Buffer.from('\x1b[H\x1b[2J$ shut'));
    await t.type('down\r');
    await vi.waitFor(() => expect(t.client()).toContain(DENIED));
    expect(t.policy.checked).toContain('shutdown');
  });
});
