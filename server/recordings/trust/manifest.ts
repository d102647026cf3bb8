// A session's manifest: what the hub signs (Ed25519) once the session has ended and all of it is
// stored. It names the session, its event count, the hashes of its first and final events, its
// start, end and reason, and a digest per block of events (chain-walk.ts), so a verifier can say
// which part of a recording changed. The signature is over the manifest's canonical JSON; the key
// is named by id and published with its validity (recording-keys.ts), so old manifests keep
// verifying after a rotation.
import crypto from 'node:crypto';
import { signCanonical, verifyCanonical } from '../../../common/ed25519.ts';
import type { BlockDigest } from './chain-walk.ts';

export interface Manifest {
  v: 1;
  sessionId: string;
  /** The last seq covered, and how many events were stored (fewer when a best-effort session lost some). */
  lastSeq: number;
  eventCount: number;
  firstHash: string | null;
  finalHash: string | null;
  startedAt: string | null;
  endedAt: string | null;
  endReason: string | null;
  blocks: BlockDigest[];
  /** What the chain walk found when sealing (what was already wrong then is not tampering since). */
  chain: { unchained: number; findings: string[] };
  sealedAt: string;
  keyId: string;
}

export interface SignedManifest {
  manifest: Manifest;
  /** Ed25519 over canonicalJson(manifest), base64. */
  signature: string;
}

/** A key's public half as published: which manifests it may have signed (sealedAt inside its validity). */
export interface PublishedKey {
  id: string;
  /** SPKI PEM. */
  publicKey: string;
  createdAt: string;
  retiredAt: string | null;
}

/** A key's id: the first 16 hex digits of the SHA-256 of its public key (DER). */
export function keyIdOf(publicKey: crypto.KeyObject): string {
  return crypto.createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex').slice(0, 16);
}

export function signManifest(manifest: Manifest, privateKey: crypto.KeyObject): SignedManifest {
  return { manifest, signature: signCanonical(manifest, privateKey) };
}

/** Null when the signature holds with a key valid when the manifest was sealed; otherwise what is wrong. */
export function signatureProblem(signed: SignedManifest, keys: readonly PublishedKey[]): string | null {
  const { manifest } = signed;
  const key = keys.find((k) => k.id === manifest.keyId);
  if (!key) return `the manifest is signed with key ${manifest.keyId}, which is not a published key`;
  if (!verifyCanonical(manifest, signed.signature, key.publicKey)) return `the manifest's signature does not verify with key ${key.id}: the manifest or its signature was changed`;
  const sealed = Date.parse(manifest.sealedAt);
  // A second of slack: the key's row and the first manifest can be written within one.
  if (!(sealed >= Date.parse(key.createdAt) - 1000) || (key.retiredAt !== null && sealed > Date.parse(key.retiredAt))) {
    return `the manifest says it was sealed at ${manifest.sealedAt}, when key ${key.id} was not in use (${key.createdAt} to ${key.retiredAt ?? 'now'})`;
  }
  return null;
}
