// Finding a recorded session for the person asking: a session they may not see is "not found",
// as if it did not exist, so its id reveals nothing. Every route under /api/sessions/:id uses it.
import type { Response } from 'express';
import { z } from 'zod';
import type { SessionSummary } from '../../../common/api-contract.ts';
import { SessionId } from '../../../common/session-id.ts';
import { maySeeSession, type ApprovesFor } from '../../access/access-policy.ts';
import type { RecordingStore } from '../../recordings/store/recording-store.ts';
import { principalOf } from '../auth.ts';
import { AppError } from '../errors.ts';
import { parseInput } from '../validate.ts';

// The same rule as a watch's session id (common/session-id.ts): a NUL or control character is a
// 400 here, never a store error.
const SessionParams = z.strictObject({ id: SessionId });

export type FindSession = (params: unknown, res: Response) => Promise<SessionSummary>;

export function sessionFinder(store: RecordingStore, approves?: ApprovesFor): FindSession {
  return async (params, res) => {
    const { id } = parseInput(SessionParams, params, 'path parameter');
    const session = await store.getSession(id);
    if (!session || !maySeeSession(principalOf(res), session, approves)) throw AppError.notFound(`no session ${id}`);
    return session;
  };
}
