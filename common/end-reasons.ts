// How a session ended, in words, for the dashboard and the CLI. The recorded reason is a code
// (`client_terminate`); a person reads "client quit". Who killed or revoked is in the end's
// message (`this session was ended by rita: INC-7`), read here too.
import type { SessionEndReason } from './events/schema.ts';
import type { SessionSummary } from './api-contract.ts';

const WORDS: Record<SessionEndReason, string> = {
  client_terminate: 'client quit',
  client_disconnect: 'client disconnected',
  upstream_closed: 'target closed the connection',
  upstream_error: 'target failed',
  auth_failed: 'login refused',
  recording_unavailable: 'recording unavailable',
  protocol_error: 'client broke the protocol',
  killed: 'killed',
  revoked: 'access revoked',
  grant_expired: 'access grant expired',
  access_refused: 'access not granted',
  locked: 'locked out',
  idle: 'idle too long',
  token_expired: 'token expired',
  agent_shutdown: 'agent shut down',
  agent_lost: 'agent lost',
  agent_restarted: 'agent restarted',
};

/** The reason in words; an unknown code (a newer agent's) is shown as it is. */
export function endReasonWords(reason: string | null | undefined): string {
  if (!reason) return 'ended';
  return (WORDS as Record<string, string>)[reason] ?? reason.replace(/_/g, ' ');
}

/** Whether a person ended it (kill, revoke, lock): then the message names who. */
export function endedByPerson(reason: string | null | undefined): boolean {
  return reason === 'killed' || reason === 'revoked' || reason === 'locked';
}

/**
 * Who ended it and why, from the end's message: the agents write "this session was ended by rita:
 * INC-7", "access grant #4 was revoked by aaron: …", "user alice is locked by rita: …"; this keeps
 * "by rita: INC-7". Another message is kept whole.
 */
export function endedByWhom(message: string): string {
  const by = /\b(?:ended|revoked|locked) (by .+)$/s.exec(message);
  return by ? by[1] : message;
}

export interface Ending {
  /** "client quit", "killed", "access revoked". */
  words: string;
  /** "by rita: INC-7" when a person ended it and the end says who; recorded text. */
  who: string | null;
}

/** How a session ended, as the dashboard and the CLI say it; null while it runs. */
export function sessionEnding(s: Pick<SessionSummary, 'endedAt' | 'endReason' | 'endMessage'>): Ending | null {
  if (!s.endedAt) return null;
  return {
    words: endReasonWords(s.endReason),
    who: endedByPerson(s.endReason) && s.endMessage ? endedByWhom(s.endMessage) : null,
  };
}
