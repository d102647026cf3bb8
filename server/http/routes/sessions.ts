// Recorded sessions: list, one summary, its events page by page, and exports: JSON Lines whose
// lines are the stored canonical bodies byte for byte (what a later hash chain signs), a
// terminal session as asciicast v2, or an HTTP session as HAR 1.2.
import express, { Router, type Response } from 'express';
import type { ControlBus } from '../../../common/control/control-bus.ts';
import { z } from 'zod';
import type { SessionEventsResponse, SessionListResponse } from '../../../common/api-contract.ts';
import type { RecordingStore } from '../../recordings/store/recording-store.ts';
import type { AccessStore } from '../../access/access-store.ts';
import { decodeSessionCursor, encodeSessionCursor, LIST_LIMIT_MAX } from '../../recordings/store/session-filter.ts';
import { READ_LIMIT_DEFAULT, READ_LIMIT_MAX } from '../../recordings/store/sql-recording-store.ts';
import type { Actor, SessionScope } from '../../access/access-policy.ts';
import { AsciicastWriter } from '../../recordings/export/asciicast.ts';
import { HarWriter } from '../../recordings/export/har.ts';
import { allow, principalOf } from '../auth.ts';
import type { FindSession } from './session-access.ts';
import { AppError } from '../errors.ts';
import type { SessionReaper } from '../../liveness/session-reaper.ts';
import { edgeText, parseInput } from '../validate.ts';

const wholeNumber = (min: number, max: number) =>
  z.string().regex(/^\d{1,9}$/, 'expected a whole number').transform(Number).pipe(z.number().min(min).max(max));

const ListQuery = z.strictObject({
  user: edgeText(256).optional(),
  target: edgeText(256).optional(),
  protocol: z.enum(['postgres', 'ssh', 'http']).optional(),
  live: z.enum(['true', 'false']).transform((v) => v === 'true').optional(),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  limit: wholeNumber(1, LIST_LIMIT_MAX).optional(),
  before: z.string().min(1).max(1024).refine(isCursor, 'expected the `next` value of a previous page').optional(),
});

function isCursor(text: string): boolean {
  try {
    decodeSessionCursor(text);
    return true;
  } catch {
    return false;
  }
}

const EventsQuery = z.strictObject({
  from: wholeNumber(1, Number.MAX_SAFE_INTEGER).default(1),
  limit: wholeNumber(1, READ_LIMIT_MAX).default(READ_LIMIT_DEFAULT),
});

const ExportQuery = z.strictObject({ format: z.enum(['jsonl', 'asciicast', 'har']).default('jsonl') });

/** Each export's file extension and content type (HAR has no registered type of its own: it is JSON). */
const EXPORT_FILES = {
  jsonl: { ext: 'jsonl', type: 'application/x-ndjson; charset=utf-8' },
  asciicast: { ext: 'cast', type: 'application/x-asciicast; charset=utf-8' },
  har: { ext: 'har', type: 'application/json; charset=utf-8' },
} as const;

const EXPORT_PAGE = 1000;

const KillBody = z.strictObject({ reason: z.string().trim().max(500).regex(/^[^\u0000-\u001f\u007f]*$/, 'no control characters').optional() });

export interface SessionsRouterDeps {
  store: RecordingStore;
  audit: AccessStore;
  findSession: FindSession;
  /** What each person may list: the same rule findSession applies to one session (access-policy.ts). */
  scopeOf: (actor: Actor) => SessionScope | null;
  control?: ControlBus;
  reaper?: SessionReaper;
}

