// Sharing a recording and pinning notes to its moments. A session's user, reviewers and admins
// share it with named people or a group, until a time (at most 90 days ahead), with a note;
// whoever shared it, reviewers and admins revoke. Every share and revocation is audited (views
// through a share are audited where the recording is opened: session-access.ts). Anyone who may
// see a recording reads and adds its notes; a new note reaches every viewer of it at once.
import express, { Router, type Response } from 'express';
import { z } from 'zod';
import type { AnnotationView, SharedWithMeResponse, ShareView } from '../../../common/api-contract.ts';
import type { AccessStore } from '../../access/access-store.ts';
import type { RecordingStore } from '../../recordings/store/recording-store.ts';
import type { ShareStore } from '../../shares/share-store.ts';
import { allow, principalOf } from '../auth.ts';
import { AppError } from '../errors.ts';
import { edgeText, parseInput } from '../validate.ts';
import type { FindSession } from './session-access.ts';
import type { SessionSummary } from '../../../common/api-contract.ts';

const MAX_SHARE_DAYS = 90;
const DAY_MS = 24 * 60 * 60 * 1000;

// A note's text: free text, but not a terminal's: no control characters except line breaks and tabs.
const noteText = (max: number) => z.string().trim().max(max).regex(/^[^\u0000-\u0008\u000b-\u001f\u007f-\u009f]*$/, 'no control characters');

const ShareBody = z.strictObject({
  users: z.array(edgeText(256)).max(50).default([]),
  group: edgeText(256).optional(),
  /** Until when: an ISO time, or hours from now. */
  expiresAt: z.iso.datetime({ offset: true }).optional(),
  expiresInHours: z.number().positive().max(MAX_SHARE_DAYS * 24).optional(),
  note: noteText(500).default(''),
}).refine((b) => b.users.length > 0 || b.group !== undefined, 'name users or a group to share with')
  .refine((b) => (b.expiresAt === undefined) !== (b.expiresInHours === undefined), 'give expiresAt or expiresInHours');

const AnnotationBody = z.strictObject({
  seq: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
  text: noteText(2000).pipe(z.string().min(1, 'a note needs text')),
});

const ShareParams = z.strictObject({ shareId: z.string().regex(/^\d{1,15}$/, 'expected a share number').transform(Number) });

export interface SharesRouterOptions {
  store: RecordingStore;
  shares: ShareStore;
  audit: AccessStore;
  findSession: FindSession;
  /** Tells every viewer of the recording about a new note (all hubs). */
  announce?: (annotation: AnnotationView) => void;
}

/** The session's own user, reviewers and admins share it. */
function mayShare(res: Response, session: SessionSummary): boolean {
  const who = principalOf(res);
  return session.user === who.subject || who.roles.includes('reviewer') || who.roles.includes('admin');
}

/** Routes under /api/sessions/:id. */
export function sessionSharesRouter(opts: SharesRouterOptions): Router {
  const { shares, audit, findSession } = opts;
  const router = Router();
  const anyone = allow('admin', 'reviewer', 'approver', 'engineer');
  const json = express.json({ limit: '16kb' });

  router.get('/:id/shares', anyone, async (req, res) => {
    const session = await findSession(req, res);
    if (!mayShare(res, session)) throw AppError.forbidden('only the session\'s user, reviewers and admins see its shares');
    res.json({ shares: await shares.forSession(session.id) });
  });

  router.post('/:id/shares', anyone, json, async (req, res) => {
    const session = await findSession(req, res);
    if (!mayShare(res, session)) throw AppError.forbidden('only the session\'s user, reviewers and admins share it');
    const body = parseInput(ShareBody, req.body ?? {}, 'body field');
    const expires = body.expiresAt ? Date.parse(body.expiresAt) : Date.now() + body.expiresInHours! * 60 * 60 * 1000;
    if (expires <= Date.now()) throw AppError.badRequest('a share must end in the future');
    if (expires > Date.now() + MAX_SHARE_DAYS * DAY_MS) throw AppError.badRequest(`a share lasts at most ${MAX_SHARE_DAYS} days`);
    const by = principalOf(res).subject;
    const share = await shares.create({
      sessionId: session.id, createdBy: by, users: [...new Set(body.users)], group: body.group ?? null,
      note: body.note, expiresAt: new Date(expires).toISOString(),
    });
    await audit.audit({ actor: by, action: 'share.created', target: session.target, requestId: null, sessionId: session.id, origin: req.ip ?? null,
      detail: { shareId: share.id, users: share.users, group: share.group, expiresAt: share.expiresAt, note: share.note } });
    res.status(201).json({ share });
  });

  router.get('/:id/annotations', anyone, async (req, res) => {
    const session = await findSession(req, res);
    res.json({ annotations: await shares.annotations(session.id) });
  });

  router.post('/:id/annotations', anyone, json, async (req, res) => {
    const session = await findSession(req, res);
    const body = parseInput(AnnotationBody, req.body ?? {}, 'body field');
    if (body.seq > session.lastSeq) throw AppError.badRequest(`session ${session.id} has no event ${body.seq}`);
    const annotation = await shares.annotate({ sessionId: session.id, seq: body.seq, author: principalOf(res).subject, text: body.text });
    opts.announce?.(annotation);
    res.status(201).json({ annotation });
  });

  return router;
}

/** Routes under /api/shares. */
export function sharesRouter(opts: SharesRouterOptions): Router {
  const { store, shares, audit } = opts;
  const router = Router();
  const anyone = allow('admin', 'reviewer', 'approver', 'engineer');

  router.get('/', anyone, async (_req, res) => {
    const who = principalOf(res);
    const mine = await shares.sharedWith({ subject: who.subject, groups: who.groups });
    const body: SharedWithMeResponse = {
      shares: await Promise.all(mine.map(async (s) => ({ ...s, session: await store.getSession(s.sessionId) }))),
    };
    res.json(body);
  });

  router.delete('/:shareId', anyone, async (req, res) => {
    const { shareId } = parseInput(ShareParams, req.params, 'path parameter');
    const who = principalOf(res);
    const share: ShareView | null = await shares.get(shareId);
    const mayRevoke = share && (share.createdBy === who.subject || who.roles.includes('reviewer') || who.roles.includes('admin'));
    if (!share || !mayRevoke) throw AppError.notFound(`no share ${shareId}`);
    const revoked = await shares.revoke(shareId, who.subject);
    if (!revoked) throw new AppError(409, 'conflict', `share ${shareId} is not in force (revoked or expired already)`);
    const session = await store.getSession(share.sessionId);
    await audit.audit({ actor: who.subject, action: 'share.revoked', target: session?.target ?? null, requestId: null, sessionId: share.sessionId, origin: req.ip ?? null,
      detail: { shareId, users: share.users, group: share.group } });
    res.json({ share: revoked });
  });

  return router;
}
