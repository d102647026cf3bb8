// What a purge leaves of a recording: which session, the hash of the manifest it had (so the
// purge of exactly that recording is provable), who or which policy purged it and when, signed
// like a manifest. `vigil verify` reports such a session as purged, not as tampered.
import crypto from 'node:crypto';
import { canonicalJson } from '../../../common/events/canonical-json.ts';
import { signCanonical, verifyCanonical } from '../../../common/ed25519.ts';
import type { PublishedKey, SignedManifest } from './manifest.ts';

export interface Tombstone {
  v: 1;
  sessionId: string;
  /** SHA-256 of the manifest's canonical JSON; null when it was never sealed. */
  manifestHash: string | null;
  lastSeq: number;
  /** A person, or `retention: <target> keeps <value>`. */
  purgedBy: string;
  purgedAt: string;
  keyId: string;
}

export interface SignedTombstone {
  tombstone: Tombstone;
  signature: string;
}

export function manifestHash(signed: SignedManifest): string {
  return crypto.createHash('sha256').update(canonicalJson(signed.manifest)).digest('hex');
}

export function signTombstone(tombstone: Tombstone, privateKey: crypto.KeyObject): SignedTombstone {
  return { tombstone, signature: signCanonical(tombstone, privateKey) };
}

export function tombstoneProblem(signed: SignedTombstone, keys: readonly PublishedKey[]): string | null {
  const key = keys.find((k) => k.id === signed.tombstone.keyId);
  if (!key) return `the tombstone is signed with key ${signed.tombstone.keyId}, which is not a published key`;
  return verifyCanonical(signed.tombstone, signed.signature, key.publicKey) ? null : `the tombstone's signature does not verify with key ${key.id}: it was changed`;
}
