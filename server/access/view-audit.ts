// Who saw what: every time a person opens a recording (the player, an export, a verify, a live
// watch) the audit log gets one entry naming who, which session, how, from where and through
// which right or share; every refused attempt on an existing session gets one too. One path for
// the REST routes (session-access.ts) and the live sockets (socket-watches.ts), so the "viewed by"
// list and a reviewer's "what did bob look at" read the same entries.
import type { AuditEntry, ViewEntry } from '../../common/api-contract.ts';
import type { AccessStore } from './access-store.ts';

/** How a recording was opened. */
export type ViewKind = 'replay' | 'export' | 'verify' | 'live';

/** The actions that are views (share.viewed: seen through a share). */
export const VIEW_ACTIONS = ['session.viewed', 'share.viewed'] as const;

export interface ViewedSession {
  id: string;
  target: string;
}

export type ViewRight = { via: 'own' | 'reviewer' | 'admin' | 'approver' } | { via: 'share'; shareId: number; sharedBy: string } | { via: 'grant'; grantId: number };

export function auditView(audit: AccessStore | undefined, who: string, session: ViewedSession, how: ViewKind, right: ViewRight, origin: string | null): Promise<void> {
  if (!audit) return Promise.resolve();
  const share = right.via === 'share';
  return audit.audit({
    actor: who, action: share ? 'share.viewed' : 'session.viewed', target: session.target, requestId: right.via === 'grant' ? right.grantId : null, sessionId: session.id, origin,
    detail: right.via === 'share' ? { how, via: 'share', shareId: right.shareId, sharedBy: right.sharedBy } : right.via === 'grant' ? { how, via: 'grant', grantId: right.grantId } : { how, via: right.via },
  });
}

export function auditRefusal(audit: AccessStore | undefined, who: string, session: ViewedSession, how: ViewKind | 'read', origin: string | null): Promise<void> {
  return audit?.audit({ actor: who, action: 'session.refused', target: session.target, requestId: null, sessionId: session.id, origin, detail: { how, why: 'not allowed to see this session' } }) ?? Promise.resolve();
}

export function toView(e: AuditEntry): ViewEntry {
  const d = e.detail as { how?: unknown; via?: unknown; shareId?: unknown; grantId?: unknown };
  return {
    at: e.at, who: e.actor, how: typeof d.how === 'string' ? d.how : 'replay', via: typeof d.via === 'string' ? d.via : e.action === 'share.viewed' ? 'share' : 'unknown',
    ...(typeof d.shareId === 'number' ? { shareId: d.shareId } : {}), ...(typeof d.grantId === 'number' ? { grantId: d.grantId } : {}), origin: e.origin, sessionId: e.sessionId ?? '', target: e.target,
  };
}
