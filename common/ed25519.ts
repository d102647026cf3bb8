// Ed25519 as Vigil uses it for what it signs (manifests, tombstones, audit checkpoints, agents'
// batches): keys kept as PKCS#8 PEM files readable only by their owner, and signatures over a
// value's canonical JSON (RFC 8785), so whoever re-encodes a parsed value checks the same bytes.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { canonicalJson } from './events/canonical-json.ts';

/** Writes a new key to `file` (mode 0600, atomically: a reader never sees half a key) and returns it. */
export function writeNewEd25519Key(file: string): crypto.KeyObject {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const { privateKey } = crypto.generateKeyPairSync('ed25519');
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  fs.renameSync(tmp, file);
  return privateKey;
}

/** Reads a private key, refusing anything but Ed25519. */
export function readEd25519Key(file: string): crypto.KeyObject {
  const key = crypto.createPrivateKey(fs.readFileSync(file));
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`${file} is not an Ed25519 private key`);
  return key;
}

/** Ed25519 over the value's canonical JSON, base64. */
export function signCanonical(value: unknown, privateKey: crypto.KeyObject): string {
  return crypto.sign(null, Buffer.from(canonicalJson(value)), privateKey).toString('base64');
}

/** Whether the signature holds for the value with this public key (SPKI PEM or key); never throws. */
export function verifyCanonical(value: unknown, signature: string, publicKey: string | crypto.KeyObject): boolean {
  try {
    return crypto.verify(null, Buffer.from(canonicalJson(value)), typeof publicKey === 'string' ? crypto.createPublicKey(publicKey) : publicKey, Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}
