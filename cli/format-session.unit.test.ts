import { describe, expect, it } from 'vitest';
import type { SessionSummary } from '../common/api-contract.ts';
import { sessionHeader, sessionStatus, sessionTable } from './format-session.ts';
import { endedByWhom } from '../common/end-reasons.ts';

const summary = (over: Partial<SessionSummary> = {}): SessionSummary => ({
  id: 's-1', protocol: 'postgres', user: 'alice', target: 'payments', client: '10.0.0.7:5000', agent: 'agent-1',
  startedAt: '2026-12-07T21:46:19.573Z', endedAt: '2026-12-07T21:46:22.600Z', endReason: 'client_terminate',
  lastSeq: 4, persistedSeq: 4, eventCount: 4, queryCount: 1, errorCount: 0, ...over,
});

describe('sessions for the terminal', () => {
  it('when sessions are listed, then STARTED is in UTC with milliseconds and the zone, the way the dashboard writes it', () => {
    const table = sessionTable([summary()]);
    expect(table).toMatch(/^ID\s+USER\s+TARGET\s+STARTED\s+STATUS\s+QUERIES\s+ERRORS$/m);
    expect(table).toContain('2026-12-07 21:46:19.573 UTC');
    expect(table).toContain('client quit after 3s');
  });

  it('when a person killed, revoked or locked the session, then STATUS says who and why', () => {
    expect(sessionStatus(summary({ endReason: 'killed', endMessage: 'this session was ended by rita: INC-7' }))).toBe('killed by rita: INC-7 after 3s');
    expect(sessionStatus(summary({ endReason: 'revoked', endMessage: 'access grant #4 was revoked by aaron: done for today' })))
      .toBe('access revoked by aaron: done for today after 3s');
    expect(sessionStatus(summary({ endReason: 'locked', endMessage: 'user alice is locked by rita: INC-9 (lock L-1, until lifted)' })))
      .toBe('locked out by rita: INC-9 (lock L-1, until lifted) after 3s');
    // Other ends' messages are the agent's words for the client, not who did it.
    expect(sessionStatus(summary({ endReason: 'agent_lost', endMessage: 'gone' }))).toBe('agent lost after 3s');
    expect(sessionStatus(summary({ endedAt: null, endReason: null }))).toBe('live');
  });

  it('when the message carries control characters, then they are shown inert', () => {
    expect(sessionStatus(summary({ endReason: 'killed', endMessage: 'this session was ended by rita: \u001b]0;x\u0007' }))).toContain('\\x1b]0;x\\x07');
  });

  it('when a message does not name who, then it is kept whole', () => {
    expect(endedByWhom('ended for maintenance')).toBe('ended for maintenance');
    expect(endedByWhom('this session was ended by vigil-cli: fire drill')).toBe('by vigil-cli: fire drill');
  });

  it('when a session is shown, then its header gives start and end in the same format', () => {
    const header = sessionHeader(summary({ endReason: 'killed', endMessage: 'this session was ended by rita: INC-7' }));
    expect(header).toContain('started 2026-12-07 21:46:19.573 UTC  ended 2026-12-07 21:46:22.600 UTC (killed by rita: INC-7 after 3s)');
  });
});
