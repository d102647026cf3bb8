import { describe, expect, it } from 'vitest';
import { textSealer } from './sealed-text.ts';

describe('textSealer', () => {
  const sealer = textSealer('s'.repeat(32), 'test');

  it('when a text is sealed, then it opens to the same text and does not show in the sealed form', () => {
    const sealed = sealer.seal('access-token-value');
    expect(sealed).not.toContain('access-token-value');
    expect(sealer.open(sealed)).toBe('access-token-value');
    expect(sealer.seal('x')).not.toBe(sealer.seal('x'));
  });

  it('when the sealed form is altered or sealed under another secret, then it does not open', () => {
    const sealed = sealer.seal('token');
    const flipped = sealed.slice(0, -2) + (sealed.endsWith('A') ? 'B' : 'A') + sealed.slice(-1);
    expect(sealer.open(flipped)).toBeNull();
    expect(textSealer('t'.repeat(32), 'test').open(sealed)).toBeNull();
    expect(textSealer('s'.repeat(32), 'other').open(sealed)).toBeNull();
    expect(sealer.open('garbage')).toBeNull();
  });
});
