// The event bus between agents and hubs. One interface, two transports: Redis (streams for the
// durable log, pub/sub for live fan-out, a hash for persisted watermarks) and in-process (for
// `vigil dev` without Redis, and as the reference the contract tests hold Redis to).
//
// What flows:
//   agent --append--> durable log (ordered, replayable) + live channel of the session
//   hub persister --readGroup/ack--> store --setWatermarks--> agent drops what is safe
// The shared logic (the agent's spool and retry, the hub's persister) lives above this
// interface; a transport only moves bytes.

/** An event as it travels: its canonical encoding plus the routing fields, read without parsing. */
export interface BusEvent {
  sessionId: string;
  seq: number;
  /** Canonical JSON of the event (common/events/codec.ts). */
  body: string;
}

/** One entry read from the durable log by a consumer group: the events of one append() call. */
export interface Delivery {
  /** Log position, opaque to callers (a Redis stream id, or a counter in-process). */
  id: string;
  /** The events' bodies in append order, as stored; untrusted until validated. An entry that
   * cannot be unpacked arrives as one body that is not an event, for the consumer to refuse. */
  bodies: string[];
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
  /** Entries delivered to any consumer longer ago than this and not acknowledged. */
  minIdleMs: number;
  count: number;
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
  append(events: readonly BusEvent[]): Promise<void>;

  /** Highest sequence number persisted contiguously for each session (0 or absent = nothing). */
  watermarks(sessionIds: readonly string[]): Promise<Map<string, number>>;
  setWatermarks(marks: ReadonlyMap<string, number>): Promise<void>;

  /** Creates the consumer group if it does not exist (idempotent). */
  ensureGroup(group: string): Promise<void>;
  /** Up to `count` entries never delivered to the group, waiting up to blockMs for the first. */
  readGroup(opts: ReadGroupOptions): Promise<Delivery[]>;
  /** This consumer's own delivered-but-unacknowledged entries (after a restart). */
  readPending(opts: Omit<ReadGroupOptions, 'blockMs'>): Promise<Delivery[]>;
  /** Takes over entries another (dead) consumer left unacknowledged. */
  claimStale(opts: ClaimOptions): Promise<Delivery[]>;
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
