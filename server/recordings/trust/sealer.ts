// Seals recordings: once a session has ended and all of it is stored (or it ended a while ago
// with events lost), the hub walks its rows (chain-walk.ts) and signs its manifest. Every hub
// runs one; two sealing the same session write the same facts and the store keeps one manifest.
import type { Logger } from '../../../common/log.ts';
import type { RecordingStore } from '../store/recording-store.ts';
import { signManifest, type Manifest, type SignedManifest } from './manifest.ts';
import type { ManifestStore } from './manifest-store.ts';
import type { RecordingKeys } from './recording-keys.ts';
import type { ManifestAnchor } from './manifest-anchor.ts';

export interface SealerOptions {
  store: RecordingStore;
  manifests: ManifestStore;
  keys: RecordingKeys;
  logger: Logger;
  /** How often to look for sessions to seal. */
  intervalMs?: number;
  /** A session with events still missing is sealed this long after its end. */
  settleMs?: number;
  /** Where each manifest's hash is also written, outside the store (manifest-anchor.ts). */
  anchor?: ManifestAnchor;
}

export class RecordingSealer {
  readonly #opts: Required<Omit<SealerOptions, 'anchor'>> & Pick<SealerOptions, 'anchor'>;
  readonly #log: Logger;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | null = null;
  #stopped = false;
  #sealed = 0;

  constructor(opts: SealerOptions) {
    this.#opts = { intervalMs: 1000, settleMs: 60_000, ...opts };
    this.#log = opts.logger.child({ component: 'sealer' });
  }

  start(): void {
    this.#stopped = false;
    this.#schedule(0);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running;
  }

  metrics(): { sealed: number } {
    return { sealed: this.#sealed };
  }

  /** Seals what is due now (tests, and the loop). */
  async sweep(): Promise<number> {
    let n = 0;
    for (const id of await this.#opts.manifests.unsealed(100, this.#opts.settleMs)) {
      if (this.#stopped) break;
      try {
        if (await this.seal(id)) n++;
      } catch (err) {
        this.#log.warn({ sessionId: id, err: (err as Error).message }, 'sealing a recording failed; trying again later');
      }
    }
    return n;
  }

  /** Walks the session's rows and writes its signed manifest; null when it has no end yet. */
  async seal(sessionId: string): Promise<SignedManifest | null> {
    const summary = await this.#opts.store.getSession(sessionId);
    if (!summary?.endedAt) return null;
    const r = await this.#opts.manifests.walk(sessionId);
    const key = this.#opts.keys.current();
    const manifest: Manifest = {
      v: 1,
      sessionId,
      lastSeq: r.lastSeq,
      eventCount: r.eventCount,
      firstHash: r.firstHash,
      finalHash: r.finalHash,
      startedAt: summary.startedAt ?? null,
      endedAt: summary.endedAt,
      endReason: summary.endReason ?? null,
      blocks: r.blocks,
      chain: { unchained: r.unchained, findings: r.findings.map((f) => f.message) },
      sealedAt: new Date().toISOString(),
      keyId: key.id,
    };
    if (r.findings.length) this.#log.warn({ sessionId, findings: manifest.chain.findings.slice(0, 5) }, 'sealing a recording whose chain is already broken');
    const signed = signManifest(manifest, key.privateKey);
    // Anchored first: a manifest in the store always has its hash outside it too.
    await this.#opts.anchor?.record(signed);
    await this.#opts.manifests.save(signed);
    this.#sealed++;
    return signed;
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#running = this.sweep().catch((err: unknown) => {
        this.#log.warn({ err: (err as Error).message }, 'looking for recordings to seal failed');
        return 0;
      }).then(() => {
        this.#running = null;
        this.#schedule(this.#opts.intervalMs);
      });
    }, ms);
    this.#timer.unref();
  }
}
