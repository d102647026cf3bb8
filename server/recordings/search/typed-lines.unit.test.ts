import { describe, expect, it } from 'vitest';
import { MAX_LINE_CHARS, TypedLines, type TypedLine } from './typed-lines.ts';

/** Feeds each string as one term.input event (seq 1, 2, ...) and returns the lines. */
function typed(...events: string[]): TypedLine[] {
  const lines = new TypedLines();
  const out: TypedLine[] = [];
  events.forEach((text, i) => lines.push(text, i + 1, `2030-01-01T09:00:0${i % 10}.000Z`, out));
  lines.end(out);
  return out;
}

const texts = (lines: TypedLine[]) => lines.map((l) => l.text);

describe('typed lines', () => {
  it('when keys are typed and Enter pressed, then the line is recorded at the event it began in', () => {
    const lines = typed('ls', ' -la', '\r');
    expect(lines).toEqual([{ seq: 1, part: 0, time: '2030-01-01T09:00:00.000Z', text: 'ls -la' }]);
  });

  it('when BS or DEL erase, then the line holds what was left', () => {
    expect(texts(typed('ls -lx\x7fa\r', 'cd /tmpp\bx\b\r'))).toEqual(['ls -la', 'cd /tmp']);
  });

  it('when the cursor moves with arrows, Home and End, then keys insert where it is', () => {
    // "select 1" typed, then Home, insert "-- ", End, then left twice and delete forward.
    expect(texts(typed('select 1\x1b[H-- \x1b[F', '\x1b[D\x1b[D\x1b[3~\r'))).toEqual(['-- select1']);
    expect(texts(typed('abc\x1bOD\x1bODX\r'))).toEqual(['aXbc']);
  });

  it('when the terminal answers a query (cursor position, focus, device attributes), then none of it is text', () => {
    expect(texts(typed('who\x1b[24;80R\x1b[I\x1b[?1;2cami\r'))).toEqual(['whoami']);
  });

  it('when an escape sequence is split between events, then it is still dropped whole', () => {
    expect(texts(typed('pw\x1b[', '12;', '40Rd\r'))).toEqual(['pwd']);
  });

  it('when text is pasted in brackets, then the paste is typed text and the markers are not', () => {
    expect(texts(typed('\x1b[200~echo hi\x1b[201~\r'))).toEqual(['echo hi']);
  });

  it('when one event holds several lines, then each is numbered by its place in that event', () => {
    const lines = typed('a\rb\rc\r');
    expect(lines.map((l) => [l.seq, l.part, l.text])).toEqual([[1, 0, 'a'], [1, 1, 'b'], [1, 2, 'c']]);
  });

  it('when Ctrl-C abandons a line or history replaces it, then it is not recorded', () => {
    expect(texts(typed('rm -rf /\x03', 'ls\x1b[A\r', 'pwd\x10\r', 'id\r'))).toEqual(['id']);
  });

  it('when Ctrl-U, Ctrl-K and Ctrl-W kill, then the killed text is gone', () => {
    expect(texts(typed('wrong\x15right\r', 'one two three\x17four\r', 'abcdef\x02\x02\x0b\r'))).toEqual(['right', 'one two four', 'abcd']);
  });

  it('when a line is erased back to nothing and typed again, then it begins at the new keys', () => {
    expect(typed('x', '\x7f', 'ls\r').map((l) => l.seq)).toEqual([3]);
  });

  it('when a line was typed but not entered at the end, then it is still recorded', () => {
    expect(texts(typed('half typed'))).toEqual(['half typed']);
  });

  it('when a line grows past the limit, then it is cut into lines of the limit', () => {
    const lines = typed('x'.repeat(MAX_LINE_CHARS + 10) + '\r');
    expect(lines.map((l) => l.text.length)).toEqual([MAX_LINE_CHARS, 10]);
    expect(lines.map((l) => l.part)).toEqual([0, 1]);
  });

  it('when a password was typed without echo, then the line being edited is dropped', () => {
    const lines = new TypedLines();
    const out: TypedLine[] = [];
    lines.push('mysql -p', 1, 't', out);
    lines.hidden();
    lines.push('\r', 3, 't', out);
    expect(out).toEqual([]);
  });
});
