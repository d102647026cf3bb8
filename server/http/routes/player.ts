// What the player reads besides the events pages (sessions.ts): the timeline it draws first
// (segments, markers, keyframes) and a seek, which answers the screen at a moment with one
// keyframe and the events after it, never a replay from the start.
import { Router } from 'express';
import { z } from 'zod';
import type { SeekResponse, SessionTimelineResponse } from '../../../common/api-contract.ts';
import { MOMENT_SECONDS, MOMENT_SEQ } from '../../../common/link-patterns.ts';
import type { RecordingIndexStore } from '../../recordings/index/index-store.ts';
import type { RecordingStore, StoredEvent } from '../../recordings/store/recording-store.ts';
import { READ_LIMIT_MAX } from '../../recordings/store/sql-recording-store.ts';
import { allow } from '../auth.ts';
import { parseInput } from '../validate.ts';
import type { FindSession } from './session-access.ts';

const SeekQuery = z.union([
  z.strictObject({ seq: z.string().regex(MOMENT_SEQ, 'expected a whole number').transform(Number).pipe(z.number().min(1)) }),
  // Seconds from the session's start, as a share link carries them.
  z.strictObject({ t: z.string().regex(MOMENT_SECONDS, 'expected seconds, like 12.5').transform(Number) }),
]);

const seqParam = z.string().regex(MOMENT_SEQ, 'expected a whole number').transform(Number).pipe(z.number().min(1));
const SessionSearchQuery = z.strictObject({ q: z.string().min(1).max(256), from: seqParam.optional() });
const StatementsQuery = z.strictObject({
  from: seqParam.default(1),
  limit: z.string().regex(/^\d{1,4}$/).transform(Number).pipe(z.number().min(1).max(1000)).default(200),
});

/** Around a moment of a session without a terminal, the events a view shows first. */
const AROUND = 200;

export function playerRouter(store: RecordingStore, index: RecordingIndexStore, findSession: FindSession): Router {
  const router = Router();
  const anyone = allow('admin', 'reviewer', 'approver', 'engineer');

  router.get('/:id/timeline', anyone, async (req, res) => {
    const session = await findSession(req, res, { opens: 'replay' });
    const [segments, { markers, truncated }, keyframes, indexedSeq] = await Promise.all([
      store.listSegments(session.id), index.markers(session.id), index.keyframeSeqs(session.id), index.indexedSeq(session.id),
    ]);
    const body: SessionTimelineResponse = {
      session,
      segments: segments.map(({ firstSeq, lastSeq, firstTime, lastTime, eventCount }) => ({ firstSeq, lastSeq, firstTime, lastTime, eventCount })),
      markers, markersTruncated: truncated, keyframes, indexedSeq,
    };
    res.json(body);
  });

  router.get('/:id/seek', anyone, async (req, res) => {
    const session = await findSession(req, res);
    const q = parseInput(SeekQuery, req.query, 'query parameter');
    let seq: number | null;
    if ('seq' in q) seq = Math.min(q.seq, session.lastSeq);
    else {
      const start = Date.parse(session.startedAt ?? '');
      seq = Number.isNaN(start) ? null : await store.seqAtTime(session.id, new Date(start + q.t * 1000).toISOString());
      // Past the end: the last moment.
      if (seq === null && session.lastSeq > 0) seq = session.lastSeq;
    }
    let keyframe: SeekResponse['keyframe'] = null;
    let events: StoredEvent[] = [];
    let next: SeekResponse['next'] = null;
    if (seq !== null) {
      if (session.protocol === 'ssh') {
        const stored = await index.keyframeAt(session.id, seq);
        const from = (stored?.seq ?? 0) + 1;
        const want = Math.min(seq - from + 1, READ_LIMIT_MAX);
        events = want > 0 ? await store.readEvents(session.id, from, want) : [];
        if (stored) {
          const { seq: at, time, channel, cols, rows, altRows, scrollback, prelude, screen } = stored;
          keyframe = { seq: at, time, channel, cols, rows, altRows, scrollback, prelude, screen };
        }
        const last = events.at(-1)?.event.seq ?? from - 1;
        next = last < seq ? last + 1 : null;
      } else {
        events = await store.readEvents(session.id, seq, AROUND);
      }
    }
    // A SeekResponse with its events spliced from the stored bodies (JSON already, and most of the answer).
    res.type('application/json').send(
      `{"seq":${JSON.stringify(seq)},"keyframe":${JSON.stringify(keyframe)},"events":[${events.map((e) => e.body).join(',')}],"next":${JSON.stringify(next)}}`);
  });

  // Find-next inside one recording: every hit in seq order, a page at a time.
  router.get('/:id/search', anyone, async (req, res) => {
    const session = await findSession(req, res);
    const { q, from } = parseInput(SessionSearchQuery, req.query, 'query parameter');
    res.json(await index.searchSession(session.id, q, { fromSeq: from }));
  });

  // A PostgreSQL session's statements with what answered them (the player's statement list).
  router.get('/:id/statements', anyone, async (req, res) => {
    const session = await findSession(req, res);
    const { from, limit } = parseInput(StatementsQuery, req.query, 'query parameter');
    const statements = await index.statements(session.id, from, limit);
    res.json({ statements, next: statements.length === limit ? statements[statements.length - 1].seq + 1 : null });
  });

  return router;
}
