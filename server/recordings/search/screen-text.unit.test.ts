import { describe, expect, it } from 'vitest';
import { CHUNK_CHARS, ScreenText, type ScreenChunk } from './screen-text.ts';

const t0 = Date.parse('2030-01-01T09:00:00.000Z');

/** Feeds [text, msAfterStart] outputs as events seq 1, 2, ... and returns the chunks, all closed. */
function shown(...events: (string | [string, number])[]): ScreenChunk[] {
  const screen = new ScreenText();
  const out: ScreenChunk[] = [];
  events.forEach((e, i) => {
    const [text, ms] = typeof e === 'string' ? [e, i * 10] : e;
    screen.push(text, 'stdout', i + 1, new Date(t0 + ms).toISOString(), out);
  });
  screen.flush(out);
  return out;
}

const texts = (chunks: ScreenChunk[]) => chunks.map((c) => c.text);

describe('screen text', () => {
  it('when output has colours, titles and other escapes, then only the text is left', () => {
    expect(texts(shown('\x1b]0;alice@box: ~\x07\x1b[1;32mok\x1b[0m done\r\n', '\x1b[?2004h$ \x1b(B\x1bPq#0;1\x1b\\ls\r\n'))).toEqual(['ok done\n$ ls']);
  });

  it('when a typed backspace is echoed, then the erased character is gone', () => {
    expect(texts(shown('$ lx\b \bs -la\r\n'))).toEqual(['$ ls -la']);
  });

  it('when the cursor is moved to another place, then words drawn apart stay apart', () => {
    expect(texts(shown('top\x1b[2;1Htasks\x1b[5Gload'))).toEqual(['top\ntasks load']);
  });

  it('when lines end with CR LF, lone CR or blank lines, then they fold into single newlines', () => {
    expect(texts(shown('a  \r\n\r\n\r\nb\r10%\r20%\n'))).toEqual(['a\nb\n10%\n20%']);
  });

  it('when an escape sequence is split between events, then it is still dropped whole', () => {
    expect(texts(shown('red: \x1b[3', '1mALERT\x1b[', '0m'))).toEqual(['red: ALERT']);
  });

  it('when output grows past the chunk size, then it is cut at a line and each chunk starts at its first event', () => {
    const line = 'x'.repeat(99) + '\n';
    const chunks = shown(line.repeat(30), line.repeat(30), line.repeat(30));
    expect(chunks.map((c) => c.text.length <= CHUNK_CHARS)).toEqual(chunks.map(() => true));
    expect(chunks.map((c) => c.seq)).toEqual([1, 2, 3]);
    expect(texts(chunks).join('\n')).toBe(line.repeat(90).trim());
  });

  it('when one event holds more than a chunk, then its chunks are numbered parts of that event', () => {
    const chunks = shown('word '.repeat(3000));
    expect(chunks.map((c) => [c.seq, c.part])).toEqual([[1, 0], [1, 1], [1, 2], [1, 3]]);
    expect(chunks.every((c) => /^(word ?)+$/.test(c.text))).toBe(true);
  });

  it('when output resumes after a pause at a word boundary, then a new chunk begins', () => {
    const chunks = shown(['$ ', 0], ['make\r\n', 100], ['done\r\n', 5000]);
    expect(chunks.map((c) => [c.seq, c.text])).toEqual([[1, '$ make'], [3, 'done']]);
  });

  it('when the echo of typing pauses inside a word, then the word is not cut', () => {
    expect(texts(shown(['$ drop tab', 0], ['le payments', 9000]))).toEqual(['$ drop table payments']);
  });
});
