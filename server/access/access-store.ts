// Access requests, their decisions and the audit log, in the hub's database beside the
// recordings. The store makes each change of state atomic (two hubs deciding at once, or a
// decision racing the expiry sweep, change a request once); who may make it is the access
// service's business (server/access/).
import type { AccessDecisionView, AccessRequestView, AccessStatus, AuditEntry } from '../../common/api-contract.ts';
import type { VigilEvent } from '../../common/events/index.ts';
import type { SqlClient } from '../store/sql-client.ts';
import { iso } from '../store/sql-time.ts';
import { escapeLike } from '../recordings/search/search-text.ts';

/** A request as stored; the caller-specific flags (canDecide, canRevoke) come later. */
export type AccessRequest = Omit<AccessRequestView, 'canDecide' | 'canRevoke'>;

export interface NewAccessRequest {
  scope: 'connect' | 'statement' | 'recording';
  user: string;
  target: string;
  reason: string;
  durationMs: number | null;
  minApprovals: number;
  origin: string;
  client?: string;
  sessionId?: string;
  statement?: string;
  rule?: string;
  pendingMs: number;
}

export interface AccessRequestFilter {
  user?: string;
  statuses?: readonly AccessStatus[];
  /** At most this many, newest first (default 100, at most 500). */
  limit?: number;
}

export interface Opened {
  request: AccessRequest;
  created: boolean;
  updated: boolean;
  expired: AccessRequest | null;
}

/** `at` defaults to now (the store's clock); reports from agents carry their own. */
export type NewAuditEntry = Omit<AuditEntry, 'id' | 'at'> & { at?: string };

export interface AuditFilter {
  requestId?: number;
  sessionId?: string;
  /** Exactly this actor (what one person viewed). */
  actor?: string;
  /** Actors whose name holds this, whatever its case (the Audit page's "who"). */
  actorContains?: string;
  actions?: readonly string[];
  /** Actions that start with this (`session.`). */
  actionPrefix?: string;
  /** Targets whose name holds this, whatever its case. */
  targetContains?: string;
  /** ISO times bounding `at`: from inclusive, to exclusive. */
  from?: string;
  to?: string;
  limit?: number;
  /** Entries older than this id (paging). */
  before?: number;
}

export interface AccessStore {
  /**
   * Opens a request; an open connect request of the same person for the target is returned
   * instead (updated with a reason and duration when it was opened by connecting and undecided).
   * A stale open one (past its time, not swept yet) expires first and comes back as `expired`.
   */
  open(request: NewAccessRequest): Promise<Opened>;
  get(id: number): Promise<AccessRequest | null>;
  /** A grant in force that lets this user read this session's recording (scope recording: its target's, or this session's). */
  recordingGrant(user: string, session: { id: string; target: string }): Promise<AccessRequest | null>;
  list(filter?: AccessRequestFilter): Promise<AccessRequest[]>;
  /**
   * Records one approver's decision on a pending request and moves it on: a denial denies, the
   * last approval needed grants (until now + duration). Null when it was not pending any more
   * or this approver had decided already.
   */
  decide(id: number, approver: string, decision: 'approve' | 'deny', comment: string): Promise<AccessRequest | null>;
  /** Ends a grant early; null when it was not in force. */
  revoke(id: number, by: string, reason: string): Promise<AccessRequest | null>;
  /** Pending requests past their time, and grants past their end, become expired; returns them. */
  expireDue(): Promise<AccessRequest[]>;
  /** Connect grants in force now (for the hub to restate to agents at start). */
  grantsInForce(): Promise<AccessRequest[]>;
  /** The user's newest request to connect to the target, whatever its state. */
  latestConnect(user: string, target: string): Promise<AccessRequest | null>;
  audit(entry: NewAuditEntry): Promise<void>;
  /** Newest first (by id). */
  auditLog(filter?: AuditFilter): Promise<AuditEntry[]>;
  /** Up to `limit` entries with an id above `afterId`, oldest first (the live feed). */
  auditAfter(afterId: number, limit: number): Promise<AuditEntry[]>;
  /** The highest id in the audit log (0 while it is empty). */
  lastAuditId(): Promise<number>;
}

type Row = {
  id: number; scope: 'connect' | 'statement' | 'recording'; user_name: string; target: string; reason: string; duration_ms: number | null;
  status: AccessStatus; min_approvals: number; origin: string; client: string | null; session_id: string | null;
  statement: string | null; rule: string | null; created_at: string; pending_until: string; decided_at: string | null;
  expires_at: string | null; ended_by: string | null; end_reason: string | null; decisions: string;
};

