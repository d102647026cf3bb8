// Which derivers index a session, by its protocol: every session gets timeline markers and search
// documents (PostgreSQL sessions also the statement index); terminal sessions get keyframes.
import type { RecordingStore } from '../store/recording-store.ts';
import { SearchExtractor, type Extracted } from '../search/search-documents.ts';
import { Keyframer, type Keyframe } from '../terminal/keyframer.ts';
import { saveExtractor, writeDocuments, writeStatements } from '../search/search-index.ts';
import type { RecordingIndexStore } from './index-store.ts';
import type { Derived, DeriverFactory, SessionDeriver } from './indexer.ts';
import { markerOf, typedLineMarker } from './timeline-markers.ts';

/** The markers of each event on its own (typed lines come with the search documents). */
function markerDeriver(): SessionDeriver {
  return {
    async feed(events) {
      return { markers: events.flatMap((e) => markerOf(e) ?? []) };
    },
    dispose() {},
  };
}

/**
 * Search documents and statements, from where the last indexer left the extraction (its state
 * is saved with every step), or afresh at the next event when that state is missing or elsewhere.
 */
async function searchDeriver(session: { id: string; indexedSeq: number }, index: RecordingIndexStore): Promise<SessionDeriver> {
  const saved = await index.loadSearchState(session.id);
  const extractor = saved && saved.nextSeq === session.indexedSeq + 1 ? saved : SearchExtractor.start(session.id, { fromSeq: session.indexedSeq + 1 });
  const derive = ({ documents, statements }: Extracted): Derived => ({
    markers: documents.filter((d) => d.kind === 'input' && d.part === 0).flatMap((d) => typedLineMarker(d) ?? []),
    write: async (tx) => {
      await writeDocuments(tx, documents);
      await writeStatements(tx, statements);
      await saveExtractor(tx, extractor);
    },
  });
  return {
    feed: async (events) => derive(extractor.push(events)),
    // A quiet live session: its last output chunk becomes searchable without waiting for more.
    idle: async () => derive(extractor.flush()),
    dispose() {},
  };
}

/**
 * A keyframe after 256 KiB of output (the keyframer's default is 1 MiB): a seek then replays at
 * most about that much, which bench:seek needs for its p99 (a keyframe is about a tenth of what it
 * spares, compressed by the database: storage stays well under half the raw output).
 */
const KEYFRAME_POLICY = { everyBytes: 256 * 1024 };

/** Events read at a time when a keyframer catches up after a restart. */
const CATCH_UP_PAGE = 5000;

/**
 * Terminal keyframes (terminal/keyframer.ts). A keyframer that was not running here goes on from
 * the last exact keyframe stored before where indexing stopped: it reads the events between the
 * two again (the keyframes it makes meanwhile are stored already) and then makes the same
 * keyframes as the one that ran from the start.
 */
async function keyframeDeriver(session: { id: string; indexedSeq: number }, index: RecordingIndexStore, store: RecordingStore): Promise<SessionDeriver> {
  const from = session.indexedSeq > 0 ? await index.resumeKeyframe(session.id, session.indexedSeq) : null;
  const keyframer = new Keyframer(KEYFRAME_POLICY, (from ?? undefined) as Keyframe | undefined);
  try {
    for (let next = (from?.seq ?? 0) + 1; next <= session.indexedSeq;) {
      const page = await store.readEvents(session.id, next, Math.min(CATCH_UP_PAGE, session.indexedSeq - next + 1));
      if (page.length === 0) break;
      await keyframer.feed(page.map((e) => e.event));
      next = page[page.length - 1].event.seq + 1;
    }
  } catch (err) {
    keyframer.dispose();
    throw err;
  }
  return {
    async feed(events) {
      return { keyframes: await keyframer.feed(events) };
    },
    dispose: () => keyframer.dispose(),
  };
}

export const recordingDerivers: DeriverFactory = async (session, { index, store }) => [
  markerDeriver(),
  await searchDeriver(session, index),
  ...(session.protocol === 'ssh' ? [await keyframeDeriver(session, index, store)] : []),
];
