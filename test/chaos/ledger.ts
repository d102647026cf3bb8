// What the store has of a case, checked against what its clients saw: every marked statement a
// client saw complete must be there as a db.query with its answer (db.result or db.copy) in the
// same session, every marked SSH output line in that session's term.output, pgbench's completed
// transactions as many answered queries; and every session must end with a reason. Each case
// connects as its own user, so its sessions are the store's sessions of that user.
import type { Cluster } from './cluster.ts';
import { MARKER, pause, type ClientLog, type Seen } from './clients.ts';

export interface StoredSession {
  id: string;
  protocol: string;
  startedAt: number;
  endReason: string | null;
  lastSeq: number;
  persistedSeq: number;
}

export interface StoreView {
  sessions: StoredSession[];
  events: number;
  /** Markers of queries that have their answer. */
  answered: Set<string>;
  /** How many answered queries carry each marker (pgbench repeats one). */
  answeredCount: Map<string, number>;
  /** Markers in SSH output. */
  output: Set<string>;
}

interface EventRow {
  session_id: string;
  seq: string;
  type: string;
  sql: string | null;
  query_seq: string | null;
  text: string | null;
}

export async function readSessions(cluster: Cluster, user: string): Promise<StoredSession[]> {
  const rows = await cluster.storeQuery<{ id: string; protocol: string; started_at: Date; end_reason: string | null; last_seq: string; persisted_seq: string }>(
    'select id, protocol, started_at, end_reason, last_seq, persisted_seq from sessions where user_name = $1', [user]);
  return rows.map((r) => ({ id: r.id, protocol: r.protocol, startedAt: r.started_at.getTime(), endReason: r.end_reason, lastSeq: Number(r.last_seq), persistedSeq: Number(r.persisted_seq) }));
}

/**
 * The stored events one row each, read straight from the store's segments (server/store/
 * migrations.ts 5: a run of consecutive events per row, their canonical bodies joined by newlines),
 * so the check does not go through the code it checks.
 */
const STORED_EVENTS = `(select g.session_id, g.first_seq + x.n - 1 as seq, x.body, x.body::json ->> 'type' as type
  from segments g, unnest(string_to_array(g.body, E'\\n')) with ordinality as x(body, n))`;

export async function readStore(cluster: Cluster, user: string): Promise<StoreView> {
  const sessions = await readSessions(cluster, user);
  // Only the fields the check needs leave the store (results of the viewer case are large).
  const rows = await cluster.storeQuery<EventRow>(`
    select e.session_id, e.seq, e.type,
      case when e.type = 'db.query' then e.body::json #>> '{data,sql}' end as sql,
      case when e.type in ('db.result', 'db.copy') then e.body::json #>> '{data,querySeq}' end as query_seq,
      case when e.type = 'term.output' then e.body::json #>> '{data,text}' end as text
    from ${STORED_EVENTS} e join sessions s on s.id = e.session_id
    where s.user_name = $1 order by e.session_id, e.seq`, [user]);
  const queries = new Map<string, string[]>();
  const answers = new Set<string>();
  const text = new Map<string, string>();
  for (const r of rows) {
    if (r.sql !== null) queries.set(`${r.session_id}/${r.seq}`, r.sql.match(MARKER) ?? []);
    if (r.query_seq !== null) answers.add(`${r.session_id}/${r.query_seq}`);
    if (r.text !== null) text.set(r.session_id, (text.get(r.session_id) ?? '') + r.text);
  }
  const answered = new Set<string>();
  const answeredCount = new Map<string, number>();
  for (const [key, markers] of queries) {
    if (!answers.has(key)) continue;
    for (const m of markers) {
      answered.add(m);
      answeredCount.set(m, (answeredCount.get(m) ?? 0) + 1);
    }
  }
  const output = new Set<string>();
  for (const t of text.values()) for (const m of t.match(MARKER) ?? []) output.add(m);
  return { sessions, events: rows.length, answered, answeredCount, output };
}

/** A session's events in brief (`seq type`, ends with their reason and writer), for reports. */
export async function describeSession(cluster: Cluster, id: string): Promise<string> {
  const rows = await cluster.storeQuery<{ seq: string; type: string; reason: string | null; by: string | null; missing: string | null; sql: string | null }>(`
    select seq, type, body::json #>> '{data,reason}' as reason, body::json #>> '{data,writtenBy}' as by,
      body::json #>> '{data,missing}' as missing, left(body::json #>> '{data,sql}', 40) as sql
    from ${STORED_EVENTS} e where session_id = $1 order by seq`, [id]);
  const [row] = await cluster.storeQuery<{ last_seq: string; persisted_seq: string; event_count: string; end_reason: string | null }>(
    'select last_seq, persisted_seq, event_count, end_reason from sessions where id = $1', [id]);
  const have = new Set(rows.map((r) => Number(r.seq)));
  const missing = Array.from({ length: Number(row?.last_seq ?? 0) }, (_, i) => i + 1).filter((seq) => !have.has(seq));
  // The tail tells the story (the fault is near the end); the start is routine.
  const events = rows.slice(-4).map((r) => `${r.seq} ${r.type}${r.reason ? ` ${r.reason}` : ''}${r.by ? ` by ${r.by} missing ${r.missing}` : ''}${r.sql ? ` "${r.sql}"` : ''}`);
  return `${id}: last_seq ${row?.last_seq}, persisted_seq ${row?.persisted_seq}, ${row?.event_count} events, ended ${row?.end_reason}, missing seqs [${missing.join(', ')}]; last events: ${events.join(' | ')}`;
}