const COLUMNS = `r.id, r.scope, r.user_name, r.target, r.reason, r.duration_ms, r.status, r.min_approvals, r.origin, r.client,
  r.session_id, r.statement, r.rule, ${iso('r.created_at')} AS created_at, ${iso('r.pending_until')} AS pending_until,
  ${iso('r.decided_at')} AS decided_at, ${iso('r.expires_at')} AS expires_at, r.ended_by, r.end_reason,
  COALESCE((SELECT json_agg(json_build_object('approver', d.approver, 'decision', d.decision, 'comment', d.comment,
    'at', ${iso('d.decided_at')}) ORDER BY d.decided_at, d.approver)::text FROM access_decisions d WHERE d.request_id = r.id), '[]') AS decisions`;

const toRequest = (r: Row): AccessRequest => ({
  id: Number(r.id), scope: r.scope, user: r.user_name, target: r.target, reason: r.reason,
  durationMs: r.duration_ms === null ? null : Number(r.duration_ms), status: r.status, minApprovals: r.min_approvals,
  origin: r.origin, client: r.client, sessionId: r.session_id, statement: r.statement, rule: r.rule,
  createdAt: r.created_at, pendingUntil: r.pending_until, decidedAt: r.decided_at, expiresAt: r.expires_at,
  endedBy: r.ended_by, endReason: r.end_reason, decisions: JSON.parse(r.decisions) as AccessDecisionView[],
});

export class SqlAccessStore implements AccessStore {
  constructor(private readonly client: SqlClient) {}

  async open(n: NewAccessRequest): Promise<Opened> {
    return this.client.transaction(async (tx) => {
      // A stale open request would block a new one: let it expire first.
      const stale = await tx.query<{ id: number }>(`UPDATE access_requests SET status = 'expired', decided_at = now()
        WHERE status = 'pending' AND scope = 'connect' AND user_name = $1 AND target = $2 AND pending_until <= now() RETURNING id`, [n.user, n.target]);
      const expired = stale.rows.length ? (await this.one(tx, 'r.id = $1', [stale.rows[0].id]))! : null;
      // The open one first: an INSERT that conflicts would still use up a request number.
      const existing = await this.one(tx, `r.status = 'pending' AND r.scope = 'connect' AND r.user_name = $1 AND r.target = $2`, [n.user, n.target]);
      if (n.scope === 'connect' && existing) return this.reuse(tx, existing, n, expired);
      const inserted = await tx.query<{ id: number }>(
        `INSERT INTO access_requests (scope, user_name, target, reason, duration_ms, status, min_approvals, origin, client, session_id, statement, rule, pending_until)
         VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7, $8, $9, $10, $11, now() + $12 * interval '1 millisecond')
         ON CONFLICT (user_name, target) WHERE status = 'pending' AND scope = 'connect' DO NOTHING RETURNING id`,
        [n.scope, n.user, n.target, n.reason, n.durationMs, n.minApprovals, n.origin, n.client ?? null, n.sessionId ?? null, n.statement ?? null, n.rule ?? null, n.pendingMs],
      );
      if (inserted.rows[0]) return { request: (await this.one(tx, 'r.id = $1', [inserted.rows[0].id]))!, created: true, updated: false, expired };
      // Opened meanwhile by someone else's transaction.
      const open = (await this.one(tx, `r.status = 'pending' AND r.scope = 'connect' AND r.user_name = $1 AND r.target = $2`, [n.user, n.target]))!;
      return this.reuse(tx, open, n, expired);
    });
  }

  /**
   * An open request asked for again: one opened by connecting (no reason, the default duration)
   * takes the person's own words, as long as no approver has looked at it yet.
   */
  private async reuse(tx: SqlClient, open: AccessRequest, n: NewAccessRequest, expired: AccessRequest | null): Promise<Opened> {
    if (open.origin === 'connection' && n.origin !== 'connection' && open.decisions.length === 0) {
      await tx.query('UPDATE access_requests SET reason = $2, duration_ms = $3, origin = $4 WHERE id = $1', [open.id, n.reason, n.durationMs, n.origin]);
      return { request: (await this.one(tx, 'r.id = $1', [open.id]))!, created: false, updated: true, expired };
    }
    return { request: open, created: false, updated: false, expired };
  }

  get(id: number): Promise<AccessRequest | null> {
    return this.one(this.client, 'r.id = $1', [id]);
  }

