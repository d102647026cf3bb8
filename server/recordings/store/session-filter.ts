// Listing sessions: the filter as callers give it, checked and normalized once, and the paging
// cursor. A cursor is opaque to callers: base64url of JSON {"t": startedAt, "id": id} taken from
// the last session of a page; the next page holds sessions strictly older in (startedAt, id) order.
import { z } from 'zod';
import type { SessionFilter, SessionSummary } from './recording-store.ts';

/** A caller's input the store refuses (bad cursor, bad timestamp): map it to HTTP 400. */
export class StoreInputError extends Error {
  override name = 'StoreInputError';
}

export const LIST_LIMIT_DEFAULT = 50;
export const LIST_LIMIT_MAX = 500;

export interface SessionCursor {
  startedAt: string;
  id: string;
}

export interface NormalizedSessionFilter {
  user?: string;
  target?: string;
  protocol?: string;
  live?: boolean;
  from?: string;
  to?: string;
  limit: number;
  before?: SessionCursor;
  visibleTo?: { users: string[]; targets: string[] };
}

const FilterSchema = z.object({
  user: z.string().max(256).optional(),
  target: z.string().max(256).optional(),
  protocol: z.string().max(32).optional(),
  live: z.boolean().optional(),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  limit: z.number().int().positive().optional(),
  before: z.string().max(1024).optional(),
  visibleTo: z.object({
    users: z.array(z.string().max(256)).max(10_000),
    targets: z.array(z.string().max(256)).max(10_000),
  }).optional(),
});

const CursorSchema = z.object({
  t: z.iso.datetime({ offset: true }),
  id: z.string().min(1).max(64),
});

/** The cursor that continues a listing after `session` (pass it as `before`). */
export function encodeSessionCursor(session: Pick<SessionSummary, 'id' | 'startedAt'>): string {
  if (session.startedAt === null) throw new StoreInputError(`session ${session.id} has no start time to page from`);
  return Buffer.from(JSON.stringify({ t: session.startedAt, id: session.id }), 'utf8').toString('base64url');
}

export function decodeSessionCursor(text: string): SessionCursor {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw new StoreInputError('invalid session cursor');
  }
  const parsed = CursorSchema.safeParse(value);
  if (!parsed.success) throw new StoreInputError('invalid session cursor');
  return { startedAt: parsed.data.t, id: parsed.data.id };
}

/** Checks a filter; limit defaults to 50 and is capped at 500. Throws StoreInputError. */
export function normalizeSessionFilter(filter: SessionFilter = {}): NormalizedSessionFilter {
  const parsed = FilterSchema.safeParse(filter);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new StoreInputError(`invalid session filter at ${issue?.path.join('.') || '(root)'}: ${issue?.message}`);
  }
  const { before, limit, ...rest } = parsed.data;
  return {
    ...rest,
    limit: Math.min(limit ?? LIST_LIMIT_DEFAULT, LIST_LIMIT_MAX),
    ...(before === undefined ? {} : { before: decodeSessionCursor(before) }),
  };
}
