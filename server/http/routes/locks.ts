// Locks (common/locks.ts): listed by anyone who may kill sessions, created and lifted by them.
// GET /api/locks[?all=true], POST /api/locks, DELETE /api/locks/:id.
import express, { Router } from 'express';
import { z } from 'zod';
import { parseDuration } from '../../../common/config/schema.ts';
import type { LockService } from '../../locks/lock-service.ts';
import { allow, principalOf } from '../auth.ts';
import { AppError } from '../errors.ts';
import { edgeText, parseInput } from '../validate.ts';

/** The longest a lock may be set for; longer is "until lifted". */
const LOCK_TTL_MAX_MS = 366 * 24 * 3_600_000;

const LockBody = z.strictObject({
  user: edgeText(256).optional(),
  target: edgeText(256).optional(),
  token: edgeText(128).optional(),
  ttl: z.string().regex(/^\d{1,6}(s|m|h|d)$/, 'expected a duration such as 90s, 30m, 2h or 7d').optional(),
  reason: z.string().trim().min(1, 'a lock needs a reason').max(500),
}).refine((b) => b.user !== undefined || b.target !== undefined || b.token !== undefined, 'a lock names a user, a target or a token');
const ListQuery = z.strictObject({ all: z.enum(['true', 'false']).optional() });
const IdParams = z.strictObject({ id: z.string().regex(/^L-[A-Za-z0-9_-]{1,32}$/, 'expected a lock id such as L-3kq9xz0a') });

function ttlMs(text: string): number {
  const ms = text.endsWith('d') ? Number(text.slice(0, -1)) * 24 * 3_600_000 : parseDuration(text);
  if (ms < 1000 || ms > LOCK_TTL_MAX_MS) throw AppError.badRequest('invalid body field "ttl": between 1s and 366d (leave it out for a lock until lifted)');
  return ms;
}

export function locksRouter(locks: LockService): Router {
  const router = Router();
  const security = allow('reviewer', 'admin');

  router.get('/', security, async (req, res) => {
    const { all } = parseInput(ListQuery, req.query, 'query parameter');
    res.json({ locks: await locks.list({ all: all === 'true' }) });
  });

  router.post('/', security, express.json({ limit: '8kb' }), async (req, res) => {
    const body = parseInput(LockBody, req.body ?? {}, 'body field');
    const lock = await locks.create({
      ...(body.user ? { user: body.user } : {}), ...(body.target ? { target: body.target } : {}), ...(body.token ? { token: body.token } : {}),
      by: principalOf(res).subject, reason: body.reason,
      ...(body.ttl ? { expiresAt: new Date(Date.now() + ttlMs(body.ttl)).toISOString() } : {}),
    }, req.ip ?? null);
    res.status(201).json({ lock });
  });

  router.delete('/:id', security, async (req, res) => {
    const { id } = parseInput(IdParams, req.params, 'path parameter');
    const lifted = await locks.lift(id, principalOf(res).subject, req.ip ?? null);
    if (lifted) return void res.json({ lock: lifted });
    const known = await locks.get(id);
    if (!known) throw AppError.notFound(`no lock ${id}`);
    throw new AppError(409, 'conflict', `lock ${id} is no longer in force (${known.state})`);
  });

  return router;
}
