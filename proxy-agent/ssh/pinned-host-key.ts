// The upstream host's key is pinned in the config, as a public key line ("ssh-ed25519 AAAA...")
// or a fingerprint ("SHA256:..."). The agent logs in only when the host shows that key: anything
// else may be someone in the middle, and the session is refused with a message that says so.
import { fingerprintOf } from '../../common/ssh-public-key.ts';

export interface PinnedHostKey {
  matches(keyBlob: Buffer): boolean;
  /** As `ssh-keygen -l` prints it. */
  readonly fingerprint: string;
}

export function pinnedHostKey(pinned: string): PinnedHostKey {
  const text = pinned.trim();
  if (text.startsWith('SHA256:')) {
    const want = text.replace(/=+$/, '');
    return { fingerprint: want, matches: (blob) => fingerprintOf(blob) === want };
  }
  const [, base64] = text.split(/\s+/);
  const blob = Buffer.from(base64 ?? '', 'base64');
  if (blob.length === 0) throw new Error(`not a public key: ${text.slice(0, 40)}`);
  return { fingerprint: fingerprintOf(blob), matches: (other) => other.equals(blob) };
}
