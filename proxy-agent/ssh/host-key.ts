// The agent's own SSH host key: made once (Ed25519, OpenSSH format) and kept, so clients can pin
// it in known_hosts. A configured file is used as it is.
import fs from 'node:fs';
import path from 'node:path';
import ssh2 from 'ssh2';

const { utils } = ssh2;

export function hostKeyPath(dataDir: string, configured?: string): string {
  return configured ?? path.join(dataDir, 'agent-ssh-host-key');
}

/** The private key's text; created when neither the configured file nor the default one exists. */
export function ensureHostKey(file: string, create: boolean): string {
  if (!fs.existsSync(file)) {
    if (!create) throw new Error(`the SSH host key file ${file} does not exist`);
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    const pair = utils.generateKeyPairSync('ed25519', { comment: 'vigil-agent' });
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
  if (parsed instanceof Error) throw new Error(`the SSH host key ${file} cannot be read: ${parsed.message}`);
  return text;
}
