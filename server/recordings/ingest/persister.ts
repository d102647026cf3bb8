// The hub's side of the event pipeline: reads the bus's durable log as one consumer of a group,
// validates every entry, writes the valid ones to the store in one call, and only then
// acknowledges them and raises the sessions' persisted watermarks (which let the agents drop their
// copies). Crash anywhere and the entries are still pending with this consumer: another hub takes
// them over once this one's heartbeat has lapsed (takeover.ts), and this one re-reads them itself
// after a failed batch (readPending). Writing twice is harmless: the store is idempotent on
// (sessionId, seq).
import crypto from 'node:crypto';
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Delivery, EventBus } from '../../../common/bus/event-bus.ts';
import type { BatchProof, SignedItem } from '../../../common/agent-identity.ts';
import type { BatchTrust } from '../../agents/agent-registry.ts';
import { decodeEvent } from '../../../common/events/codec.ts';
import type { Logger } from '../../../common/log.ts';
import type { RecordingStore, StoredEvent } from '../store/recording-store.ts';
import { Heartbeat } from './heartbeat.ts';
import { Takeover } from './takeover.ts';

export interface PersisterOptions {
  bus: EventBus;
  store: RecordingStore;
  logger: Logger;
  group?: string;
  /** Default: host, pid and a random part, new for each run (newConsumerName). */
  consumer?: string;
  /** Log entries per read; each holds one agent append, up to the agent's batch size of events. */
  batchSize?: number;
  blockMs?: number;
  /** A consumer silent this long (no heartbeat, no read) is dead: its pending entries are taken
   * over and it is deleted from the group. Heartbeats go every third of it. */
  deadAfterMs?: number;
  /** A consumer that never sent a heartbeat (a hub of an older version) is dead once idle this long. */
  claimIdleMs?: number;
  /** How often to trim acknowledged entries from the log. */
  trimIntervalMs?: number;
  /** Told which sessions got new events (after they are stored): the indexer follows them. */
  onPersisted?: (sessionIds: string[]) => void;
  /**
   * Which agents are trusted (server/agents/agent-registry.ts): with it, an entry is persisted only
   * when an enrolled agent signed it, and only its events of sessions that agent served.
   */
  agents?: { trustOf(proof: BatchProof | undefined, items: readonly SignedItem[]): Promise<BatchTrust> };
  /** Told of every refused entry (the hub audits them, a few a minute per agent and reason). */
  onRefused?: (refusal: { streamId: string; agent: string | null; reason: string; events: number }) => void;
}

export interface PersisterMetrics {
  /** Log entries handled (including re-deliveries); each holds one or more events. */
  received: number;
  /** Events newly written to the store. */
  persisted: number;
  /** Valid events the store already had. */
  duplicates: number;
  /** Events that failed validation (acknowledged and skipped). */
  invalid: number;
  /** Events refused as not an enrolled agent's (unsigned, unknown or revoked agent, bad signature, another agent's session). */
  refused: number;
  /** Log entries claimed from dead consumers. */
  takenOver: number;
  /** Dead consumers this persister deleted from the group. */
  consumersRemoved: number;
  /** Failed bus or store operations (each followed by a back-off). */
  errors: number;
  lastBatchAt?: number;
}

const MAX_BACKOFF_MS = 2000;

/**
 * New for each run: a hub restarted on the same host can get the same pid (always 1 in a
 * container), and two hubs with one name would share one pending list, where the entries of the
 * one that died stay pending for as long as the other beats. A restarted hub takes over its
 * previous run's entries like any other hub does, once that run's heartbeat has lapsed.
 */
export function newConsumerName(): string {
  return `${os.hostname()}-${process.pid}-${crypto.randomBytes(3).toString('hex')}`;
}

export class Persister {
  private readonly bus: EventBus;
  private readonly store: RecordingStore;
  private readonly log: Logger;
  readonly group: string;
  private readonly consumer: string;
  private readonly batchSize: number;
  private readonly blockMs: number;
  private readonly deadAfterMs: number;
  private readonly takeoverEveryMs: number;
  private readonly trimEveryMs: number;
  private readonly heartbeat: Heartbeat;
  private readonly takeover: Takeover;
  private readonly onPersisted: ((sessionIds: string[]) => void) | undefined;
  private readonly agents: PersisterOptions['agents'];
  private readonly onRefused: PersisterOptions['onRefused'];

