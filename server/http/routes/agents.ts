// Agent identities (server/agents/agent-registry.ts):
//   POST /api/agents/enroll                    { id, publicKey, token? }: no login; an agent asks to be trusted
//                                              (with a one-time token at once, else when an admin approves)
//   GET  /api/agents                           every agent's identity and state (reviewers, admins)
//   POST /api/agents/enrollment-tokens         { ttl? }: a one-time token for `vigil agent enroll` (admins)
//   POST /api/agents/:id/approve               a pending agent is trusted (admins)
//   POST /api/agents/:id/revoke                { reason }: its entries are refused, its sessions end (admins)
// Every change is audited.
import express, { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import type { AccessStore } from '../../access/access-store.ts';
import { AGENT_ID, EnrollmentError, type AgentRegistry } from '../../agents/agent-registry.ts';
import { allow, principalOf } from '../auth.ts';
import { AppError } from '../errors.ts';
import { parseInput } from '../validate.ts';

const EnrollBody = z.strictObject({
  id: z.string().regex(AGENT_ID, 'agent ids are letters, digits, ., _ and - (up to 128)'),
  publicKey: z.string().min(1).max(4096),
  token: z.string().min(1).max(256).optional(),
});
const TokenBody = z.strictObject({ ttl: z.string().regex(/^\d{1,4}(m|h)$/, 'expected a duration such as 30m or 24h').optional() });
const RevokeBody = z.strictObject({ reason: z.string().trim().min(1, 'a revocation needs a reason').max(500) });
const IdParams = z.strictObject({ id: z.string().regex(AGENT_ID, 'expected an agent id') });

const ttlMs = (text: string) => Number(text.slice(0, -1)) * (text.endsWith('h') ? 3_600_000 : 60_000);

export function enrollHandler(agents: AgentRegistry, audit: AccessStore): RequestHandler[] {
  return [express.json({ limit: '16kb' }), async (req, res) => {
    const body = parseInput(EnrollBody, req.body ?? {}, 'body field');
    const from = req.ip ?? null;
    try {
      const agent = await agents.enroll({ id: body.id, publicKey: body.publicKey, token: body.token, from });
      await audit.audit({ actor: body.id, action: agent.status === 'enrolled' ? 'agent.enrolled' : 'agent.enrollment_requested', target: null, requestId: null, sessionId: null, origin: from, detail: { agent: body.id, fingerprint: agent.fingerprint, by: agent.enrolledBy } });
      res.status(agent.status === 'enrolled' ? 200 : 202).json({ agent });
    } catch (err) {
      if (!(err instanceof EnrollmentError)) throw err;
      await audit.audit({ actor: body.id, action: 'agent.enrollment_refused', target: null, requestId: null, sessionId: null, origin: from, detail: { agent: body.id, why: err.message } });
      throw new AppError(err.status, err.status === 403 ? 'forbidden' : err.status === 409 ? 'conflict' : 'bad_request', err.message);
    }
  }];
}

export function agentsRouter(agents: AgentRegistry, audit: AccessStore, onRevoked: () => void): Router {
  const router = Router();
  const admin = allow('admin');
  router.get('/', allow('admin', 'reviewer'), async (_req, res) => {
    res.json({ agents: await agents.list() });
  });
  router.post('/enrollment-tokens', admin, express.json({ limit: '1kb' }), async (req, res) => {
    const { ttl } = parseInput(TokenBody, req.body ?? {}, 'body field');
    const by = principalOf(res).subject;
    const made = await agents.createToken(by, ttl ? ttlMs(ttl) : 3_600_000);
    await audit.audit({ actor: by, action: 'agent.token_created', target: null, requestId: null, sessionId: null, origin: req.ip ?? null, detail: { expiresAt: made.expiresAt } });
    res.status(201).json(made);
  });
  router.post('/:id/approve', admin, async (req, res) => {
    const { id } = parseInput(IdParams, req.params, 'path parameter');
    const by = principalOf(res).subject;
    const agent = await agents.approve(id, by);
    if (!agent) {
      const known = await agents.get(id);
      if (!known) throw AppError.notFound(`no agent ${id}`);
      throw new AppError(409, 'conflict', `agent ${id} is ${known.status}, not waiting for approval`);
    }
    await audit.audit({ actor: by, action: 'agent.approved', target: null, requestId: null, sessionId: null, origin: req.ip ?? null, detail: { agent: id, fingerprint: agent.fingerprint } });
    res.json({ agent });
  });
  router.post('/:id/revoke', admin, express.json({ limit: '8kb' }), async (req, res) => {
    const { id } = parseInput(IdParams, req.params, 'path parameter');
    const { reason } = parseInput(RevokeBody, req.body ?? {}, 'body field');
    const by = principalOf(res).subject;
    const agent = await agents.revoke(id, by, reason);
    if (!agent) {
      if (!(await agents.get(id))) throw AppError.notFound(`no agent ${id}`);
      throw new AppError(409, 'conflict', `agent ${id} is revoked already`);
    }
    await audit.audit({ actor: by, action: 'agent.revoked', target: null, requestId: null, sessionId: null, origin: req.ip ?? null, detail: { agent: id, reason } });
    onRevoked();
    res.json({ agent });
  });
  return router;
}
