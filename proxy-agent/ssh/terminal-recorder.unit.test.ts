import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { EventData, MaskCounts } from '../../common/events/index.ts';
import { secretCorpus } from '../masking/secret-corpus.ts';
import { slowPieces } from '../masking/slow-output.ts';
import { defaultMasker, SAMPLE } from '../masking/test-support.ts';
import { TerminalRecorder, type TerminalRecorderOptions } from './terminal-recorder.ts';

const masker = defaultMasker();

function recorder(opts: Partial<TerminalRecorderOptions> = {}) {
  const outputs: Array<{ data: EventData<'term.output'>; masked: MaskCounts | null }> = [];
  const inputs: Array<{ data: EventData<'term.input'>; masked: MaskCounts | null }> = [];
  const rec = new TerminalRecorder({
    channel: 0,
    masker,
    events: { output: (data, masked) => outputs.push({ data, masked }), input: (data, masked) => inputs.push({ data, masked }) },
    ...opts,
  });
  const text = () => outputs.map((o) => o.data.text).join('');
  return { rec, outputs, inputs, text };
}

const b = (s: string) => Buffer.from(s, 'utf8');

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe('TerminalRecorder', () => {
  it('when a secret is printed across two reads, then the recording has it masked', () => {
    const { rec, text, outputs } = recorder();
    const jwt = SAMPLE.jwt;
    rec.output(b(`token: ${jwt.slice(0, 40)}`));
    rec.output(b(`${jwt.slice(40)}\r\n$ `));
    vi.advanceTimersByTime(100);
    expect(text()).toBe('token: [JWT]\r\n$ ');
    expect(outputs.at(-1)!.masked).toEqual({ JWT: 1 });
  });

  it('when a program prints a secret in two writes with a pause between, then it is still masked', () => {
    const { rec, text } = recorder();
    const jwt = SAMPLE.jwt;
    rec.output(b(`export TOKEN=${jwt.slice(0, 25)}`));
    vi.advanceTimersByTime(300); // longer than a pause, shorter than the quiet deadline
    expect(text()).toBe('export ');
    rec.output(b(`${jwt.slice(25)}\n`));
    vi.advanceTimersByTime(100);
    expect(text()).toBe('export TOKEN=[JWT]\n');
  });

  it('when the terminal goes quiet on an open word, then it is recorded after the quiet deadline', () => {
    const { rec, text } = recorder();
    rec.output(b('$ ls -la'));
    vi.advanceTimersByTime(100);
    expect(text()).toBe('$ ls ');
    vi.advanceTimersByTime(1000);
    expect(text()).toBe('$ ls -la');
  });

  it('when a multi-byte character is split between reads, then it is recorded whole', () => {
    const { rec, text } = recorder();
    const e = b('café ✓');
    rec.output(e.subarray(0, 4));
    rec.output(e.subarray(4, 8));
    rec.output(e.subarray(8));
    vi.advanceTimersByTime(1100); // the last word goes out after the quiet deadline
    expect(text()).toBe('café ✓');
  });

  it('when output keeps coming, then it is recorded in bursts, not held until it stops', () => {
    const { rec, outputs } = recorder();
    for (let i = 0; i < 20; i++) {
      rec.output(b(`line ${i} `.repeat(600)));
      vi.advanceTimersByTime(20);
    }
    expect(outputs.length).toBeGreaterThan(1);
  });

  it('when the user types a command, then the line is recorded at Enter, masked', () => {
    const { rec, inputs } = recorder();
    for (const ch of 'echo alice@example.com\r') {
      rec.input(b(ch));
      rec.output(b(ch === '\r' ? '\r\n' : ch));
    }
    expect(inputs).toEqual([{ data: { channel: 0, text: 'echo [EMAIL]\r' }, masked: { EMAIL: 1 } }]);
  });

  it('when a password prompt does not echo, then only the number of characters is recorded', () => {
    const { rec, inputs, text } = recorder();
    rec.output(b('[sudo] password for alice: '));
    for (const ch of 'hunter22') rec.input(b(ch));
    rec.input(b('\r'));
    rec.output(b('\r\n'));
    vi.advanceTimersByTime(100);
    expect(inputs).toEqual([{ data: { channel: 0, hidden: 8 }, masked: null }]);
    expect(JSON.stringify(inputs) + text()).not.toContain('hunter22');
  });

  it('when a prompt looks secret but the terminal echoes, then the line is recorded as typed', () => {
    const { rec, inputs } = recorder();
    rec.output(b('Enter token name: '));
    for (const ch of 'deploy') {
      rec.input(b(ch));
      rec.output(b(ch));
    }
    rec.input(b('\r'));
    expect(inputs[0].data.text).toBe('deploy\r');
  });

  it('when typing stops without Enter, then the partial line is recorded after a pause', () => {
    const { rec, inputs } = recorder();
    rec.input(b('ls -l'));
    expect(inputs).toEqual([]);
    vi.advanceTimersByTime(1500);
    expect(inputs[0].data.text).toBe('ls -l');
  });
});

