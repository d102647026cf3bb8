import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type DecidedLine, EchoWatch, type LineWatch } from './echo-watch.ts';

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

function watch(opts: { windowMs?: number; skip?: number } = {}) {
  const lines: DecidedLine[] = [];
  const w = new EchoWatch({ ...opts, onLine: (line) => lines.push(line) });
  const line = (text: string, how: LineWatch = 'echo') => {
    w.beginLine(how);
    for (const ch of text) if (ch >= ' ') w.typed(ch);
    w.endLine(text);
  };
  return { w, lines, line };
}

describe('EchoWatch', () => {
  it('when every character comes back in order, then the line is echoed', () => {
    const { w, lines, line } = watch();
    line('ls -l\r');
    w.shown('ls -l\r\n');
    expect(lines).toEqual([{ text: 'ls -l\r', typed: 5, missed: 0 }]);
  });

  it('when the echo is late, then the characters are missed once the window passes', () => {
    const { w, lines, line } = watch({ windowMs: 500 });
    line('abc\r');
    vi.advanceTimersByTime(499);
    expect(lines).toEqual([]);
    vi.advanceTimersByTime(1);
    w.shown('abc');
    expect(lines).toEqual([{ text: 'abc\r', typed: 3, missed: 3 }]);
  });

  it('when more than `skip` printable characters come before an echo, then it is no echo', () => {
    const { w, lines, line } = watch({ skip: 4 });
    line('ab\r');
    w.shown('a12345b');
    expect(lines).toEqual([{ text: 'ab\r', typed: 2, missed: 1 }]);
  });

  it('when control characters come between, then they are not counted as skipped', () => {
    const { w, lines, line } = watch({ skip: 0 });
    line('ab\r');
    w.shown('a\r\b\x07b');
    expect(lines).toEqual([{ text: 'ab\r', typed: 2, missed: 0 }]);
  });

  it('when output shown before a character was typed holds it, then that is no echo of it', () => {
    const { w, lines, line } = watch();
    w.shown('x');
    line('x\r');
    vi.advanceTimersByTime(1000);
    expect(lines).toEqual([{ text: 'x\r', typed: 1, missed: 1 }]);
  });

  it('when a line is not watched, then it is reported at once, in its turn', () => {
    const { w, lines, line } = watch();
    line('secret\r');
    line('data\n', 'none');
    expect(lines).toEqual([]);
    w.close();
    expect(lines).toEqual([{ text: 'secret\r', typed: 6, missed: 6 }, { text: 'data\n', typed: 4, missed: 0 }]);
  });
});

describe('EchoWatch with lines typed ahead', () => {
  it('when a hidden line matched part of the echo of the line after it, then that echo still counts for the line after it', () => {
    const { w, lines, line } = watch();
    line('xs\r');
    line('ls\r');
    w.shown('ls\r\n');
    vi.advanceTimersByTime(1000);
    expect(lines).toEqual([{ text: 'xs\r', typed: 2, missed: 2 }, { text: 'ls\r', typed: 2, missed: 0 }]);
  });

  it('when a line is echoed in part before the rest of its echo arrives, then the output is kept until it is decided', () => {
    const { w, lines, line } = watch();
    line('ab\r');
    line('ac\r');
    w.shown('a');
    w.shown('c');
    vi.advanceTimersByTime(1000);
    expect(lines).toEqual([{ text: 'ab\r', typed: 2, missed: 1 }, { text: 'ac\r', typed: 2, missed: 0 }]);
  });
});