  private readonly counters: PersisterMetrics = {
    received: 0, persisted: 0, duplicates: 0, invalid: 0, refused: 0, takenOver: 0, consumersRemoved: 0, errors: 0,
  };
  private loop: Promise<void> | null = null;
  private stopping = false;
  private wake = new AbortController();
  private backoffMs = 0;
  /** Own entries may be pending: at start, and after a batch that was not acknowledged. */
  private checkPending = true;
  private groupReady = false;
  private nextTakeoverAt = 0;
  private nextTrimAt = 0;
  /** Watermarks the bus did not take yet (it was down): sent again with the next batch. */
  private readonly unsentMarks = new Map<string, number>();

  constructor(opts: PersisterOptions) {
    this.bus = opts.bus;
    this.store = opts.store;
    this.group = opts.group ?? 'vigil-persister';
    this.consumer = opts.consumer ?? newConsumerName();
    this.log = opts.logger.child({ component: 'persister', consumer: this.consumer });
    this.batchSize = opts.batchSize ?? 50;
    this.blockMs = opts.blockMs ?? 1000;
    // 3 s: with a beat every second, two beats may be lost before a live hub counts as dead, and
    // a dead one's entries are taken over within about 4 s (the silence, then the next look).
    this.deadAfterMs = opts.deadAfterMs ?? 3000;
    this.takeoverEveryMs = Math.max(10, Math.min(this.deadAfterMs / 3, 1000));
    this.trimEveryMs = opts.trimIntervalMs ?? 5000;
    this.onPersisted = opts.onPersisted;
    this.agents = opts.agents;
    this.onRefused = opts.onRefused;
    this.heartbeat = new Heartbeat(this.bus, this.group, this.consumer, Math.max(10, this.deadAfterMs / 3), this.log);
    this.takeover = new Takeover(this.bus, this.group, this.consumer,
      { deadAfterMs: this.deadAfterMs, legacyIdleMs: opts.claimIdleMs ?? 30_000 }, this.log);
  }

  start(): void {
    if (this.loop) return;
    this.stopping = false;
    this.loop = this.run();
  }

  /** Ends the loop: waits at most for the read or write in progress. */
  async stop(): Promise<void> {
    if (!this.loop) return;
    this.stopping = true;
    this.wake.abort();
    await this.loop;
    this.loop = null;
    this.wake = new AbortController();
    await this.heartbeat.stop();
    // Leaves the group when it holds nothing; otherwise another hub takes its entries once its
    // heartbeat has lapsed. The bus may be down already: then the others remove it later.
    await this.bus.removeConsumer(this.group, this.consumer, 0).catch(() => false);
  }

  metrics(): PersisterMetrics {
    return { ...this.counters, consumersRemoved: this.takeover.removed };
  }

  /** This persister's name in the consumer group. */
  get consumerName(): string {
    return this.consumer;
  }

  private async run(): Promise<void> {
    this.log.info({ group: this.group }, 'persister started');
    // Before the first read: a consumer with entries and no heartbeat counts as an older hub.
    await this.heartbeat.start();
    while (!this.stopping) {
      try {
        await this.step();
        this.backoffMs = 0;
      } catch (err) {
        // Redis down, a store failure, anything: never out of the loop, never crash the hub.
        this.counters.errors++;
        this.groupReady = false;
        this.backoffMs = this.backoffMs ? Math.min(this.backoffMs * 2, MAX_BACKOFF_MS) : 100;
        this.log.warn({ err: (err as Error)?.message, retryInMs: this.backoffMs }, 'persister step failed; backing off');
        await this.pause(this.backoffMs);
      }
    }
    this.log.info('persister stopped');
  }

  private async step(): Promise<void> {
    if (!this.groupReady) {
      await this.bus.ensureGroup(this.group);
      this.groupReady = true;
    }
    await this.flushMarks();
    const now = Date.now();
    const opts = { group: this.group, consumer: this.consumer, count: this.batchSize };

    if (this.checkPending) {
      const mine = await this.bus.readPending(opts);
      if (mine.length === 0) this.checkPending = false;
      else await this.handle(mine);
      return;
    }
    if (now >= this.nextTakeoverAt) {
      const claimed = this.heartbeat.steadyFor(this.deadAfterMs, now) ? await this.takeover.next(this.batchSize) : [];
      // A full batch: more may be waiting, claim again right away.
      if (claimed.length < this.batchSize) this.nextTakeoverAt = now + this.takeoverEveryMs;
      if (claimed.length) {
        this.counters.takenOver += claimed.length;
        await this.handle(claimed);
        return;
      }
    }
    if (now >= this.nextTrimAt) {
      this.nextTrimAt = now + this.trimEveryMs;
      await this.bus.trimAcknowledged(this.group);
    }
    if (this.stopping) return;
    // Not blocked past the next look at the other consumers.
    const blockMs = Math.max(0, Math.min(this.blockMs, this.nextTakeoverAt - Date.now()));
    const fresh = await this.bus.readGroup({ ...opts, blockMs });
    if (fresh.length) await this.handle(fresh);
  }