export interface Losses {
  /** Seen by a client, not in the store. */
  lost: string[];
  /** SSH output seen within the agent's bounded recording batch before it was killed. */
  inBatch: string[];
  /** Sessions whose stored events have a hole (persisted_seq short of last_seq once ended). */
  gaps: string[];
}

/**
 * `batchCutoff`: SSH output the client saw after this moment may be missing when the agent was
 * killed (the recording keeps terminal output in a bounded burst before it is spooled).
 */
export function losses(view: StoreView, logs: ClientLog[], batchCutoff = Infinity): Losses {
  const lost: string[] = [];
  const inBatch: string[] = [];
  const check = (s: Seen) => {
    const found = s.kind === 'statement' ? view.answered.has(s.marker) : view.output.has(s.marker);
    if (found) return;
    if (s.kind === 'output' && s.at > batchCutoff) inBatch.push(s.marker);
    else lost.push(s.marker);
  };
  for (const log of logs) {
    log.seen.forEach(check);
    if (log.counted) {
      const missing = log.counted.completed - (view.answeredCount.get(log.counted.marker) ?? 0);
      for (let i = 0; i < missing; i++) lost.push(`${log.counted.marker} (${i + 1} of ${missing} counted)`);
    }
  }
  const gaps = view.sessions.filter((s) => s.endReason && s.persistedSeq < s.lastSeq).map((s) => `${s.id} (${s.persistedSeq}/${s.lastSeq})`);
  return { lost, inBatch, gaps };
}

/**
 * Notes when each session of `user` is first seen ended in the store, polling from the start of
 * a case (a session may end long before its clients stop).
 */
export class EndWatcher {
  readonly firstSeen = new Map<string, number>();
  private running = true;
  private readonly loop: Promise<void>;

  constructor(private readonly cluster: Cluster, private readonly user: string) {
    this.loop = this.run();
  }

  async poll(): Promise<StoredSession[] | null> {
    const now = Date.now();
    const sessions = await readSessions(this.cluster, this.user).catch(() => null);
    if (sessions) for (const s of sessions) if (s.endReason && !this.firstSeen.has(s.id)) this.firstSeen.set(s.id, now);
    return sessions;
  }

  private async run(): Promise<void> {
    while (this.running) {
      await this.poll();
      await pause(250);
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }
}

export interface Settled {
  view: StoreView;
  losses: Losses;
  /** Per ended session, when this check first saw it ended, minus the moment it was due from. */
  endDelays: number[];
  unended: string[];
  reasons: Map<string, number>;
  /** Since `since`, when the store first had everything the clients saw (null: never, in time). */
  completeAfterMs: number | null;
}

/** How long the store may stay short of the clients once every session has ended (default). */
const STUCK_MS = 20_000;

export interface SettleOptions {
  logs: ClientLog[];
  /** The moment a session's end is due from: its fault, or its client's end (case by case). */
  dueAt(session: StoredSession): number;
  /** What completeAfterMs is measured from (the fault). */
  since: number;
  timeoutMs: number;
  batchCutoff?: number;
  /** Give up this long after the last change once every session ended (default 20 s). */
  stuckMs?: number;
}

/**
 * Waits until every session of `user` ended and the store holds all the clients saw (or the
 * time is up), noting when each session's end appeared.
 */
export async function settle(cluster: Cluster, user: string, ends: EndWatcher, o: SettleOptions): Promise<Settled> {
  const logins = o.logs.reduce((n, l) => n + l.logins, 0);
  const endSeen = ends.firstSeen;
  const deadline = Date.now() + o.timeoutMs;
  let completeAt: number | null = null;
  let lastFull = 0;
  let view: StoreView | null = null;
  let lastLost = -1;
  let changedAt = Date.now();
  for (;;) {
    const now = Date.now();
    const sessions = await ends.poll();
    const allEnded = !!sessions && sessions.length >= logins && sessions.every((s) => s.endReason);
    if (completeAt === null && (allEnded || now - lastFull > 2000 || now > deadline)) {
      lastFull = now;
      view = await readStore(cluster, user).catch(() => view);
      const lost = view ? losses(view, o.logs, o.batchCutoff).lost.length : -1;
      if (lost === 0) completeAt = Date.now();
      if (lost !== lastLost) changedAt = now;
      lastLost = lost;
    }
    // Every session ended and nothing arrived for a while: what is missing will not come.
    const stuck = allEnded && now - changedAt > (o.stuckMs ?? STUCK_MS);
    if ((allEnded && completeAt !== null) || stuck || now > deadline) break;
    await pause(250);
  }
  await ends.stop();
  view = await readStore(cluster, user);
  const reasons = new Map<string, number>();
  const endDelays: number[] = [];
  const unended: string[] = [];
  for (const s of view.sessions) {
    if (!s.endReason) {
      unended.push(s.id);
      continue;
    }
    reasons.set(s.endReason, (reasons.get(s.endReason) ?? 0) + 1);
    endDelays.push(Math.max(0, (endSeen.get(s.id) ?? Date.now()) - o.dueAt(s)));
  }
  return { view, losses: losses(view, o.logs, o.batchCutoff), endDelays, unended, reasons, completeAfterMs: completeAt === null ? null : Math.max(0, completeAt - o.since) };
}
