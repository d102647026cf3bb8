import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { EventData, MaskCounts } from '../../common/events/index.ts';
import { defaultMasker, SAMPLE } from '../masking/test-support.ts';
import { TerminalRecorder } from './terminal-recorder.ts';

function recorder() {
  const outputs: Array<{ data: EventData<'term.output'>; masked: MaskCounts | null }> = [];
  const inputs: Array<{ data: EventData<'term.input'>; masked: MaskCounts | null }> = [];
  const rec = new TerminalRecorder({
    channel: 0,
    masker: defaultMasker(),
    events: { output: (data, masked) => outputs.push({ data, masked }), input: (data, masked) => inputs.push({ data, masked }) },
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
