// How a session ended, in words, for the dashboard and the CLI. The recorded reason is a code
// (`client_terminate`); a person reads "the client quit". Who killed or revoked is in the end's
// message (`this session was ended by rita: INC-7`), which the caller shows beside these words.
import type { SessionEndReason } from './events/schema.ts';

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
