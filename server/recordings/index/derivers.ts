// Which derivers index a session, by its protocol: every session gets timeline markers; terminal
// sessions keyframes; all of them search documents and (PostgreSQL) the statement index.
import type { DeriverFactory, SessionDeriver } from './indexer.ts';
import { markerOf } from './timeline-markers.ts';

/** The markers of each event on its own (typed lines come with the search documents). */
function markerDeriver(): SessionDeriver {
  return {
    async feed(events) {
      return { markers: events.flatMap((e) => markerOf(e) ?? []) };
    },
    dispose() {},
  };
}

export const recordingDerivers: DeriverFactory = async () => [markerDeriver()];
