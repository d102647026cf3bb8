import { describe, expect, it } from 'vitest';
import { md5Password } from './md5.ts';

// Expected values computed independently (Python hashlib).
describe('md5Password', () => {
  it('when given a user, a password and a salt, then it answers md5(md5(password + user) + salt)', () => {
    expect(md5Password('user', 'pencil', Buffer.from([1, 2, 3, 4]))).toBe('md54376eb6913b38f9aaff38dc7cf19ca76');
  });

  it('when the password is not ASCII and the salt has high bytes, then both are hashed as bytes', () => {
    expect(md5Password('alice', 'pässword', Buffer.from([0xff, 0, 0x80, 7]))).toBe('md5fc142d5b076fb247d86d7e170d69fbb0');
  });
});