export function sessionsRouter({ store, audit, findSession, scopeOf, control, reaper }: SessionsRouterDeps): Router {
  const router = Router();
  // Reviewers and admins see every session; the approvers of a target its sessions; everyone
  // else (engineers) their own. A filter narrows what one may see, never widens it.
  const anyone = allow('admin', 'reviewer', 'approver', 'engineer');

  router.get('/', anyone, async (req, res) => {
    const filter = parseInput(ListQuery, req.query, 'query parameter');
    const visibleTo = scopeOf(principalOf(res)) ?? undefined;
    const limit = filter.limit ?? 50;
    const sessions = await store.listSessions({ ...filter, limit, ...(visibleTo ? { visibleTo } : {}) });
    const last = sessions.at(-1);
    const body: SessionListResponse = {
      sessions,
      next: sessions.length === limit && last?.startedAt ? encodeSessionCursor(last) : null,
    };
    res.json(body);
  });

  router.get('/:id', anyone, async (req, res) => {
    res.json({ session: await findSession(req, res) });
  });

  router.get('/:id/events', anyone, async (req, res) => {
    const session = await findSession(req, res);
    const { from, limit } = parseInput(EventsQuery, req.query, 'query parameter');
    const stored = await store.readEvents(session.id, from, limit);
    const next: SessionEventsResponse['next'] = stored.length === limit ? stored[stored.length - 1].event.seq + 1 : null;
    // A SessionEventsResponse spliced from the stored canonical bodies (JSON already): the
    // events are not serialized again.
    res.type('application/json').send(`{"events":[${stored.map((s) => s.body).join(',')}],"next":${JSON.stringify(next)}}`);
  });

  // Security on-call ends a live session: the agent holding it ends it within a second, telling
  // the client who did and why (control bus; also kept for an agent that was away).
  router.post('/:id/kill', allow('reviewer', 'admin'), express.json({ limit: '8kb' }), async (req, res) => {
    const session = await findSession(req, res);
    const body = KillBody.safeParse(req.body ?? {});
    if (!body.success) throw AppError.badRequest(`invalid body: ${body.error.issues[0]?.message ?? 'expected { reason }'}`);
    if (!control) throw AppError.unavailable('this hub has no control bus to reach the agents');
    if (session.endedAt) throw new AppError(409, 'conflict', `session ${session.id} has ended already`);
    const by = principalOf(res).subject;
    const reason = body.data.reason;
    // An agent that is gone cannot end it: the hub does, in the recording, and says so (a 202
    // promises that something will happen).
    // Leases unreadable (Redis away): the order is sent as before, and kept for the agent.
    const orphaned = reaper ? await reaper.agentHolds(session).then((holds) => !holds, () => false) : false;
    if (orphaned) {
      await reaper!.endAsHub(session, 'killed', `this session was ended by ${by}${reason ? `: ${reason}` : ''} (its agent ${session.agent} is gone, so the hub ended it in the recording)`);
    } else {
      await control.publish({ kind: 'kill', sessionId: session.id, by, ...(reason ? { reason } : {}), at: new Date().toISOString() });
    }
    await audit.audit({ actor: by, action: 'session.killed', target: session.target, requestId: null, sessionId: session.id, origin: req.ip ?? null, detail: { user: session.user, ...(reason ? { reason } : {}), ...(orphaned ? { agentGone: true } : {}) } });
    if (orphaned) res.status(200).json({ killed: session.id, endedInRecording: true, message: `the agent ${session.agent} holding this session is gone; the session was ended in the recording` });
    else res.status(202).json({ killed: session.id });
  });

  router.get('/:id/export', anyone, async (req, res) => {
    const session = await findSession(req, res, { opens: 'export' });
    const { format } = parseInput(ExportQuery, req.query, 'query parameter');
    const name = `vigil-session-${session.id.replace(/[^A-Za-z0-9_-]/g, '_')}`;
    // attachment() derives a Content-Type from the file name: set ours after it.
    res.attachment(`${name}.${EXPORT_FILES[format].ext}`);
    res.type(EXPORT_FILES[format].type);
    // jsonl sends the stored bodies as they are; the others are written from the events, line by line.
    const writer = format === 'asciicast' ? new AsciicastWriter(`Vigil session ${session.id}: ${session.user} on ${session.target}`)
      : format === 'har' ? new HarWriter() : null;
    let from = 1;
    for (;;) {
      const page = await store.readEvents(session.id, from, EXPORT_PAGE);
      const lines = writer ? page.flatMap((s) => writer.push(s.event)) : page.map((s) => s.body);
      if (lines.length) await write(res, `${lines.join('\n')}\n`);
      if (page.length < EXPORT_PAGE) break;
      from = page[page.length - 1].event.seq + 1;
    }
    const rest = writer?.end() ?? [];
    if (rest.length) await write(res, `${rest.join('\n')}\n`);
    res.end();
  });

  return router;
}

/** Writes with back-pressure: a slow client holds one page in memory, not the whole session. */
export function write(res: Response, text: string): Promise<void> | void {
  if (res.write(text)) return;
  return new Promise((resolve, reject) => {
    const onDrain = () => {
      res.off('close', onClose);
      resolve();
    };
    const onClose = () => {
      res.off('drain', onDrain);
      reject(new AppError(400, 'client_closed', 'the client closed the connection during the export'));
    };
    res.once('drain', onDrain);
    res.once('close', onClose);
  });
}
