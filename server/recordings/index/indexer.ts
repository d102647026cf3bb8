// The hub's recording indexer: follows each session's persisted watermark and derives what the
// player and search need from the events below it: terminal keyframes, timeline markers, search
// documents and the statement index. It reads the store, not the bus, so it sees every event of a
// session whichever hub persisted it, and a hub that starts (or takes over) picks up where the
// store says indexing stopped. One indexer works on a session at a time (a lease in the sessions
// row); every write is idempotent, so a step done twice after a crash changes nothing.
import crypto from 'node:crypto';
import os from 'node:os';
import type { VigilEvent } from '../../../common/events/index.ts';
import type { Logger } from '../../../common/log.ts';
import type { SqlClient } from '../../store/sql-client.ts';
import type { RecordingStore } from '../store/recording-store.ts';
import type { MarkerRow, RecordingIndexStore, StoredKeyframe } from './index-store.ts';

/** What a deriver adds for one page of events. */
export interface Derived {
  keyframes?: StoredKeyframe[];
  markers?: MarkerRow[];
  /** Writes of the search index, in the indexing step's transaction. */
  write?: (tx: SqlClient) => Promise<void>;
}

/** Derives one kind of thing from a session's events, fed in seq order from `fromSeq`. */
export interface SessionDeriver {
  feed(events: readonly VigilEvent[]): Promise<Derived>;
  /** The session went quiet (live, nothing new for a while): what was held for more may go out now. */
  idle?(): Promise<Derived>;
  dispose(): void;
}

/** A live session quiet this long has what its derivers held back written (search: its last output). */
const IDLE_FLUSH_MS = 2000;

/** Makes the derivers of a session that is indexed from `indexedSeq` on (0: from its start). */
export type DeriverFactory = (
  session: { id: string; protocol: string; indexedSeq: number },
  from: { index: RecordingIndexStore; store: RecordingStore },
) => Promise<SessionDeriver[]>;

export interface IndexerOptions {
  store: RecordingStore;
  index: RecordingIndexStore;
  derivers: DeriverFactory;
  logger: Logger;
  /** Default: host, pid and a random part. */
  owner?: string;
  leaseMs?: number;
  /** Events read per step. */
  pageSize?: number;
  /** How often to look for sessions no nudge named (taken over, recorded before this hub ran). */
  scanIntervalMs?: number;
  /** Sessions whose state is kept in memory between steps (a terminal each for SSH). */
  maxWarmSessions?: number;
}

interface Warm {
  nextSeq: number;
  derivers: SessionDeriver[];
  usedAt: number;
  /** When the last events were fed, and whether the derivers were told of the quiet since. */
  fedAt: number;
  flushed: boolean;
}

export class RecordingIndexer {
  readonly #opts: Required<Omit<IndexerOptions, 'owner'>> & { owner: string };
  readonly #log: Logger;
  readonly #warm = new Map<string, Warm>();
  readonly #nudged = new Set<string>();
  #loop: Promise<void> | null = null;
  #stopping = false;
  #wake: (() => void) | null = null;
  #indexedEvents = 0;

