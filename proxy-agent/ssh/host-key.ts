// The agent's own SSH host key: made once (Ed25519, OpenSSH format) and kept, so clients can pin
// it in known_hosts. A configured file is used as it is.
import fs from 'node:fs';
import path from 'node:path';
import ssh2 from 'ssh2';
import { generateEd25519KeyPair } from '../../common/ssh-public-key.ts';

const { utils } = ssh2;

export function hostKeyPath(dataDir: string, configured?: string): string {
  return configured ?? path.join(dataDir, 'agent-ssh-host-key');
}

/** The private key's text; created when neither the configured file nor the default one exists. */
export function ensureHostKey(file: string, create: boolean): string {
  if (!fs.existsSync(file)) {
    if (!create) throw new Error(`the SSH host key file ${file} does not exist`);
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    const pair = generateEd25519KeyPair('vigil-agent');
    try {
      // wx: never overwrite a key another process created meanwhile.
      fs.writeFileSync(file, pair.private, { mode: 0o600, flag: 'wx' });
      fs.writeFileSync(`${file}.pub`, `${pair.public}\n`, { mode: 0o644 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  const text = fs.readFileSync(file, 'utf8');
  const parsed = utils.parseKey(text);
  if (!(parsed instanceof Error)) return text;
  if (create && isEd25519OneByteShort(text)) {
    // A key an earlier version made with ssh2's generator fault: it never worked (the agent could
    // not start with it), so no client can have pinned it. Made again; the old one kept aside.
    fs.renameSync(file, `${file}.unreadable`);
    fs.rmSync(`${file}.pub`, { force: true });
    return ensureHostKey(file, create);
  }
  throw new Error(`the SSH host key ${file} cannot be read: ${parsed.message}`);
}

/** An OpenSSH Ed25519 key whose public part is 31 bytes (ssh2 dropped a leading zero byte). */
function isEd25519OneByteShort(text: string): boolean {
  const body = /-----BEGIN OPENSSH PRIVATE KEY-----([\s\S]*?)-----END OPENSSH PRIVATE KEY-----/.exec(text)?.[1];
  if (!body) return false;
  const bytes = Buffer.from(body.replace(/\s+/g, ''), 'base64');
  // "ssh-ed25519" then the public key's length: 32 in a good key.
  const at = bytes.indexOf('ssh-ed25519');
  return at > 0 && bytes.readUInt32BE(at + 11) === 31;
}
