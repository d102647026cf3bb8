// Finding a recorded session for the person asking. Reviewers and admins see every session, its
// user their own, the approvers of its target that target's, and anyone a share in force names
// (a user, or a group they are in). A session they may not see is "not found", as if it did not
// exist, so its id reveals nothing; the attempt on an existing one is audited, and so is every
// opening of a recording (view-audit.ts). A share that has
// expired or was revoked says so to the one it named. Every route under /api/sessions/:id uses it.
import type { Request, Response } from 'express';
import { z } from 'zod';
import type { SessionSummary, ShareView } from '../../../common/api-contract.ts';
import { SessionId } from '../../../common/session-id.ts';
import { seeingRight, type ApprovesFor } from '../../access/access-policy.ts';
import { auditRefusal, auditView, type ViewKind } from '../../access/view-audit.ts';
import type { AccessStore } from '../../access/access-store.ts';
import type { RecordingStore } from '../../recordings/store/recording-store.ts';
import type { ShareStore } from '../../shares/share-store.ts';
import { principalOf } from '../auth.ts';
import { AppError } from '../errors.ts';
import { parseInput } from '../validate.ts';

// The same rule as a watch's session id (common/session-id.ts): a NUL or control character is a
// 400 here, never a store error.
const SessionParams = z.strictObject({ id: SessionId });

export interface FoundSession {
  session: SessionSummary;
  /** The share it is seen through, when nothing else lets the person see it. */
  share: ShareView | null;
}

export interface FindOptions {
  /** This request opens the recording (the player's first read, an export, a verify): audited as a view. */
  opens?: ViewKind;
}

export type FindSession = (req: Request, res: Response, opts?: FindOptions) => Promise<SessionSummary>;

export interface SessionAccess {
  store: RecordingStore;
  approves?: ApprovesFor;
  shares?: ShareStore;
  audit?: AccessStore;
}

export function sessionFinder(access: SessionAccess): FindSession {
  const { store, approves, shares, audit } = access;
  return async (req, res, opts = {}) => {
    const { id } = parseInput(SessionParams, req.params, 'path parameter');
    const session = await store.getSession(id);
    const who = principalOf(res);
    const origin = req.ip ?? null;
    const right = session ? seeingRight(who, session, approves) : null;
    if (session && right) {
      if (opts.opens) await auditView(audit, who.subject, session, opts.opens, { via: right }, origin);
      return session;
    }
    const share = session && shares ? await shares.access(session.id, { subject: who.subject, groups: who.groups }) : null;
    if (session && share?.inForce) {
      if (opts.opens) await auditView(audit, who.subject, session, opts.opens, { via: 'share', shareId: share.inForce.id, sharedBy: share.inForce.createdBy }, origin);
      return session;
    }
    // A just-in-time grant to read recordings (its target's, or this session's), approved for a while.
    const grant = session ? await audit?.recordingGrant(who.subject, session) : null;
    if (session && grant) {
      if (opts.opens) await auditView(audit, who.subject, session, opts.opens, { via: 'grant', grantId: grant.id }, origin);
      return session;
    }
    const lapsed = share?.lapsed;
    if (session && lapsed) {
      await audit?.audit({ actor: who.subject, action: 'share.refused', target: session.target, requestId: null, sessionId: session.id, origin, detail: { shareId: lapsed.id, why: lapsed.revokedAt ? 'revoked' : 'expired' } });
      throw AppError.forbidden(`your share of session ${id} ${lapsed.revokedAt ? `was revoked by ${lapsed.revokedBy}` : `expired at ${lapsed.expiresAt}`}`);
    }
    // Every refused attempt on a session that exists is on record; the answer is the same as for one that does not.
    if (session) await auditRefusal(audit, who.subject, session, opts.opens ?? 'read', origin);
    throw AppError.notFound(`no session ${id}`);
  };
}
