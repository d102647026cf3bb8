import { describe, expect, it } from 'vitest';
import { EscapeFilter } from './escape-filter.ts';

const SHOWN = 'a\x1b[1;31mred\x1b[0m b\x1b]0;title\x07c\x1b]8;;http://x\x1b\\d\x1bOAe\x1b(Bf\x1b7g\x1b[?2004h\r\n$ ';

describe('EscapeFilter', () => {
  it('when text holds CSI, OSC, SS3 and two-character escapes, then only the text and control characters are left', () => {
    expect(new EscapeFilter().feed(SHOWN)).toBe('ared bcdefg\r\n$ ');
  });

  it('when the text is split at every offset, then the result is the same', () => {
    for (let at = 0; at <= SHOWN.length; at++) {
      const f = new EscapeFilter();
      expect(f.feed(SHOWN.slice(0, at)) + f.feed(SHOWN.slice(at)), `split at ${at}`).toBe('ared bcdefg\r\n$ ');
    }
  });

  it('when keys are typed, then arrows, Alt-x and a bracketed paste mark are removed, Enter and Ctrl keys kept', () => {
    expect(new EscapeFilter().feed('\x1b[Aab\x1bx\x1b[200~pasted\x1b[201~\x03\r')).toBe('abpasted\x03\r');
  });

  it('when a control character interrupts an escape, then it acts as itself', () => {
    expect(new EscapeFilter().feed('\x1b\rx\x1b[1\n2m')).toBe('\rx\n');
  });

  it('when a string is never terminated, then the filter gives up on it after a bound', () => {
    const f = new EscapeFilter();
    expect(f.feed(`\x1b]0;${'t'.repeat(5000)}`)).toBe('t'.repeat(5000 - 4095)) // "0;" and 4095 t's were the string;
    expect(f.feed('after')).toBe('after');
  });
});
