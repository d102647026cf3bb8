// How a session ended, as the Sessions page says it: the reason in words (common/end-reasons.ts)
// and, when a person ended it (kill, revoke, lock), who and why from the end's own message. DOM-free.
import { endedByPerson, endReasonWords } from '../../../../common/end-reasons.ts';
import type { SessionSummary } from '../../../../common/api-contract.ts';

export interface Ending {
  /** "client quit", "killed", "access revoked". */
  words: string;
  /** "by rita: INC-7" when a person ended it and the end says who; recorded text. */
  who: string | null;
}

/**
 * Who ended it and why, from the end's message: the agents write "this session was ended by rita:
 * INC-7", "access grant #4 was revoked by aaron: …", "user alice is locked by rita: …"; this keeps
 * "by rita: INC-7". Another message is kept whole. (The CLI reads them the same way: cli/format-session.ts.)
 */
export function endedByWhom(message: string): string {
  const by = /\b(?:ended|revoked|locked) (by .+)$/s.exec(message);
  return by ? by[1] : message;
}

/** Null while it runs. */
export function sessionEnding(s: Pick<SessionSummary, 'endedAt' | 'endReason' | 'endMessage'>): Ending | null {
  if (!s.endedAt) return null;
  return {
    words: endReasonWords(s.endReason),
    who: endedByPerson(s.endReason) && s.endMessage ? endedByWhom(s.endMessage) : null,
  };
}
