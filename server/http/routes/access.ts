// Just-in-time access over HTTP (the decisions are the access service's, server/access/):
//   GET  /api/access-requests            ?mine=true&status=pending,granted&limit -> { requests }
//   POST /api/access-requests            { target, reason, duration? ("30m") } -> 201 { request }
//   GET  /api/access-requests/:id        -> { request }
//   POST /api/access-requests/:id/approve  { comment? }   (the target's approvers; never one's own)
//   POST /api/access-requests/:id/deny     { comment? }
//   POST /api/access-requests/:id/revoke   { reason? }    (approvers, or the grant's holder)
//   GET  /api/audit                      ?actor&action&target&sessionId&requestId&from&to&before&limit
//                                        -> { entries }  (admins, reviewers; common/api-contract.ts AuditListResponse)
import { SessionId } from '../../../common/session-id.ts';
import express, { Router, type Request } from 'express';
import { z } from 'zod';
import { ACCESS_STATUSES } from '../../../common/control/control-bus.ts';
import { parseDuration } from '../../../common/config/schema.ts';
import type { AccessService, Origin } from '../../access/access-service.ts';
import type { AccessStore, AuditFilter } from '../../access/access-store.ts';
import type { AuditListResponse } from '../../../common/api-contract.ts';
import { allow, principalOf } from '../auth.ts';
import { edgeText, parseInput } from '../validate.ts';

const text = (max: number) => z.string().max(max).regex(/^[^\u0000-\u0008\u000b-\u001f\u007f]*$/, 'no control characters');
const id = z.string().regex(/^\d{1,15}$/, 'expected a request number').transform(Number);

const ListQuery = z.strictObject({
  mine: z.enum(['true', 'false']).transform((v) => v === 'true').optional(),
  status: z.string().max(100).transform((s) => s.split(',')).pipe(z.array(z.enum(ACCESS_STATUSES))).optional(),
  limit: z.string().regex(/^\d{1,3}$/).transform(Number).pipe(z.number().min(1).max(500)).optional(),
});
const RequestBody = z.strictObject({
  /** recording: to read the target's recordings (or one session's) for a while. */
  scope: z.enum(['connect', 'recording']).default('connect'),
  sessionId: SessionId.optional(),
  target: z.string().min(1).max(64),
  reason: text(1000).default(''),
  duration: z.string().regex(/^\d{1,6}(s|m|h)$/, 'expected a duration such as 90s, 30m or 2h').optional(),
  origin: z.enum(['dashboard', 'cli']).default('dashboard'),
});
const IdParams = z.strictObject({ id });
const DecisionBody = z.strictObject({ comment: text(500).default('') });
const RevokeBody = z.strictObject({ reason: text(500).default('') });
const AuditQuery = z.strictObject({
  requestId: id.optional(),
  before: id.optional(),
  limit: z.string().regex(/^\d{1,4}$/).transform(Number).pipe(z.number().min(1).max(1000)).optional(),
  /** Any part of who did it, whatever its case. */
  actor: edgeText(256).optional(),
  /** An action (`session.killed`), or a prefix ending in a dot (`session.`) for all under it. */
  action: z.string().max(100).regex(/^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*\.?$/, 'expected an action such as session.killed, or a prefix such as session.')
    .transform((a) => a.toLowerCase()).optional(),
  /** Any part of what it was done to, whatever its case. */
  target: edgeText(256).optional(),
  sessionId: SessionId.optional(),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
}).refine((q) => !q.from || !q.to || Date.parse(q.from) < Date.parse(q.to), 'from must be before to');

const originOf = (req: Request): Origin => ({ from: req.ip ?? req.socket.remoteAddress ?? 'unknown' });
const json = express.json({ limit: '16kb' });

export function accessRouter(access: AccessService): Router {
  const router = Router();
  const anyone = allow('admin', 'reviewer', 'approver', 'engineer');

  router.get('/', anyone, async (req, res) => {
    const q = parseInput(ListQuery, req.query, 'query parameter');
    res.json({ requests: await access.list(principalOf(res), { mine: q.mine, statuses: q.status, limit: q.limit }) });
  });

  router.post('/', allow('engineer', 'admin'), json, async (req, res) => {
    const body = parseInput(RequestBody, req.body ?? {}, 'body field');
    const request = await access.request(principalOf(res), {
      target: body.target, reason: body.reason, origin: body.origin, scope: body.scope, ...(body.sessionId ? { sessionId: body.sessionId } : {}),
      ...(body.duration ? { durationMs: parseDuration(body.duration) } : {}),
    }, originOf(req));
    res.status(201).json({ request: access.view(principalOf(res), request) });
  });

  router.get('/:id', anyone, async (req, res) => {
    const { id } = parseInput(IdParams, req.params, 'path parameter');
    res.json({ request: access.view(principalOf(res), await access.get(principalOf(res), id)) });
  });

  for (const decision of ['approve', 'deny'] as const) {
    router.post(`/:id/${decision}`, allow('approver', 'admin'), json, async (req, res) => {
      const { id } = parseInput(IdParams, req.params, 'path parameter');
      const { comment } = parseInput(DecisionBody, req.body ?? {}, 'body field');
      const request = await access.decide(principalOf(res), id, decision, comment, originOf(req));
      res.json({ request: access.view(principalOf(res), request) });
    });
  }

  router.post('/:id/revoke', anyone, json, async (req, res) => {
    const { id } = parseInput(IdParams, req.params, 'path parameter');
    const { reason } = parseInput(RevokeBody, req.body ?? {}, 'body field');
    const request = await access.revoke(principalOf(res), id, reason, originOf(req));
    res.json({ request: access.view(principalOf(res), request) });
  });

  return router;
}

export function auditRouter(store: AccessStore): Router {
  const router = Router();
  router.get('/', allow('admin', 'reviewer'), async (req, res) => {
    const { actor, action, target, ...q } = parseInput(AuditQuery, req.query, 'query parameter');
    const filter: AuditFilter = {
      ...q,
      ...(actor !== undefined ? { actorContains: actor } : {}),
      ...(target !== undefined ? { targetContains: target } : {}),
      ...(action === undefined ? {} : action.endsWith('.') ? { actionPrefix: action } : { actions: [action] }),
    };
    const body: AuditListResponse = { entries: await store.auditLog(filter) };
    res.json(body);
  });
  return router;
}
