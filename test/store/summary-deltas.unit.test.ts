import { describe, expect, it } from 'vitest';
import { summarizeInserted } from '../../server/recordings/store/summary-deltas.ts';
import type { VigilEvent } from '../../common/events/index.ts';
import { EventScript } from '../../server/recordings/search/test-support.ts';
import { SessionEvents } from './event-factory.ts';

/** An HTTP session's events, its start first: `request` records an exchange, `response` and `finish` complete it. */
class HttpScript extends EventScript {
  readonly events: VigilEvent[] = [];

  constructor() {
    super({ protocol: 'http' });
    this.event('session.start', { upstream: 'https://api.internal', auth: 'bearer', recording: 'required', clientMasking: false }, 0);
  }

  override event(...args: Parameters<EventScript['event']>): VigilEvent {
    const e = super.event(...args);
    this.events.push(e);
    return e;
  }

  request(): number {
    return this.event('http.request', { method: 'GET', path: '/orders', query: '', version: '1.1', headers: [] }).seq;
  }

  response(requestSeq: number, status: number, by?: 'vigil'): VigilEvent {
    return this.event('http.response', { requestSeq, status, headers: [], ...(by ? { by } : {}) });
  }

  finish(requestSeq: number, outcome: 'complete' | 'aborted' | 'refused' | 'upgraded' = 'complete'): VigilEvent {
    return this.event('http.end', { requestSeq, outcome, durationMs: 12, requestBytes: 0, responseBytes: 0 });
  }
}

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

  describe('an HTTP session', () => {
    /** The delta of a whole HTTP session whose exchanges `script` records. */
    const deltaOf = (script: (h: HttpScript) => void) => {
      const h = new HttpScript();
      script(h);
      return summarizeInserted(h.events)[0];
    };

    it('when requests are made, then each counts as a statement, whatever follows it', () => {
      const delta = deltaOf((h) => {
        for (let i = 0; i < 3; i += 1) {
          const r = h.request();
          h.event('http.body', { requestSeq: r, direction: 'response', text: '{}', bytes: 2 });
          h.response(r, 200);
          h.finish(r);
        }
        const ws = h.request();
        h.response(ws, 101);
        h.event('ws.message', { requestSeq: ws, direction: 'client', kind: 'text', text: 'hi', bytes: 2 });
        h.finish(ws, 'upgraded');
      });
      expect(delta).toMatchObject({ protocol: 'http', queryCount: 4, errorCount: 0 });
    });

    it('when the target answers with a 5xx and the exchange completes, then it is one error; a 4xx is none', () => {
      const delta = deltaOf((h) => {
        for (const status of [500, 503, 404, 499]) {
          const r = h.request();
          h.response(r, status);
          h.finish(r);
        }
      });
      expect(delta).toMatchObject({ queryCount: 4, errorCount: 2 });
    });

    it('when Vigil answers with a 502 and ends the exchange aborted, then it is one error', () => {
      const delta = deltaOf((h) => {
        const r = h.request();
        h.response(r, 502, 'vigil');
        h.finish(r, 'aborted');
      });
      expect(delta).toMatchObject({ queryCount: 1, errorCount: 1 });
    });

    it('when a request is refused, or aborted with or without a response, then each is one error', () => {
      const delta = deltaOf((h) => {
        const refused = h.request();
        h.response(refused, 403, 'vigil');
        h.finish(refused, 'refused');
        const clientLeft = h.request();
        h.finish(clientLeft, 'aborted');
        const brokeOff = h.request();
        h.response(brokeOff, 200);
        h.finish(brokeOff, 'aborted');
      });
      expect(delta).toMatchObject({ queryCount: 3, errorCount: 3 });
    });

    it('when an exchange\'s response and end arrive in different batches, then together they count what one batch would', () => {
      const h = new HttpScript();
      const byVigil = h.request();
      const [vigil502, aborted] = [h.response(byVigil, 502, 'vigil'), h.finish(byVigil, 'aborted')];
      const byTarget = h.request();
      const [target500, complete] = [h.response(byTarget, 500), h.finish(byTarget)];
      const errors = (events: VigilEvent[]) => summarizeInserted(events)[0].errorCount;
      expect(errors([vigil502, target500]) + errors([aborted, complete])).toBe(2);
      expect(errors([vigil502, aborted, target500, complete])).toBe(2);
    });
  });
});
