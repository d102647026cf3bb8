// Verifies a stored recording: walks its rows, reads its manifest and the published keys, judges.
import type { VerifyReport } from '../../../common/api-contract.ts';
import type { ManifestStore } from './manifest-store.ts';
import type { RecordingKeys } from './recording-keys.ts';
import { judge, judgePurged } from './verify.ts';
import type { ManifestAnchor } from './manifest-anchor.ts';
import { BUNDLE_FORMAT, bundleText } from './bundle.ts';
import type { SessionSummary } from '../../../common/api-contract.ts';

export class RecordingVerifier {
  readonly #manifests: ManifestStore;
  readonly #keys: Pick<RecordingKeys, 'published'>;

  readonly #anchor: ManifestAnchor | undefined;

  constructor(manifests: ManifestStore, keys: Pick<RecordingKeys, 'published'>, anchor?: ManifestAnchor) {
    this.#manifests = manifests;
    this.#keys = keys;
    this.#anchor = anchor;
  }

  /** Null when the store has no such session. */
  async verify(sessionId: string): Promise<VerifyReport | null> {
    const state = await this.#manifests.state(sessionId);
    if (!state) return null;
    if (state.purgedAt) {
      const [tombstone, signed, keys] = await Promise.all([this.#manifests.tombstone(sessionId), this.#manifests.get(sessionId), this.#keys.published()]);
      return judgePurged(sessionId, tombstone, signed, keys);
    }
    const walk = await this.#manifests.walk(sessionId);
    const [signed, keys] = await Promise.all([this.#manifests.get(sessionId), this.#keys.published()]);
    const anchored = this.#anchor ? { where: this.#anchor.where, entries: await this.#anchor.lookup(sessionId) } : undefined;
    return judge({ sessionId, endedAt: state.endedAt, manifestSeq: state.manifestSeq }, walk, signed, keys, anchored);
  }

  /** The session as a bundle (bundle.ts), as text pieces; null when the store has no such session. */
  async bundle(session: SessionSummary): Promise<AsyncGenerator<string> | null> {
    const state = await this.#manifests.state(session.id);
    if (!state) return null;
    const [manifest, keys] = await Promise.all([this.#manifests.get(session.id), this.#keys.published()]);
    return bundleText({ format: BUNDLE_FORMAT, v: 1, session, manifestSeq: state.manifestSeq, manifest, keys }, this.#manifests.segments(session.id));
  }
}
