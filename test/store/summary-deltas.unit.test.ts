import { describe, expect, it } from 'vitest';
import { summarizeInserted } from '../../server/recordings/store/summary-deltas.ts';
import type { VigilEvent } from '../../common/events/index.ts';
import { SessionEvents } from './event-factory.ts';

describe('summarizeInserted', () => {
  it('when a batch holds a whole session, then its delta counts queries and errors and takes start and end', () => {
    const s = new SessionEvents({ startedAt: '2030-01-01T00:00:00.000Z' });
    const start = s.start();
    const q = s.query();
    const events = [start, q, s.error(q.event.seq), s.query(), s.end('killed')].map((e) => e.event);

    expect(summarizeInserted(events)).toEqual([{
      id: s.sessionId, protocol: 'postgres', user: s.user, target: s.target, client: s.client, agent: s.agent,
      startedAt: '2030-01-01T00:00:00.000Z', startSeen: true, endedAt: s.timeOf(5), endReason: 'killed', endedBy: null,
      lastSeq: 5, eventCount: 5, queryCount: 2, errorCount: 1,
    }]);
  });

  it('when a batch lacks session.start, then the delta starts at its earliest event and says the start is unseen', () => {
    const s = new SessionEvents();
    s.start();
    const events = [s.query(), s.query()].reverse().map((e) => e.event);

    expect(summarizeInserted(events)[0]).toMatchObject({ startedAt: s.timeOf(2), startSeen: false, lastSeq: 3, eventCount: 2 });
  });

  it('when a batch spans sessions, then there is one delta each, ordered by id', () => {
    const sessions = [new SessionEvents(), new SessionEvents(), new SessionEvents()];
    const deltas = summarizeInserted(sessions.map((s) => s.start().event));

    expect(deltas.map((d) => d.id)).toEqual(sessions.map((s) => s.sessionId).sort());
  });

  it('when a terminal session has lines entered, then each counts as a statement, but not typing without Enter or a hidden answer', () => {
    const s = new SessionEvents();
    const start = s.start();
    const typed = (data: object) => ({ ...s.notice('x').event, type: 'term.input', data: { channel: 0, ...data } }) as unknown as VigilEvent;
    const events = [start.event, typed({ text: 'ls -la\r' }), typed({ text: 'partial' }), typed({ hidden: 8 }), typed({ text: 'exit\n' })];
    expect(summarizeInserted(events)[0].queryCount).toBe(2);
  });
});
