// Agent identity: each agent has its own Ed25519 key and signs every batch it appends to the bus
// (one bus entry per batch). The hub persists an entry only when the signature holds for an agent
// it enrolled and has not revoked, and only the events that agent served (their connection.agent
// is the signer): an event written straight into Redis, or a batch of one agent replayed as
// another's, never reaches a recording.
//
// What is signed: a domain tag, the agent's id, and each event's session, seq and the SHA-256 of
// its canonical bytes, in order; so the signature covers the bodies exactly as they travel.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { readEd25519Key, writeNewEd25519Key } from './ed25519.ts';
import { eventHash } from './events/chain.ts';

export interface BatchProof {
  /** The signing agent's id. */
  agent: string;
  /** Ed25519 over batchMessage(), base64. */
  signature: string;
}

export interface SignedItem {
  sessionId: string;
  seq: number;
  body: string;
  /** SHA-256 (hex) of body when known (the agent's chain computed it): not hashed twice. */
  hash?: string;
}

export function batchMessage(agent: string, items: readonly SignedItem[]): Buffer {
  const lines = [`vigil-batch-v1\n${agent}\n`];
  for (const e of items) lines.push(`${e.sessionId} ${e.seq} ${e.hash ?? eventHash(e.body)}\n`);
  return Buffer.from(lines.join(''), 'utf8');
}

export function signBatch(agent: string, privateKey: crypto.KeyObject, items: readonly SignedItem[]): BatchProof {
  return { agent, signature: crypto.sign(null, batchMessage(agent, items), privateKey).toString('base64') };
}

export function batchSignatureHolds(proof: BatchProof, publicKey: crypto.KeyObject, items: readonly SignedItem[]): boolean {
  try {
    return crypto.verify(null, batchMessage(proof.agent, items), publicKey, Buffer.from(proof.signature, 'base64'));
  } catch {
    return false;
  }
}

/** Where an agent keeps its key: dataDir/agent-keys/<id>.pem (0600). */
export function agentKeyFile(dataDir: string, agentId: string): string {
  return path.join(dataDir, 'agent-keys', `${agentId}.pem`);
}

/** The agent's key, made on first use. */
export function ensureAgentKey(dataDir: string, agentId: string): crypto.KeyObject {
  const file = agentKeyFile(dataDir, agentId);
  return fs.existsSync(file) ? readEd25519Key(file) : writeNewEd25519Key(file);
}

export function publicKeyPem(privateKey: crypto.KeyObject): string {
  return crypto.createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString();
}

/** SHA256:<base64> of the public key (DER), as people compare keys. */
export function keyFingerprint(publicKey: crypto.KeyObject | string): string {
  const key = typeof publicKey === 'string' ? crypto.createPublicKey(publicKey) : publicKey;
  return `SHA256:${crypto.createHash('sha256').update(key.export({ type: 'spki', format: 'der' })).digest('base64').replace(/=+$/, '')}`;
}
