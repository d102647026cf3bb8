// Retention and legal holds (server/recordings/retention/):
//   GET    /api/holds[?all=true]   holds in force (all: released ones too)       reviewers, admins
//   POST   /api/holds              { sessionId | user | target, reason }         reviewers, admins; audited
//   DELETE /api/holds/:id          release a hold                                reviewers, admins; audited
//   POST   /api/purge              { sessionId? }: that session now, or everything past its retention   admins
import express, { Router } from 'express';
import { z } from 'zod';
import type { PurgeResult } from '../../../common/api-contract.ts';
import { SessionId } from '../../../common/session-id.ts';
import type { AccessStore } from '../../access/access-store.ts';
import type { HoldStore } from '../../recordings/retention/hold-store.ts';
import type { RecordingPurger } from '../../recordings/retention/purger.ts';
import { allow, principalOf } from '../auth.ts';
import { AppError } from '../errors.ts';
import { edgeText, parseInput } from '../validate.ts';

const HoldBody = z.strictObject({
  sessionId: SessionId.optional(),
  user: edgeText(256).optional(),
  target: edgeText(256).optional(),
  reason: z.string().trim().min(1, 'a hold needs a reason').max(500),
}).refine((b) => b.sessionId !== undefined || b.user !== undefined || b.target !== undefined, 'a hold names a session, a user or a target');
const ListQuery = z.strictObject({ all: z.enum(['true', 'false']).optional() });
const IdParams = z.strictObject({ id: z.string().regex(/^H-[A-Za-z0-9_-]{1,32}$/, 'expected a hold id such as H-3kq9xz0a') });
const PurgeBody = z.strictObject({ sessionId: SessionId.optional() });

export function holdsRouter(holds: HoldStore, audit: AccessStore): Router {
  const router = Router();
  const security = allow('reviewer', 'admin');
  router.get('/', security, async (req, res) => {
    const { all } = parseInput(ListQuery, req.query, 'query parameter');
    res.json({ holds: await holds.list(all === 'true') });
  });
  router.post('/', security, express.json({ limit: '8kb' }), async (req, res) => {
    const body = parseInput(HoldBody, req.body ?? {}, 'body field');
    const by = principalOf(res).subject;
    const hold = await holds.create({ ...body, createdBy: by });
    await audit.audit({ actor: by, action: 'hold.placed', target: hold.target, requestId: null, sessionId: hold.sessionId, origin: req.ip ?? null, detail: { hold: hold.id, user: hold.user, reason: hold.reason } });
    res.status(201).json({ hold });
  });
  router.delete('/:id', security, async (req, res) => {
    const { id } = parseInput(IdParams, req.params, 'path parameter');
    const by = principalOf(res).subject;
    const released = await holds.release(id, by);
    if (!released) {
      if (!(await holds.get(id))) throw AppError.notFound(`no hold ${id}`);
      throw new AppError(409, 'conflict', `hold ${id} was released already`);
    }
    await audit.audit({ actor: by, action: 'hold.released', target: released.target, requestId: null, sessionId: released.sessionId, origin: req.ip ?? null, detail: { hold: id, user: released.user } });
    res.json({ hold: released });
  });
  return router;
}

export function purgeRouter(purger: RecordingPurger): Router {
  const router = Router();
  router.post('/', allow('admin'), express.json({ limit: '8kb' }), async (req, res) => {
    const { sessionId } = parseInput(PurgeBody, req.body ?? {}, 'body field');
    if (!sessionId) {
      const result: PurgeResult = await purger.sweep();
      return void res.json(result);
    }
    const outcome = await purger.purgeNow(sessionId, principalOf(res).subject);
    if (outcome === 'gone') throw AppError.notFound(`no session ${sessionId} with a recording to purge`);
    if (outcome === 'live') throw new AppError(409, 'conflict', `session ${sessionId} is live: it can be purged once it has ended`);
    if (outcome === 'held') throw new AppError(409, 'conflict', `session ${sessionId} is under a legal hold: release the hold first`);
    const result: PurgeResult = { purged: [sessionId], held: [] };
    res.json(result);
  });
  return router;
}
