// Where recordings live. One interface, two engines behind one SQL dialect: PostgreSQL through
// `pg` (DATABASE_URL) and embedded PGlite (the default without DATABASE_URL). Both run the same
// migrations and the same contract tests.
import type { SessionSummary } from '../../../common/api-contract.ts';
import type { VigilEvent } from '../../../common/events/index.ts';

export type { SessionSummary };

export interface SessionFilter {
  /** Any part of the user's name, whatever its case ("ALI" finds alice). */
  user?: string;
  /** Any part of the target's name, whatever its case ("pay" finds payments). */
  target?: string;
  protocol?: string;
  live?: boolean;
  /** ISO timestamps bounding started_at. */
  from?: string;
  to?: string;
  limit?: number;
  /** Sessions started before this (id, startedAt) cursor, for paging. */
  before?: string;
  /** Only sessions of these users or on these targets (what a person may see: access-policy.ts sessionScope). */
  visibleTo?: { users: readonly string[]; targets: readonly string[] };
}

export interface AgentSeen {
  id: string;
  instance: string;
  /** ISO time this run of the agent started. */
  startedAt: string;
}

export interface StoredEvent {
  event: VigilEvent;
  /** The canonical bytes exactly as received. */
  body: string;
}

/** A run of consecutive events stored as one row (the player's timeline and prefetch). */
export interface SegmentInfo {
  firstSeq: number;
  lastSeq: number;
  /** The earliest and the latest event time in it (ISO). */
  firstTime: string;
  lastTime: string;
  eventCount: number;
  /** The events' canonical bytes, and what the row holds of them (compressed once sealed). */
  rawBytes: number;
  storedBytes: number;
  sealed: boolean;
}

export interface AppendResult {
  /** Events newly written (duplicates of (sessionId, seq) are skipped). */
  inserted: number;
  /** For each session touched: the contiguous persisted watermark after this write. */
  watermarks: Map<string, number>;
}

export interface RecordingStore {
  /** Applies pending migrations; safe to call on every start. */
  migrate(): Promise<void>;
  /** Writes events in one transaction, idempotent on (sessionId, seq), and updates session summaries. */
  append(events: readonly StoredEvent[]): Promise<AppendResult>;
  listSessions(filter?: SessionFilter): Promise<SessionSummary[]>;
  getSession(id: string): Promise<SessionSummary | null>;
  /** Resolves when the database answers a trivial statement (readiness); rejects otherwise. */
  ping(): Promise<void>;
  /** Every session without an end (the hub's check of agent leases). */
  liveSessions(): Promise<SessionSummary[]>;
  /** Notes agents whose leases a hub saw (this run of each, and when). */
  noteAgents(seen: readonly AgentSeen[]): Promise<void>;
  /** Which of these agents have ever held a lease. */
  knownAgents(ids: readonly string[]): Promise<Set<string>>;
  /** Sessions without an end (for metrics). */
  countLiveSessions(): Promise<number>;
  /** Events of a session with seq >= fromSeq, in order. */
  readEvents(sessionId: string, fromSeq?: number, limit?: number): Promise<StoredEvent[]>;
  /** A session's segments in seq order, without their events. */
  listSegments(sessionId: string): Promise<SegmentInfo[]>;
  /** The seq of the session's first event at or after `time` (ISO), or null when there is none. */
  seqAtTime(sessionId: string, time: string): Promise<number | null>;
  close(): Promise<void>;
}