  recordingGrant(user: string, session: { id: string; target: string }): Promise<AccessRequest | null> {
    return this.one(this.client, `r.status = 'granted' AND r.scope = 'recording' AND r.user_name = $1 AND r.target = $2
      AND (r.session_id IS NULL OR r.session_id = $3) AND r.expires_at > now() ORDER BY r.id DESC LIMIT 1`, [user, session.target, session.id]);
  }

  async list(filter: AccessRequestFilter = {}): Promise<AccessRequest[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.user !== undefined) where.push(`r.user_name = $${params.push(filter.user)}`);
    if (filter.statuses?.length) where.push(`r.status = ANY($${params.push([...filter.statuses])}::text[])`);
    const limit = Math.min(filter.limit ?? 100, 500);
    const { rows } = await this.client.query<Row>(
      `SELECT ${COLUMNS} FROM access_requests r ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY r.id DESC LIMIT ${limit}`, params);
    return rows.map(toRequest);
  }

  async decide(id: number, approver: string, decision: 'approve' | 'deny', comment: string): Promise<AccessRequest | null> {
    return this.client.transaction(async (tx) => {
      const { rows } = await tx.query<{ status: string; min_approvals: number; due: boolean }>(
        'SELECT status, min_approvals, pending_until <= now() AS due FROM access_requests WHERE id = $1 FOR UPDATE', [id]);
      const row = rows[0];
      if (!row || row.status !== 'pending' || row.due) return null;
      const added = await tx.query('INSERT INTO access_decisions (request_id, approver, decision, comment) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING approver', [id, approver, decision, comment]);
      if (added.rows.length === 0) return null;
      if (decision === 'deny') {
        await tx.query(`UPDATE access_requests SET status = 'denied', decided_at = now(), ended_by = $2, end_reason = $3 WHERE id = $1`, [id, approver, comment]);
      } else {
        const count = await tx.query<{ n: number }>(`SELECT count(*)::int AS n FROM access_decisions WHERE request_id = $1 AND decision = 'approve'`, [id]);
        if (count.rows[0].n >= row.min_approvals) {
          await tx.query(`UPDATE access_requests SET status = 'granted', decided_at = now(),
            expires_at = CASE WHEN duration_ms IS NULL THEN NULL ELSE now() + duration_ms * interval '1 millisecond' END WHERE id = $1`, [id]);
        }
      }
      return this.one(tx, 'r.id = $1', [id]);
    });
  }

  async revoke(id: number, by: string, reason: string): Promise<AccessRequest | null> {
    // One round trip: the change and the row as it is now.
    const { rows } = await this.client.query<Row>(
      `WITH r AS (UPDATE access_requests SET status = 'revoked', ended_by = $2, end_reason = $3, expires_at = LEAST(expires_at, now())
       WHERE id = $1 AND status = 'granted' AND scope IN ('connect', 'recording') AND expires_at > now() RETURNING *)
       SELECT ${COLUMNS} FROM r`, [id, by, reason]);
    return rows[0] ? toRequest(rows[0]) : null;
  }

  async expireDue(): Promise<AccessRequest[]> {
    const { rows } = await this.client.query<{ id: number }>(
      `UPDATE access_requests SET status = 'expired', decided_at = COALESCE(decided_at, now())
       WHERE (status = 'pending' AND pending_until <= now()) OR (status = 'granted' AND expires_at <= now()) RETURNING id`);
    if (rows.length === 0) return [];
    return (await this.client.query<Row>(`SELECT ${COLUMNS} FROM access_requests r WHERE r.id = ANY($1::bigint[]) ORDER BY r.id`, [rows.map((r) => r.id)])).rows.map(toRequest);
  }

  async grantsInForce(): Promise<AccessRequest[]> {
    const { rows } = await this.client.query<Row>(`SELECT ${COLUMNS} FROM access_requests r WHERE r.status = 'granted' AND r.scope = 'connect' AND r.expires_at > now() ORDER BY r.id`);
    return rows.map(toRequest);
  }

  latestConnect(user: string, target: string): Promise<AccessRequest | null> {
    return this.one(this.client, `r.scope = 'connect' AND r.user_name = $1 AND r.target = $2 ORDER BY r.id DESC LIMIT 1`, [user, target]);
  }

  async audit(e: NewAuditEntry): Promise<void> {
    await this.client.query(
      'INSERT INTO audit_log (at, actor, action, target, request_id, session_id, origin, detail) VALUES (coalesce($8::timestamptz, now()), $1, $2, $3, $4, $5, $6, $7)',
      [e.actor, e.action, e.target, e.requestId, e.sessionId, e.origin, JSON.stringify(e.detail), e.at ?? null],
    );
  }

  async auditLog(filter: AuditFilter = {}): Promise<AuditEntry[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.requestId !== undefined) where.push(`request_id = $${params.push(filter.requestId)}`);
    if (filter.sessionId !== undefined) where.push(`session_id = $${params.push(filter.sessionId)}`);
    if (filter.actor !== undefined) where.push(`actor = $${params.push(filter.actor)}`);
    if (filter.actorContains !== undefined) where.push(`actor ILIKE $${params.push(`%${escapeLike(filter.actorContains)}%`)}`);
    if (filter.actions !== undefined) where.push(`action = ANY($${params.push(filter.actions)}::text[])`);
    // Action names are codes (`session.killed`): a prefix is matched as written.
    if (filter.actionPrefix !== undefined) where.push(`action LIKE $${params.push(`${escapeLike(filter.actionPrefix)}%`)}`);
    if (filter.targetContains !== undefined) where.push(`target ILIKE $${params.push(`%${escapeLike(filter.targetContains)}%`)}`);
    if (filter.from !== undefined) where.push(`at >= $${params.push(filter.from)}::timestamptz`);
    if (filter.to !== undefined) where.push(`at < $${params.push(filter.to)}::timestamptz`);
    if (filter.before !== undefined) where.push(`id < $${params.push(filter.before)}`);
    const limit = Math.min(filter.limit ?? 100, 1000);
    const { rows } = await this.client.query<AuditRow>(
      `SELECT ${AUDIT_COLUMNS} FROM audit_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ${limit}`, params);
    return rows.map(toAuditEntry);
  }

  async auditAfter(afterId: number, limit: number): Promise<AuditEntry[]> {
    const { rows } = await this.client.query<AuditRow>(
      `SELECT ${AUDIT_COLUMNS} FROM audit_log WHERE id > $1 ORDER BY id LIMIT $2`, [afterId, Math.min(limit, 1000)]);
    return rows.map(toAuditEntry);
  }

  async lastAuditId(): Promise<number> {
    const { rows } = await this.client.query<{ id: number | string | null }>('SELECT max(id) AS id FROM audit_log');
    return Number(rows[0]?.id ?? 0);
  }

  private async one(client: SqlClient, where: string, params: unknown[]): Promise<AccessRequest | null> {
    const { rows } = await client.query<Row>(`SELECT ${COLUMNS} FROM access_requests r WHERE ${where}`, params);
    return rows[0] ? toRequest(rows[0]) : null;
  }
}

