import { describe, expect, it } from 'vitest';
import { keyLineUnderWay, keyRestEnd } from './key-rest.ts';

const END = ['-----END RSA ', 'PRIVATE KEY-----'].join('');

describe('keyRestEnd', () => {
  it('when base64 lines run up to an END line, then the rest ends after it', () => {
    const text = `MIIEow+/AB==\r\nQUJD\n${END}\r\n$ `;
    expect(keyRestEnd(text, 0)).toEqual({ end: text.indexOf('\r\n$'), done: true });
  });

  it('when a line that cannot be in a key comes, then the rest ends where it begins', () => {
    expect(keyRestEnd('QUJD\n$ ls\n', 0)).toEqual({ end: 5, done: true });
  });

  it('when base64 lines stop at the end of the text, or an END line is under way, then more may follow', () => {
    expect(keyRestEnd('QUJD\nRUZH', 0)).toEqual({ end: 9, done: false });
    expect(keyRestEnd('QUJD\n-----END RSA PRI', 0)).toEqual({ end: 5, done: false });
    expect(keyRestEnd('QUJD\n-----ENDING', 0)).toEqual({ end: 5, done: true });
  });

  it('when key lines are coloured or redrawn, then the escape sequences and control characters do not end the rest', () => {
    const cut = '\x1b[32mQUJD\x1b[0m\x1b[K\r\nRUZH\x1b';
    expect(keyRestEnd(cut, 0)).toEqual({ end: cut.length - 1, done: false });
    const prompt = '\x1b[32mQUJD\x1b[0m\r\n\x1b[1m$ ';
    // The prompt's line is not the key's, its colour included.
    expect(keyRestEnd(prompt, 0)).toEqual({ end: prompt.indexOf('\x1b[1m'), done: true });
    // Nor is a line that begins like base64 and goes on as something else.
    const log = 'QUJD\n2026-01-05 10:00:01 INFO loaded\n';
    expect(keyRestEnd(log, 0)).toEqual({ end: 5, done: true });
  });

  it('when the last line can begin a key line, then it is under way; a prompt is not', () => {
    expect(keyLineUnderWay('-----BEGIN X-----\nQUJD\nRUZ', 0)).toBe(23);
    expect(keyLineUnderWay('-----BEGIN X-----\nQUJD\n$ ', 0)).toBe(-1);
    expect(keyLineUnderWay('-----BEGIN X-----', 0)).toBe(-1);
  });
});
