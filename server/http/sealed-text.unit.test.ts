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
    // One bit of the ciphertext changed (the iv, the tag and the body are base64url, dot-joined).
    const [iv, tag, body] = sealed.split('.');
    const bytes = Buffer.from(body, 'base64url');
    bytes[0] ^= 1;
    expect(sealer.open([iv, tag, bytes.toString('base64url')].join('.'))).toBeNull();
    expect(textSealer('t'.repeat(32), 'test').open(sealed)).toBeNull();
    expect(textSealer('s'.repeat(32), 'other').open(sealed)).toBeNull();
    expect(sealer.open('garbage')).toBeNull();
  });
});