type AuditRow = { id: number; at: string; actor: string; action: string; target: string | null; request_id: number | null; session_id: string | null; origin: string | null; detail: string };

const AUDIT_COLUMNS = `id, ${iso('at')} AS at, actor, action, target, request_id, session_id, origin, detail`;

const toAuditEntry = (r: AuditRow): AuditEntry => ({
  id: Number(r.id), at: r.at, actor: r.actor, action: r.action, target: r.target,
  requestId: r.request_id === null ? null : Number(r.request_id), sessionId: r.session_id, origin: r.origin,
  detail: JSON.parse(r.detail) as Record<string, unknown>,
});

/**
 * Guardrail hits and the ends a hub wrote for sessions whose agent could not, stored in a
 * recording, go to the audit log too, in the same transaction as the events (so each once: an
 * event stored again is not inserted again).
 */
export async function auditFromRecording(tx: SqlClient, events: readonly VigilEvent[]): Promise<void> {
  for (const e of events) {
    if (e.type === 'guardrail.hit') {
      await tx.query(
        `INSERT INTO audit_log (at, actor, action, target, session_id, origin, detail) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
        [e.time, e.user, `guardrail.${e.data.action === 'deny' ? 'denied' : 'held'}`, e.target, e.sessionId, `${e.connection.agent} ${e.connection.client}`,
          JSON.stringify({ rule: e.data.rule, statement: e.data.statement, seq: e.seq })],
      );
    } else if (e.type === 'session.end' && e.data.writtenBy === 'hub') {
      // A session whose agent could not end it: on-call should know which, and why.
      await tx.query(
        `INSERT INTO audit_log (at, actor, action, target, session_id, origin, detail) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
        [e.time, 'vigil-hub', `session.${e.data.reason}`, e.target, e.sessionId, `${e.connection.agent} ${e.connection.client}`,
          JSON.stringify({ user: e.user, message: e.data.message, lastSeq: e.data.lastSeq, missing: e.data.missing })],
      );
    }
  }
}
