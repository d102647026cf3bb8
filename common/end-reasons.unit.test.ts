import { describe, expect, it } from 'vitest';
import { endedByWhom, sessionEnding } from './end-reasons.ts';

const ended = { endedAt: '2025-01-02T10:00:00.000Z' };

describe('how a session ended, in words', () => {
  it('when it runs, then there is no ending yet', () => {
    expect(sessionEnding({ endedAt: null, endReason: null })).toBeNull();
  });

  it('when it ended by itself, then the reason is in words and nobody is named, whatever the message says', () => {
    expect(sessionEnding({ ...ended, endReason: 'client_terminate' })).toEqual({ words: 'client quit', who: null });
    expect(sessionEnding({ ...ended, endReason: 'agent_lost', endMessage: 'the agent is gone' })).toEqual({ words: 'agent lost', who: null });
    expect(sessionEnding({ ...ended, endReason: 'some_new_reason' })).toEqual({ words: 'some new reason', who: null });
  });

  it('when a person killed, revoked or locked it, then who and why come from the end\'s message', () => {
    expect(sessionEnding({ ...ended, endReason: 'killed', endMessage: 'this session was ended by rita: INC-7' })).toEqual({ words: 'killed', who: 'by rita: INC-7' });
    expect(sessionEnding({ ...ended, endReason: 'revoked', endMessage: 'access grant #4 was revoked by aaron: done' })).toEqual({ words: 'access revoked', who: 'by aaron: done' });
    expect(sessionEnding({ ...ended, endReason: 'locked', endMessage: 'user bobby is locked by rita: INC-9 (lock L-1, until lifted)' }))
      .toEqual({ words: 'locked out', who: 'by rita: INC-9 (lock L-1, until lifted)' });
    expect(sessionEnding({ ...ended, endReason: 'killed', endMessage: null })).toEqual({ words: 'killed', who: null });
  });

  it('when the message names no one the usual way, then it is kept whole', () => {
    expect(endedByWhom('stopped for maintenance')).toBe('stopped for maintenance');
    expect(endedByWhom('this session was ended by rita: stopped by mistake')).toBe('by rita: stopped by mistake');
  });
});
