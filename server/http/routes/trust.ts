// Tamper evidence over HTTP (server/recordings/trust/):
//   GET  /api/sessions/:id/verify           whether the recording is as it was sealed (anyone who may see it; audited)
//   GET  /api/sessions/:id/bundle           the recording with its manifest and keys, to verify offline (audited)
//   GET  /api/recording-keys                the published manifest keys (any logged-in role)
//   POST /api/recording-keys/rotate         a new signing key for this hub; the old one retired (admins; audited)
//   GET  /.well-known/vigil-recording-keys  the same keys, without authentication: they are public
//   GET  /api/audit/verify                  whether the audit log is as its signed checkpoints say (reviewers, admins)
import { Router, type RequestHandler } from 'express';
import type { RecordingKeysResponse } from '../../../common/api-contract.ts';
import type { AccessStore } from '../../access/access-store.ts';
import type { RecordingKeys } from '../../recordings/trust/recording-keys.ts';
import type { RecordingVerifier } from '../../recordings/trust/recording-verifier.ts';
import { allow, principalOf } from '../auth.ts';
import { AppError } from '../errors.ts';
import type { FindSession } from './session-access.ts';
import { write } from './sessions.ts';
import type { AuditCheckpoints } from '../../audit/audit-checkpoints.ts';

export interface TrustDeps {
  verifier: RecordingVerifier;
  keys: RecordingKeys;
  auditCheckpoints?: AuditCheckpoints;
  audit: AccessStore;
  findSession: FindSession;
}

const anyone = allow('admin', 'reviewer', 'approver', 'engineer');

export function sessionVerifyRouter({ verifier, audit, findSession }: TrustDeps): Router {
  const router = Router();
  router.get('/:id/verify', anyone, async (req, res) => {
    const session = await findSession(req, res, { opens: 'verify' });
    const report = await verifier.verify(session.id);
    if (!report) throw AppError.notFound(`no session ${session.id}`);
    await audit.audit({
      actor: principalOf(res).subject, action: 'session.verified', target: session.target, requestId: null, sessionId: session.id,
      origin: req.ip ?? null, detail: { status: report.status, ...(report.problems.length ? { problems: report.problems.slice(0, 5) } : {}) },
    });
    res.json(report);
  });
  router.get('/:id/bundle', anyone, async (req, res) => {
    const session = await findSession(req, res, { opens: 'export' });
    const pieces = await verifier.bundle(session);
    if (!pieces) throw AppError.notFound(`no session ${session.id}`);
    res.attachment(`vigil-session-${session.id.replace(/[^A-Za-z0-9_-]/g, '_')}.bundle.json`);
    res.type('application/json; charset=utf-8');
    for await (const piece of pieces) await write(res, piece);
    res.end();
  });
  return router;
}

export function recordingKeysRouter({ keys, audit }: Pick<TrustDeps, 'keys' | 'audit'>): Router {
  const router = Router();
  router.get('/', anyone, publishedKeys(keys));
  router.post('/rotate', allow('admin'), async (req, res) => {
    const rotated = await keys.rotate();
    await audit.audit({
      actor: principalOf(res).subject, action: 'recording_key.rotated', target: null, requestId: null, sessionId: null,
      origin: req.ip ?? null, detail: { retired: rotated.retired, current: rotated.current.id },
    });
    res.json(rotated);
  });
  return router;
}

export function auditVerifyRouter({ auditCheckpoints, keys, audit }: Pick<TrustDeps, 'auditCheckpoints' | 'keys' | 'audit'>): Router {
  const router = Router();
  router.get('/verify', allow('admin', 'reviewer'), async (req, res) => {
    if (!auditCheckpoints) throw AppError.unavailable('this hub does not checkpoint the audit log');
    const report = await auditCheckpoints.verify(await keys.published());
    await audit.audit({ actor: principalOf(res).subject, action: 'audit.verified', target: null, requestId: null, sessionId: null, origin: req.ip ?? null, detail: { status: report.status, coveredToId: report.coveredToId } });
    res.json(report);
  });
  return router;
}

export function publishedKeys(keys: Pick<RecordingKeys, 'published'>): RequestHandler {
  return async (_req, res) => {
    const body: RecordingKeysResponse = { keys: await keys.published() };
    res.json(body);
  };
}
