// The event bus between agents and hubs. One interface, two transports: Redis (streams for the
// durable log, pub/sub for live fan-out, a hash for persisted watermarks) and in-process (for
// `vigil dev` without Redis, and as the reference the contract tests hold Redis to).
//
// What flows:
//   agent --append--> durable log (ordered, replayable) + live channel of the session
//   hub persister --readGroup/ack--> store --setWatermarks--> agent drops what is safe
//   hub persister --heartbeat; consumers/claimStale/removeConsumer--> takes over from dead hubs
// The shared logic (the agent's spool and retry, the hub's persister) lives above this
// interface; a transport only moves bytes.

import type { BatchProof } from '../agent-identity.ts';

/** An event as it travels: its canonical encoding plus the routing fields, read without parsing. */
export interface BusEvent {
  sessionId: string;
  seq: number;
  /** Canonical JSON of the event (common/events/codec.ts). */
  body: string;
  /** SHA-256 (hex) of body, when its emitter has it already (the chain's): the batch signature reuses it. */
  hash?: string;
}

/** One entry read from the durable log by a consumer group: the events of one append() call. */
export interface Delivery {
  /** Log position, opaque to callers (a Redis stream id, or a counter in-process). */
  id: string;
  /** The events' bodies in append order, as stored; untrusted until validated. An entry that
   * cannot be unpacked arrives as one body that is not an event, for the consumer to refuse. */
  bodies: string[];
  /** The appending agent's signature over the entry (common/agent-identity.ts), when it signed. */
  proof?: BatchProof;
}

export interface ReadGroupOptions {
  group: string;
  consumer: string;
  count: number;
  blockMs: number;
}

export interface ClaimOptions {
  group: string;
  consumer: string;
  /** Only entries delivered longer ago than this and not acknowledged. */
  minIdleMs: number;
  count: number;
  /** Only this consumer's entries; any consumer's when absent. */
  from?: string;
}

/** A consumer of a group as the transport sees it; every duration is measured by the transport's
 * own clock (Redis's, for the Redis bus), so hubs whose clocks disagree still agree on it. */
export interface ConsumerInfo {
  name: string;
  /** Entries delivered to it and not acknowledged. */
  pending: number;
  /** Since it was last handed entries (for Redis 7.2 and later: since it last asked for them). */
  idleMs: number;
  /** Since its last heartbeat; null when it never sent one (a hub of an older version). */
  silentMs: number | null;
}

export type BusStatus = 'up' | 'down';

export interface Backlog {
  undelivered: number;
  pending: number;
}

export interface EventBus {
  /** Appends events, in order, to the durable log as one entry and publishes them on their
   * sessions' live channels.
   * Rejects when the transport is unavailable; the caller keeps the events and retries. Retrying
   * a batch that partly landed is safe: consumers are idempotent on (sessionId, seq). */
  append(events: readonly BusEvent[], proof?: BatchProof): Promise<void>;

  /** Highest sequence number persisted contiguously for each session (0 or absent = nothing). */
  watermarks(sessionIds: readonly string[]): Promise<Map<string, number>>;
  setWatermarks(marks: ReadonlyMap<string, number>): Promise<void>;

  /** Creates the consumer group if it does not exist (idempotent). */
  ensureGroup(group: string): Promise<void>;
  /** Up to `count` entries never delivered to the group, waiting up to blockMs for the first. */
  readGroup(opts: ReadGroupOptions): Promise<Delivery[]>;
  /** This consumer's own delivered-but-unacknowledged entries (after a restart). */
  readPending(opts: Omit<ReadGroupOptions, 'blockMs'>): Promise<Delivery[]>;
  /** Takes over entries another (dead) consumer left unacknowledged. Entries whose data is gone
   * (trimmed) are dropped from the pending list instead. */
  claimStale(opts: ClaimOptions): Promise<Delivery[]>;
  /** Notes that this consumer is alive now (server/recordings/ingest/heartbeat.ts renews it every second). */
  heartbeat(group: string, consumer: string): Promise<void>;
  /** The group's consumers, with what they hold and when they were last heard of ([] without a group). */
  consumers(group: string): Promise<ConsumerInfo[]>;
  /** Deletes a consumer from the group, in one step with the checks: only when it holds no
   * pending entries and its last heartbeat (if it ever sent one) is at least minSilentMs old.
   * True when it was there and is gone. */
  removeConsumer(group: string, consumer: string, minSilentMs: number): Promise<boolean>;
  ack(group: string, ids: readonly string[]): Promise<void>;
  /** Drops log entries that every consumer of the group has acknowledged. */
  trimAcknowledged(group: string): Promise<void>;
  /** How far behind the group is, in entries: not handed out yet, and handed out but not acknowledged. */
  backlog(group: string): Promise<Backlog>;

  /** Live events of one session (pub/sub: fast, may drop; a viewer fills gaps from the log/store). */
  subscribe(sessionId: string, onEvent: (e: BusEvent) => void): Promise<() => Promise<void>>;

  /** Transport health; 'down' -> 'up' means a reconnect, after which unconfirmed events are re-sent. */
  status(): BusStatus;
  onStatus(listener: (status: BusStatus) => void): () => void;

  close(): Promise<void>;
}
