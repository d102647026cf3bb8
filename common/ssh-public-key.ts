// SSH public keys as people paste them ("ssh-ed25519 AAAA... comment", one line of an
// authorized_keys file), checked with ssh2's parser, and their fingerprints as `ssh-keygen -l`
// prints them. Private keys are refused: they must never reach Vigil.
import crypto from 'node:crypto';
import ssh2 from 'ssh2';

const { utils } = ssh2;

export interface PublicKeyLine {
  type: string;
  /** "type base64", without the comment. */
  key: string;
  fingerprint: string;
  comment: string;
}

export function fingerprintOf(keyBlob: Buffer): string {
  return `SHA256:${crypto.createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')}`;
}

/** The parsed key, or an Error saying what is wrong with the text. */
export function parsePublicKeyLine(text: string): PublicKeyLine | Error {
  const line = text.trim();
  if (/PRIVATE KEY/.test(line)) return new Error('that is a private key: paste the public one (the .pub file)');
  if (line.includes('\n')) return new Error('one key per line');
  const [type, base64, ...rest] = line.split(/\s+/);
  if (!type || !base64) return new Error('expected "TYPE BASE64 [comment]", as in a .pub file');
  const parsed = utils.parseKey(`${type} ${base64}`);
  if (parsed instanceof Error || Array.isArray(parsed) || parsed.isPrivateKey()) return new Error('not an SSH public key');
  const blob = parsed.getPublicSSH();
  return { type: parsed.type, key: `${type} ${blob.toString('base64')}`, fingerprint: fingerprintOf(blob), comment: rest.join(' ') };
}

/**
 * A new Ed25519 key pair in OpenSSH format. ssh2's generator writes a public key whose first byte
 * is zero one byte short (about 1 key in 256), which nothing can read back: such a pair is made
 * again.
 */
export function generateEd25519KeyPair(comment?: string): { private: string; public: string } {
  for (;;) {
    const pair = utils.generateKeyPairSync('ed25519', comment ? { comment } : {});
    const parsed = utils.parseKey(pair.private);
    if (!(parsed instanceof Error) && !Array.isArray(parsed) && !(utils.parseKey(pair.public) instanceof Error)) return pair;
  }
}
