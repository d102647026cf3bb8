import { describe, expect, it } from 'vitest';
import type { SessionSummary } from '../../../../common/api-contract.ts';
import type { EventOf } from '../../../../common/events/schema.ts';
import { recording, start } from '../playback/fake-recording.ts';
import { factsOf, presence, statusOf } from './session-facts.ts';

const summary: SessionSummary = {
  id: 's1', protocol: 'postgres', user: 'alice', target: 'demo', client: '10.0.0.9:5000', agent: 'a1', startedAt: '2030-01-01T09:00:00.000Z',
  endedAt: null, endReason: null, lastSeq: 1, persistedSeq: 1, eventCount: 1, queryCount: 0, errorCount: 0,
};
const startEvent = recording('postgres', [start(0)])[0] as EventOf<'session.start'>;

describe('the watch header facts', () => {
  it('when the summary is stored, then the facts are its own; before, the session.start gives them', () => {
    expect(factsOf(summary, null)).toEqual({ user: 'alice', target: 'demo', protocol: 'postgres', client: '10.0.0.9:5000', database: null, startedAt: summary.startedAt });
    expect(factsOf(null, startEvent)).toEqual({ user: 'alice', target: 'box', protocol: 'postgres', client: '10.0.0.1:5000', database: null, startedAt: startEvent.time });
    expect(factsOf(null, null)).toBeNull();
  });

  it('when the store has no such session and the hub refuses the watch as not found, then it is not found; either alone is not enough', () => {
    expect(presence({ state: 'missing' }, true)).toBe('not-found');
    expect(presence({ state: 'loading' }, true)).toBe('pending');
    expect(presence({ state: 'missing' }, null)).toBe('found');
    expect(presence({ state: 'missing' }, false)).toBe('found');
    expect(presence({ state: 'found', summary }, true)).toBe('found');
  });

  it('when the session ended, the page is reconnecting, or all is well, then the status says so', () => {
    const base = { ended: false, end: null, endReason: null, connected: true, wasConnected: true };
    expect(statusOf(base)).toEqual({ label: 'live', tone: 'live' });
    expect(statusOf({ ...base, connected: false })).toEqual({ label: 'reconnecting…', tone: 'stale' });
    expect(statusOf({ ...base, connected: false, wasConnected: false })).toEqual({ label: 'connecting…', tone: 'stale' });
    expect(statusOf({ ...base, end: { reason: 'killed', message: 'this session was ended by rita: INC-7', durationMs: 5 } })).toEqual({
      label: 'ended', tone: 'ended', reason: 'killed', message: 'this session was ended by rita: INC-7',
    });
    expect(statusOf({ ...base, ended: true, endReason: 'client_terminate', connected: false })).toEqual({ label: 'ended', tone: 'ended', reason: 'client quit' });
  });
});