describe('TerminalRecorder on a terminal: echo decides what was typed in secret', () => {
  /** Types `keys` one chunk each, the terminal answering each with `echo(key)`. */
  const type = (rec: TerminalRecorder, keys: string[], echo: (key: string) => string = (k) => k) => {
    for (const key of keys) {
      rec.input(b(key));
      const shown = echo(key);
      if (shown) rec.output(b(shown));
      vi.advanceTimersByTime(120);
    }
  };

  it('when an answer is typed where nothing echoes, at a prompt naming nothing secret, then only its length is recorded', () => {
    const { rec, inputs } = recorder({ pty: true });
    rec.output(b('pw: '));
    type(rec, [...'s3cr3t-value'], () => '');
    rec.input(b('\r'));
    vi.advanceTimersByTime(1000);
    expect(inputs).toEqual([{ data: { channel: 0, hidden: 12 }, masked: null }]);
  });

  it('when echo is off and an answer arrives at once with its Enter, then it is hidden once its echo is overdue', () => {
    const { rec, inputs } = recorder({ pty: true });
    rec.input(b('pasted-secret\r'));
    vi.advanceTimersByTime(500);
    expect(inputs).toEqual([]);
    rec.output(b('bash-5.2# '));
    vi.advanceTimersByTime(600);
    expect(inputs).toEqual([{ data: { channel: 0, hidden: 13 }, masked: null }]);
  });

  it('when a hidden answer is followed by output holding its characters on a new line, then that output is no echo', () => {
    const { rec, inputs } = recorder({ pty: true });
    rec.input(b('hello\r'));
    rec.output(b('\r\nhello\r\n$ '));
    expect(inputs).toEqual([{ data: { channel: 0, hidden: 5 }, masked: null }]);
  });

  it('when a command is typed faster than its echo comes back, then it is recorded as text once the echo arrives', () => {
    const { rec, inputs } = recorder({ pty: true });
    rec.output(b('$ '));
    rec.input(b('echo hello\r'));
    expect(inputs).toEqual([]);
    rec.output(b('echo hello\r\n'));
    expect(inputs).toEqual([{ data: { channel: 0, text: 'echo hello\r' }, masked: null }]);
  });

  it('when a line is edited (arrows, a word typed in its middle, backspace, Alt-b, a wrap at the margin), then it is recorded as typed', () => {
    const { rec, inputs } = recorder({ pty: true });
    rec.output(b('$ '));
    type(rec, [...'echo world']);
    type(rec, ['\x1b[D', '\x1b[D', '\x1b[D', '\x1b[D', '\x1b[D'], () => '\b');
    type(rec, [...'big '], (k) => `${k}world\b\b\b\b\b`);
    type(rec, ['x'], () => 'x \r');
    type(rec, ['\x7f'], () => '\b\x1b[K');
    type(rec, ['\x1bb'], () => '\b\b\b');
    rec.input(b('\r'));
    rec.output(b('\r\nbig world\r\n$ '));
    expect(inputs).toEqual([{ data: { channel: 0, text: 'echo world\x1b[D\x1b[D\x1b[D\x1b[D\x1b[Dbig x\x7f\x1bb\r' }, masked: null }]);
  });

  it('when a line comes back from history, then the keys that fetched it need no echo', () => {
    const { rec, inputs } = recorder({ pty: true });
    type(rec, ['\x1b[A'], () => 'ls -la');
    rec.input(b('\r'));
    expect(inputs).toEqual([{ data: { channel: 0, text: '\x1b[A\r' }, masked: null }]);
  });

  it('when the terminal answers a query on the input, then the answer needs no echo', () => {
    const { rec, inputs } = recorder({ pty: true });
    type(rec, ['\x1b]11;rgb:0000/0000/0000\x1b\\', '\x1b[12;40R'], () => '');
    type(rec, [...'ls']);
    rec.input(b('\r'));
    expect(inputs).toEqual([{ data: { channel: 0, text: '\x1b]11;rgb:0000/0000/0000\x1b\\\x1b[12;40Rls\r' }, masked: null }]);
  });

  it('when lines are typed ahead while a command runs and the terminal echoes them at once, then they are recorded as text', () => {
    const { rec, inputs } = recorder({ pty: true });
    rec.input(b('sleep 2\r'));
    rec.output(b('sleep 2\r\n'));
    rec.input(b('ls\r'));
    rec.output(b('ls\r\n'));
    vi.advanceTimersByTime(2000);
    rec.output(b('$ ls\r\nfile\r\n$ '));
    expect(inputs.map((i) => i.data)).toEqual([{ channel: 0, text: 'sleep 2\r' }, { channel: 0, text: 'ls\r' }]);
  });

  it('when a password prompt shows a star for each key, then the answer is hidden', () => {
    const { rec, inputs } = recorder({ pty: true });
    rec.output(b('Password: '));
    type(rec, [...'hunter2'], () => '*');
    rec.input(b('\r'));
    rec.output(b('\r\n'));
    expect(inputs).toEqual([{ data: { channel: 0, hidden: 7 }, masked: null }]);
  });

  it('when a prompt asks for a secret, then only an echo coming straight back counts', () => {
    const { rec, inputs } = recorder({ pty: true });
    rec.output(b('Token: '));
    type(rec, [...'abc'], (k) => `~${k}`);
    rec.input(b('\r'));
    rec.output(b('\r\n'));
    expect(inputs).toEqual([{ data: { channel: 0, hidden: 3 }, masked: null }]);
  });

  it('when some characters of a line echo and others do not, then the whole line is hidden', () => {
    const { rec, inputs } = recorder({ pty: true });
    type(rec, [...'abc']);
    type(rec, [...'def'], () => '');
    rec.input(b('\r'));
    rec.output(b('\r\n'));
    expect(inputs).toEqual([{ data: { channel: 0, hidden: 6 }, masked: null }]);
  });

  it('when lines are decided out of order, then they are still recorded in the order typed', () => {
    const { rec, inputs } = recorder({ pty: true });
    rec.input(b('quiet\r'));
    rec.input(b('ls\r'));
    rec.output(b('ls'));
    expect(inputs).toEqual([]);
    vi.advanceTimersByTime(1000);
    expect(inputs.map((i) => i.data)).toEqual([{ channel: 0, hidden: 5 }, { channel: 0, text: 'ls\r' }]);
  });

  it('when the channel closes with typing not yet echoed, then it is recorded hidden', () => {
    const { rec, inputs } = recorder({ pty: true });
    rec.input(b('abc'));
    rec.close();
    expect(inputs).toEqual([{ data: { channel: 0, hidden: 3 }, masked: null }]);
  });
});

