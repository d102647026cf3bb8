// Which derivers index a session, by its protocol: every session gets timeline markers and search
// documents (PostgreSQL sessions also the statement index); terminal sessions get keyframes.
import { SearchExtractor } from '../search/search-documents.ts';
import { saveExtractor, writeDocuments, writeStatements } from '../search/search-index.ts';
import type { RecordingIndexStore } from './index-store.ts';
import type { DeriverFactory, SessionDeriver } from './indexer.ts';
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
  return {
    async feed(events) {
      const { documents, statements } = extractor.push(events);
      const lines = documents.filter((d) => d.kind === 'input' && d.part === 0);
      return {
        markers: lines.flatMap((d) => typedLineMarker(d) ?? []),
        write: async (tx) => {
          await writeDocuments(tx, documents);
          await writeStatements(tx, statements);
          await saveExtractor(tx, extractor);
        },
      };
    },
    dispose() {},
  };
}

export const recordingDerivers: DeriverFactory = async (session, index) => [markerDeriver(), await searchDeriver(session, index)];