  private async handle(deliveries: Delivery[]): Promise<void> {
    try {
      await this.handleOnce(deliveries);
    } catch (err) {
      // Nothing acknowledged (a store or trust check that failed): the entries stay pending with
      // this consumer and are read again (readPending) once the next step succeeds.
      this.checkPending = true;
      throw err;
    }
  }

  private async handleOnce(deliveries: Delivery[]): Promise<void> {
    this.counters.received += deliveries.length;
    this.counters.lastBatchAt = Date.now();
    const valid: StoredEvent[] = [];
    for (const d of deliveries) {
      const entry: StoredEvent[] = [];
      for (const body of d.bodies) {
        // Canonical JSON never holds a raw line break; the store joins a segment's bodies by one.
        const decoded: ReturnType<typeof decodeEvent> = body.includes('\n') ? { ok: false, error: 'not canonical JSON (a raw line break)' } : decodeEvent(body);
        if (!decoded.ok) {
          this.counters.invalid++;
          // Never the body: a malformed entry may carry anything. JSON.parse's message quotes the
          // input, so only the schema's messages (paths and expectations) are logged as they are.
          const reason = decoded.error.startsWith('not JSON') ? 'not JSON' : decoded.error;
          this.log.warn({ streamId: d.id, reason }, 'invalid event on the bus; skipped');
          continue;
        }
        // A re-append can put the same event twice in one batch: the store, idempotent on
        // (session, seq), keeps one and counts the other as not inserted.
        entry.push({ event: decoded.event, body });
      }
      valid.push(...(this.agents ? await this.trusted(d, entry) : entry));
    }

    if (valid.length) {
      try {
        const result = await this.store.append(valid);
        this.counters.persisted += result.inserted;
        this.counters.duplicates += valid.length - result.inserted;
        for (const [id, mark] of result.watermarks) {
          if (mark > (this.unsentMarks.get(id) ?? 0)) this.unsentMarks.set(id, mark);
        }
        if (result.inserted > 0) this.onPersisted?.([...result.watermarks.keys()]);
      } catch (err) {
        // Not acknowledged: the entries stay pending and come back through readPending.
        this.checkPending = true;
        throw err;
      }
    }

    try {
      await this.bus.ack(this.group, deliveries.map((d) => d.id));
    } catch (err) {
      // Stored but still pending: read again later, written again as duplicates.
      this.checkPending = true;
      throw err;
    }
    await this.flushMarks();
  }

  /** The entry's events an enrolled agent signed, of sessions it served; the rest refused and reported. */
  private async trusted(d: Delivery, entry: StoredEvent[]): Promise<StoredEvent[]> {
    // The signature covers every body as appended: one that did not decode fails it too.
    const items = entry.length === d.bodies.length ? entry.map((e) => ({ sessionId: e.event.sessionId, seq: e.event.seq, body: e.body })) : null;
    const trust: BatchTrust = items ? await this.agents!.trustOf(d.proof, items) : { ok: false, agent: d.proof?.agent ?? null, reason: 'the entry holds bodies that are not events' };
    if (!trust.ok) {
      this.refuse(d, trust.agent, trust.reason, d.bodies.length);
      return [];
    }
    if (trust.hub) return entry;
    const own = entry.filter((e) => e.event.connection.agent === trust.agent);
    if (own.length < entry.length) this.refuse(d, trust.agent, `agent ${trust.agent} signed events of sessions another agent served`, entry.length - own.length);
    return own;
  }

  private refuse(d: Delivery, agent: string | null, reason: string, events: number): void {
    this.counters.refused += events;
    this.log.warn({ streamId: d.id, agent, reason, events }, 'bus entry refused: not an enrolled agent\'s');
    this.onRefused?.({ streamId: d.id, agent, reason, events });
  }

  private async flushMarks(): Promise<void> {
    if (this.unsentMarks.size === 0) return;
    const marks = new Map(this.unsentMarks);
    await this.bus.setWatermarks(marks);
    for (const [id, mark] of marks) if (this.unsentMarks.get(id) === mark) this.unsentMarks.delete(id);
  }

  /** A back-off that stop() cuts short. */
  private async pause(ms: number): Promise<void> {
    try {
      await sleep(ms, undefined, { signal: this.wake.signal });
    } catch {
      // woken by stop()
    }
  }
}
