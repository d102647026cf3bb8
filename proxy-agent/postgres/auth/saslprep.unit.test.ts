import { describe, expect, it } from 'vitest';
import { saslprep } from './saslprep.ts';

// Examples from RFC 4013 section 3; where the RFC reports an error, PostgreSQL uses the raw password.
describe('saslprep', () => {
  it('when the password is ASCII, then it is unchanged (control characters included)', () => {
    expect(saslprep('user')).toBe('user');
    expect(saslprep('USER')).toBe('USER');
    expect(saslprep('\u0007bell')).toBe('\u0007bell');
  });

  it('when characters are mapped to nothing or to a space, then they are', () => {
    expect(saslprep('I\u00adX')).toBe('IX');
    expect(saslprep('a\u00a0b\u3000c')).toBe('a b c');
    expect(saslprep('a\u200bb')).toBe('a b');
  });

  it('when compatibility characters appear, then NFKC applies', () => {
    expect(saslprep('\u00aa')).toBe('a');
    expect(saslprep('\u2168')).toBe('IX');
  });

  it('when a prohibited character appears or nothing is left, then the raw password is used', () => {
    expect(saslprep('é\u0007')).toBe('é\u0007');
    expect(saslprep('\ue000ü')).toBe('\ue000ü');
    expect(saslprep('\u00ad')).toBe('\u00ad');
  });
});
