// A recording bundle (`vigil export ID --format bundle`): everything needed to verify a recording
// away from the hub, in one JSON file: the session's summary, its rows exactly as stored, the
// signed manifest, and the published keys. `vigil verify --bundle FILE` judges it offline as the
// hub would (verify.ts); keys pinned with --keys replace the ones the bundle brings.
import type { SessionSummary, VerifyReport } from '../../../common/api-contract.ts';
import { walkSegments, type RawSegment } from './chain-walk.ts';
import type { PublishedKey, SignedManifest } from './manifest.ts';
import { judge } from './verify.ts';

export const BUNDLE_FORMAT = 'vigil-recording-bundle';

export interface RecordingBundle {
  format: typeof BUNDLE_FORMAT;
  v: 1;
  session: SessionSummary;
  /** The last seq a manifest was written for, as the hub's session row said. */
  manifestSeq: number;
  manifest: SignedManifest | null;
  keys: PublishedKey[];
  segments: RawSegment[];
}

/** The bundle as JSON text, a piece at a time (a long recording is never one string). */
export async function* bundleText(head: Omit<RecordingBundle, 'segments'>, segments: AsyncIterable<RawSegment>): AsyncGenerator<string> {
  const { format, v, session, manifestSeq, manifest, keys } = head;
  yield `{"format":${JSON.stringify(format)},"v":${v},"session":${JSON.stringify(session)},"manifestSeq":${manifestSeq},` +
    `"manifest":${JSON.stringify(manifest)},"keys":${JSON.stringify(keys)},"segments":[`;
  let first = true;
  for await (const s of segments) {
    yield `${first ? '' : ','}${JSON.stringify(s)}`;
    first = false;
  }
  yield ']}\n';
}

/** Reads a bundle from untrusted text; throws with what is wrong. */
export function parseBundle(text: string): RecordingBundle {
  let value: Partial<RecordingBundle>;
  try {
    value = JSON.parse(text) as Partial<RecordingBundle>;
  } catch {
    throw new Error('not a Vigil recording bundle: the file is not JSON');
  }
  if (value?.format !== BUNDLE_FORMAT || value.v !== 1) throw new Error(`not a Vigil recording bundle (format ${String(value?.format)})`);
  if (!value.session || typeof value.session.id !== 'string' || !Array.isArray(value.segments) || !Array.isArray(value.keys)) {
    throw new Error('the bundle is incomplete: it needs session, segments and keys');
  }
  for (const s of value.segments) {
    if (!Number.isSafeInteger(s?.firstSeq) || !Number.isSafeInteger(s?.lastSeq) || typeof s?.body !== 'string') throw new Error('the bundle holds a segment that is not { firstSeq, lastSeq, body }');
  }
  return value as RecordingBundle;
}

/** Judges a bundle as the hub judges the stored recording; `keys` (pinned) replace the bundle's own. */
export function verifyBundle(bundle: RecordingBundle, keys?: readonly PublishedKey[]): VerifyReport {
  const facts = { sessionId: bundle.session.id, endedAt: bundle.session.endedAt, manifestSeq: bundle.manifestSeq };
  return judge(facts, walkSegments(bundle.segments), bundle.manifest, keys ?? bundle.keys);
}