describe('TerminalRecorder holding a secret printed slowly', () => {
  const key = secretCorpus().find((f) => f.name === 'RSA key, PKCS#1')!;
  const lines = key.text.replace(/\n/g, '\r\n').split(/(?<=\n)/);

  it('when a key is printed a line every second and a half, then it is recorded once, as its marker', () => {
    const { rec, text, outputs } = recorder({ pty: true });
    for (const line of lines) {
      rec.output(b(line));
      vi.advanceTimersByTime(1500);
    }
    expect(text()).toBe('$ cat key.pem\r\n[PRIVATE_KEY]\r\n$ ');
    expect(outputs.map((o) => o.masked).filter(Boolean)).toEqual([{ PRIVATE_KEY: 1 }]);
  });

  it('when a key stays open past the hold bound and nothing more comes, then its marker is recorded at the bound and the rest of it is dropped', () => {
    const { rec, text } = recorder({ pty: true, held: { maxHeldMs: 5000 } });
    for (const line of lines.slice(0, 6)) rec.output(b(line));
    vi.advanceTimersByTime(4000);
    expect(text()).toBe('$ cat key.pem\r\n');
    vi.advanceTimersByTime(1100);
    expect(text()).toBe('$ cat key.pem\r\n[PRIVATE_KEY]');
    for (const line of lines.slice(6)) rec.output(b(line));
    vi.advanceTimersByTime(1100);
    expect(text()).toBe('$ cat key.pem\r\n[PRIVATE_KEY]\r\n$ ');
    for (const secret of key.secrets) expect(text()).not.toContain(secret);
  });

  it('when the channel closes with a key still open, then it is recorded as its marker', () => {
    const { rec, text } = recorder({ pty: true });
    for (const line of lines.slice(0, 6)) rec.output(b(line));
    vi.advanceTimersByTime(2000);
    rec.close();
    expect(text()).toBe('$ cat key.pem\r\n[PRIVATE_KEY]');
  });

  it.each(secretCorpus().map((f) => [f.name, f] as const))('when %s is printed in random pieces with random pauses, then the recording is as when printed at once', (_name, fixture) => {
    const whole = masker.maskText(fixture.text).text;
    for (let seed = 1; seed <= 8; seed++) {
      const { rec, text } = recorder({ pty: true });
      for (const piece of slowPieces(fixture.text, seed)) {
        const bytes = b(piece.text);
        // The bytes of a piece in two reads, cut anywhere (a character may be split).
        const at = seed % 2 === 0 ? Math.floor(bytes.length / 2) : 0;
        if (at > 0) rec.output(bytes.subarray(0, at));
        rec.output(bytes.subarray(at));
        vi.advanceTimersByTime(piece.pauseMs);
      }
      rec.close();
      expect(text(), `seed ${seed}`).toBe(whole);
    }
  });
});
