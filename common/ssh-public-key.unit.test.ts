import ssh2 from 'ssh2';
import { describe, expect, it } from 'vitest';
import { generateEd25519KeyPair, parsePublicKeyLine } from './ssh-public-key.ts';

describe('Ed25519 key pairs', () => {
  it('when many pairs are made, then every one reads back (ssh2 alone gets about 1 in 256 wrong)', () => {
    for (let i = 0; i < 1500; i++) {
      const pair = generateEd25519KeyPair('test');
      expect(ssh2.utils.parseKey(pair.private)).not.toBeInstanceOf(Error);
      const pub = parsePublicKeyLine(pair.public);
      expect(pub).not.toBeInstanceOf(Error);
    }
  });
});
