// External anchoring: each manifest's hash is also written outside the store, to an append-only
// file the operator puts on write-once storage (a WORM mount, an object-lock bucket through a
// FUSE mount, a file with chattr +a). Someone who can rewrite the store and re-seal a recording
// with a key of their own cannot rewrite this file: verify compares the manifest with what was
// anchored when the recording was sealed.
import fs from 'node:fs';
import type { SignedManifest } from './manifest.ts';
import { manifestHash } from './tombstone.ts';

export interface AnchorEntry {
  sessionId: string;
  manifestHash: string;
  lastSeq: number;
  sealedAt: string;
  keyId: string;
}

export interface ManifestAnchor {
  /** Where the hashes go, for messages. */
  readonly where: string;
  record(signed: SignedManifest): Promise<void>;
  /** The entries anchored for a session, oldest first. */
  lookup(sessionId: string): Promise<AnchorEntry[]>;
}

/** One JSON line per manifest, appended (O_APPEND) and forced to the disk before the seal counts. */
export class FileAnchor implements ManifestAnchor {
  readonly where: string;
  #index = new Map<string, AnchorEntry[]>();
  #readTo = 0;

  constructor(file: string) {
    this.where = file;
  }

  async record(signed: SignedManifest): Promise<void> {
    const m = signed.manifest;
    const entry: AnchorEntry = { sessionId: m.sessionId, manifestHash: manifestHash(signed), lastSeq: m.lastSeq, sealedAt: m.sealedAt, keyId: m.keyId };
    const fd = await fs.promises.open(this.where, 'a', 0o640);
    try {
      await fd.appendFile(`${JSON.stringify(entry)}\n`);
      await fd.sync();
    } finally {
      await fd.close();
    }
  }

  async lookup(sessionId: string): Promise<AnchorEntry[]> {
    await this.#catchUp();
    return this.#index.get(sessionId) ?? [];
  }

  /** Reads what was appended since the last look (the file only grows). */
  async #catchUp(): Promise<void> {
    let size: number;
    try {
      size = (await fs.promises.stat(this.where)).size;
    } catch {
      return;
    }
    if (size < this.#readTo) {
      // Shorter than it was: not append-only any more. Read it all again; verify reports what is gone.
      this.#index = new Map();
      this.#readTo = 0;
    }
    if (size === this.#readTo) return;
    const fd = await fs.promises.open(this.where, 'r');
    try {
      const buf = Buffer.alloc(size - this.#readTo);
      await fd.read(buf, 0, buf.length, this.#readTo);
      const text = buf.toString('utf8');
      const end = text.lastIndexOf('\n') + 1;
      for (const line of text.slice(0, end).split('\n')) {
        if (!line) continue;
        try {
          const e = JSON.parse(line) as AnchorEntry;
          if (typeof e.sessionId !== 'string' || typeof e.manifestHash !== 'string') continue;
          const list = this.#index.get(e.sessionId) ?? [];
          list.push(e);
          this.#index.set(e.sessionId, list);
        } catch {
          // A torn or foreign line: skipped; the entries around it still count.
        }
      }
      this.#readTo += Buffer.byteLength(text.slice(0, end));
    } finally {
      await fd.close();
    }
  }
}