  constructor(opts: IndexerOptions) {
    this.#opts = {
      leaseMs: 30_000, pageSize: 2000, scanIntervalMs: 2000, maxWarmSessions: 200,
      owner: `${os.hostname()}-${process.pid}-${crypto.randomBytes(3).toString('hex')}`,
      ...opts,
    };
    this.#log = opts.logger.child({ component: 'indexer' });
  }

  start(): void {
    if (this.#loop) return;
    this.#stopping = false;
    this.#loop = this.#run();
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    this.#wake?.();
    await this.#loop;
    this.#loop = null;
    for (const [id, warm] of this.#warm) {
      for (const d of warm.derivers) d.dispose();
      await this.#opts.index.release(id, this.#opts.owner).catch(() => undefined);
    }
    this.#warm.clear();
  }

  /** New events of these sessions were persisted: index them soon. */
  nudge(sessionIds: Iterable<string>): void {
    for (const id of sessionIds) this.#nudged.add(id);
    this.#wake?.();
  }

  metrics(): { indexedEvents: number; warmSessions: number } {
    return { indexedEvents: this.#indexedEvents, warmSessions: this.#warm.size };
  }

  async #run(): Promise<void> {
    let nextScan = 0;
    while (!this.#stopping) {
      try {
        const ids = new Set(this.#nudged);
        this.#nudged.clear();
        if (Date.now() >= nextScan) {
          nextScan = Date.now() + this.#opts.scanIntervalMs;
          for (const id of await this.#opts.index.pending(50)) ids.add(id);
        }
        for (const id of ids) {
          if (this.#stopping) break;
          await this.#indexSession(id);
        }
        await this.#flushQuiet();
        this.#evictCold();
      } catch (err) {
        this.#log.warn({ err: (err as Error).message }, 'indexing step failed; trying again');
      }
      if (this.#stopping) break;
      if (this.#nudged.size === 0) await this.#sleep(Math.max(10, Math.min(nextScan - Date.now(), IDLE_FLUSH_MS / 2)));
    }
  }

  /** Indexes one session up to its watermark (a few pages per turn, so others are not starved). */
  async #indexSession(id: string): Promise<void> {
    const { index, store, owner, leaseMs, pageSize } = this.#opts;
    const claim = await index.claim(id, owner, leaseMs);
    if (!claim) return this.#drop(id);
    let from = claim.indexedSeq;
    let warm = this.#warm.get(id);
    if (warm && warm.nextSeq !== from + 1) {
      this.#drop(id);
      warm = undefined;
    }
    if (!warm) {
      warm = { nextSeq: from + 1, derivers: await this.#opts.derivers({ id, protocol: claim.protocol, indexedSeq: from }, { index, store }), usedAt: 0, fedAt: 0, flushed: true };
      this.#warm.set(id, warm);
    }
    warm.usedAt = Date.now();
    for (let page = 0; page < 5 && from < claim.persistedSeq && !this.#stopping; page++) {
      const events = (await store.readEvents(id, from + 1, Math.min(pageSize, claim.persistedSeq - from))).map((e) => e.event);
      // Below the watermark there is no gap; anything else means the store changed under us.
      const run = contiguousFrom(events, from + 1);
      if (run.length === 0) break;
      const derived = await Promise.all(warm.derivers.map((d) => d.feed(run)));
      const to = run[run.length - 1].seq;
      const saved = await index.save(id, owner, from, to, {
        keyframes: derived.flatMap((d) => d.keyframes ?? []),
        markers: derived.flatMap((d) => d.markers ?? []),
        also: async (tx) => {
          for (const d of derived) await d.write?.(tx);
        },
      });
      if (!saved) return this.#drop(id);
      this.#indexedEvents += run.length;
      from = to;
      warm.nextSeq = to + 1;
      warm.fedAt = Date.now();
      warm.flushed = claim.ended;
    }
    if (from >= claim.persistedSeq) {
      if (claim.ended) {
        // Done: nothing more will come (a hub's end that gives way brings the session back).
        this.#drop(id);
        await index.release(id, owner);
      }
    } else {
      this.#nudged.add(id);
    }
  }

  /** Live sessions caught up and quiet for IDLE_FLUSH_MS: their derivers write what they held back. */
  async #flushQuiet(): Promise<void> {
    const { index, owner, leaseMs } = this.#opts;
    for (const [id, warm] of [...this.#warm]) {
      if (this.#stopping) return;
      if (warm.flushed || Date.now() - warm.fedAt < IDLE_FLUSH_MS) continue;
      warm.flushed = true;
      const claim = await index.claim(id, owner, leaseMs);
      const at = warm.nextSeq - 1;
      if (!claim || claim.indexedSeq !== at) {
        this.#drop(id);
        continue;
      }
      if (claim.persistedSeq > at) continue;
      const derived = await Promise.all(warm.derivers.map((d) => d.idle?.() ?? Promise.resolve({} as Derived)));
      const saved = await index.save(id, owner, at, at, {
        keyframes: derived.flatMap((d) => d.keyframes ?? []),
        markers: derived.flatMap((d) => d.markers ?? []),
        also: async (tx) => {
          for (const d of derived) await d.write?.(tx);
        },
      });
      if (!saved) this.#drop(id);
    }
  }

  #drop(id: string): void {
    const warm = this.#warm.get(id);
    if (!warm) return;
    for (const d of warm.derivers) d.dispose();
    this.#warm.delete(id);
  }

  #evictCold(): void {
    if (this.#warm.size <= this.#opts.maxWarmSessions) return;
    const coldest = [...this.#warm.entries()].sort((a, b) => a[1].usedAt - b[1].usedAt);
    for (const [id] of coldest.slice(0, this.#warm.size - this.#opts.maxWarmSessions)) {
      this.#drop(id);
      void this.#opts.index.release(id, this.#opts.owner).catch(() => undefined);
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = () => {
        this.#wake = null;
        done();
      };
    });
  }
}

function contiguousFrom(events: readonly VigilEvent[], first: number): VigilEvent[] {
  const out: VigilEvent[] = [];
  for (const e of events) {
    if (e.seq !== first + out.length) break;
    out.push(e);
  }
  return out;
}
