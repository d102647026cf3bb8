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

  it('when a configured key file is missing or not a key, then start-up says so', () => {
    const dir = tempDir();
    expect(() => ensureHostKey(path.join(dir, 'nope'), false)).toThrow(/does not exist/);
    fs.writeFileSync(path.join(dir, 'bad'), 'not a key');
    expect(() => ensureHostKey(path.join(dir, 'bad'), false)).toThrow(/cannot be read/);
  });
});
