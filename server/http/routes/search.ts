// Search inside recordings: across the ones the person may see (GET /api/search), by the text of
// queries, commands, typed lines and output (masked text only), with the session filters; each
// hit with a snippet (plain text and match offsets) and the seq of its moment. A reviewer or admin
// searches every recording; anyone else their own sessions and those of targets they approve.
import { Router } from 'express';
import { z } from 'zod';
import { SessionEndReason } from '../../../common/events/index.ts';
import type { Actor, SessionScope } from '../../access/access-policy.ts';
import type { RecordingIndexStore } from '../../recordings/index/index-store.ts';
import { allow, principalOf } from '../auth.ts';
import { edgeText, parseInput } from '../validate.ts';

const SearchParams = z.strictObject({
  q: z.string().min(1).max(256),
  user: edgeText(256).optional(),
  target: edgeText(256).optional(),
  protocol: z.enum(['postgres', 'ssh', 'http']).optional(),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  ended: SessionEndReason.optional(),
  cursor: z.string().min(1).max(1024).optional(),
  limit: z.string().regex(/^\d{1,3}$/).transform(Number).pipe(z.number().min(1).max(100)).optional(),
});

export interface SearchRouterOptions {
  index: RecordingIndexStore;
  /** What each person may search (access-policy.ts sessionScope). */
  scopeOf: (actor: Actor) => SessionScope | null;
}

export function searchRouter(opts: SearchRouterOptions): Router {
  const router = Router();
  router.get('/', allow('admin', 'reviewer', 'approver', 'engineer'), async (req, res) => {
    const { q, cursor, limit, ...filter } = parseInput(SearchParams, req.query, 'query parameter');
    const who = principalOf(res);
    const visible = opts.scopeOf(who);
    const scope = visible ? { allowedUsers: [...visible.users], allowedTargets: [...visible.targets] } : {};
    res.json(await opts.index.search({ text: q, ...filter, ...scope, ...(cursor ? { cursor } : {}), ...(limit ? { limit } : {}) }));
  });
  return router;
}
