// Who saw what (server/access/view-audit.ts):
//   GET /api/sessions/:id/views   who opened this recording, how and through what (anyone who may see it)
//   GET /api/views?user=NAME      what recordings a person opened (reviewers, admins)
import { Router } from 'express';
import { z } from 'zod';
import type { ViewsResponse } from '../../../common/api-contract.ts';
import type { AccessStore } from '../../access/access-store.ts';
import { toView, VIEW_ACTIONS } from '../../access/view-audit.ts';
import { allow } from '../auth.ts';
import type { FindSession } from './session-access.ts';
import { edgeText, parseInput } from '../validate.ts';

const limit = z.string().regex(/^\d{1,4}$/, 'expected a whole number').transform(Number).pipe(z.number().min(1).max(1000)).default(200);
const SessionViewsQuery = z.strictObject({ limit });
const UserViewsQuery = z.strictObject({ user: edgeText(256), limit });

export function sessionViewsRouter(audit: AccessStore, findSession: FindSession): Router {
  const router = Router();
  router.get('/:id/views', allow('admin', 'reviewer', 'approver', 'engineer'), async (req, res) => {
    const session = await findSession(req, res);
    const q = parseInput(SessionViewsQuery, req.query, 'query parameter');
    const body: ViewsResponse = { views: (await audit.auditLog({ sessionId: session.id, actions: VIEW_ACTIONS, limit: q.limit })).map(toView) };
    res.json(body);
  });
  return router;
}

export function userViewsRouter(audit: AccessStore): Router {
  const router = Router();
  router.get('/', allow('admin', 'reviewer'), async (req, res) => {
    const q = parseInput(UserViewsQuery, req.query, 'query parameter');
    const body: ViewsResponse = { views: (await audit.auditLog({ actor: q.user, actions: VIEW_ACTIONS, limit: q.limit })).map(toView) };
    res.json(body);
  });
  return router;
}
