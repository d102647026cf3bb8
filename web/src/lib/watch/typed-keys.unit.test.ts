import { describe, expect, it } from 'vitest';
import { KeyReader, shownKeys, type KeyToken } from './typed-keys.ts';

/** Tokens as one line of text: keys by their label in [brackets]. */
const seen = (tokens: KeyToken[]) => tokens.map((t) => (t.kind === 'text' ? t.text : `[${t.label}]`)).join('');
const read = (...inputs: string[]) => {
  const reader = new KeyReader();
  return seen(inputs.flatMap((input) => reader.read(input)));
};

describe('typed input as keys', () => {
  it('when a line is typed, then it reads as its text and Enter', () => {
    expect(read('ls -la\r')).toBe('ls -la[⏎]');
    expect(read('echo hi\r\n')).toBe('echo hi[⏎]');
  });

  it('when editing keys are pressed, then each is its symbol', () => {
    expect(read('gti\x7f\x7fit\t\x1b[A\x1b[B\x1b[C\x1b[D\x1bOA\x1bOD\x1b[3~\x1b[H\x1b[F\x1b[5~\x1b[Z')).toBe(
      'gti[⌫][⌫]it[⇥][↑][↓][→][←][↑][←][⌦][Home][End][PgUp][⇧⇥]',
    );
    expect(read('\b')).toBe('[⌫]');
    expect(read('\x1b')).toBe('[⎋]');
    expect(read('\x1b[1;5C\x1b[1;2A')).toBe('[^→][⇧↑]');
    expect(read('\x1bOP\x1b[15~\x1b[24~')).toBe('[F1][F5][F12]');
  });

  it('when Ctrl or Alt is held, then the key reads ^X or ⌥x', () => {
    expect(read('\x03')).toBe('[^C]');
    expect(read('\x12hist')).toBe('[^R]hist');
    expect(read('\x00\x1c\x1f')).toBe('[^@][^\\][^_]');
    expect(read('\x1bb\x1b\x7f')).toBe('[⌥b][⌥⌫]');
    const [ctrlC] = new KeyReader().read('\x03');
    expect(ctrlC).toMatchObject({ kind: 'key', name: 'Ctrl-C', ends: true });
  });

  it("when the user's terminal answers a program, then nothing of it is shown", () => {
    expect(read('\x1b[12;5R')).toBe('');
    expect(read('vim\x1b[24;80R\r')).toBe('vim[⏎]');
    expect(read('\x1b[?64;1;2;6;9;15;18;21;22c\x1b[>0;276;0c\x1b[=0c')).toBe('');
    expect(read('\x1b[I\x1b[O')).toBe('');
    expect(read('\x1b]11;rgb:0000/0000/0000\x07\x1b]10;rgb:ffff/ffff/ffff\x1b\\')).toBe('');
    expect(read('\x1bP>|xterm(390)\x1b\\')).toBe('');
    expect(read('\x1b[0n\x1b[?1;2$y\x1b[8;24;80t\x1b[<0;10;5M\x1b[<0;10;5m\x1b[?1u')).toBe('');
  });

  it('when an answer is cut between two events, then it is read whole and still not shown', () => {
    expect(read('q\x1b[12', ';5R\r')).toBe('q[⏎]');
    expect(read('\x1b]11;rgb:00', '00/0000/0000\x07x')).toBe('x');
  });

  it('when text is pasted with bracketed paste, then the marks read as paste and its line breaks do not end the line', () => {
    const reader = new KeyReader();
    const tokens = reader.read('\x1b[200~a\rb\x1b[201~\r');
    expect(seen(tokens)).toBe('[paste]a[⏎]b[paste end][⏎]');
    expect(tokens.filter((t) => t.kind === 'key' && t.ends)).toHaveLength(1);
  });

  it('when only spaces stand between keys, then they are the space key', () => {
    const reader = new KeyReader();
    expect(seen(shownKeys(reader.read(' ')))).toBe('[␣]');
    expect(seen(shownKeys(reader.read('a b')))).toBe('a b');
    expect(seen(shownKeys(reader.read('  \r')))).toBe('[␣␣][⏎]');
  });

  it('when an escape sequence is not one a key sends, then it is shown as it is, never hidden', () => {
    expect(read('\x1b[99x')).toBe('[⎋[99x]');
  });
});
