// The event bus in memory, for `vigil dev` without Redis and as the reference the contract tests
// hold the Redis transport to. Same semantics as Redis streams: an ordered log with increasing
// ids, consumer groups with a delivery cursor and a pending list per consumer (with the time of
// delivery, for claimStale), one entry per append, acknowledgements, trimming below what is still needed, watermarks
// that never go down, and a live channel per session. Consumers come and go as in Redis 7.0: made
// by the first read that hands them entries (or any read of their own pending list) or by a claim
// that takes some, refreshed by each of those, gone with removeConsumer.
import { EventEmitter } from 'node:events';
import type {
  BusEvent, BusStatus, ClaimOptions, ConsumerInfo, Delivery, EventBus, ReadGroupOptions,
} from './event-bus.ts';
import type { BatchProof } from '../agent-identity.ts';

interface Entry {
  id: number;
  bodies: string[];
  proof?: BatchProof;
}

interface Pending {
  entry: Entry;
  consumer: string;
  deliveredAt: number;
}

interface Group {
  /** Highest id handed out with '>' (0 = nothing yet: a new group reads from the start). */
  lastDelivered: number;
  pending: Map<number, Pending>;
  /** Each consumer's last read or claim that counted (Date.now()). */
  seen: Map<string, number>;
}

const toDelivery = (e: Entry): Delivery => ({ id: String(e.id), bodies: [...e.bodies], ...(e.proof ? { proof: e.proof } : {}) });

export function createInProcessBus(): EventBus {
  // Ids are contiguous from log[0].id: only the front is ever trimmed.
  let log: Entry[] = [];
  let nextId = 1;
  const groups = new Map<string, Group>();
  /** Last heartbeat of each consumer, by group: kept apart from the group, as Redis keeps it. */
  const beats = new Map<string, Map<string, number>>();
  const marks = new Map<string, number>();
  const live = new EventEmitter();
  live.setMaxListeners(0);
  let wakers = new Set<() => void>();
  let closed = false;

  const group = (name: string): Group => {
    let g = groups.get(name);
    if (!g) groups.set(name, (g = { lastDelivered: 0, pending: new Map(), seen: new Map() }));
    return g;
  };

  const wakeReaders = () => {
    const current = wakers;
    wakers = new Set();
    for (const wake of current) wake();
  };

  const takeNew = (o: ReadGroupOptions): Delivery[] => {
    const g = group(o.group);
    const first = log.length ? log[0].id : nextId;
    const start = Math.max(0, g.lastDelivered + 1 - first);
    const taken = log.slice(start, start + Math.max(0, o.count));
    const now = Date.now();
    for (const entry of taken) g.pending.set(entry.id, { entry, consumer: o.consumer, deliveredAt: now });
    if (taken.length) {
      g.lastDelivered = taken[taken.length - 1].id;
      g.seen.set(o.consumer, now);
    }
    return taken.map(toDelivery);
  };

  const sortedPending = (g: Group): Pending[] => [...g.pending.values()].sort((a, b) => a.entry.id - b.entry.id);

  return {
    async append(events: readonly BusEvent[], proof?: BatchProof) {
      if (events.length) log.push({ id: nextId++, bodies: events.map((e) => e.body), ...(proof ? { proof } : {}) });
      for (const e of events) live.emit(e.sessionId, { sessionId: e.sessionId, seq: e.seq, body: e.body });
      if (events.length) wakeReaders();
    },

    async watermarks(sessionIds: readonly string[]) {
      const out = new Map<string, number>();
      for (const id of sessionIds) {
        const m = marks.get(id);
        if (m) out.set(id, m);
      }
      return out;
    },

    async setWatermarks(next: ReadonlyMap<string, number>) {
      for (const [id, seq] of next) if (seq > (marks.get(id) ?? 0)) marks.set(id, seq);
    },

    async ensureGroup(name: string) {
      group(name);
    },

    async readGroup(o: ReadGroupOptions) {
      const deadline = Date.now() + o.blockMs;
      for (;;) {
        const taken = takeNew(o);
        const left = deadline - Date.now();
        if (taken.length || left <= 0 || closed) return taken;
        // Another consumer may take what woke us: wait again until the deadline, like BLOCK.
        await new Promise<void>((resolve) => {
          const wake = () => {
            clearTimeout(timer);
            wakers.delete(wake);
            resolve();
          };
          const timer = setTimeout(wake, left);
          wakers.add(wake);
        });
      }
    },

    async readPending(o: Omit<ReadGroupOptions, 'blockMs'>) {
      const g = group(o.group);
      const now = Date.now();
      const mine = sortedPending(g).filter((p) => p.consumer === o.consumer).slice(0, Math.max(0, o.count));
      // Like Redis, re-reading history counts as a new delivery: a live consumer keeps its entries.
      for (const p of mine) p.deliveredAt = now;
      g.seen.set(o.consumer, now);
      return mine.map((p) => toDelivery(p.entry));
    },

    async claimStale(o: ClaimOptions) {
      const g = group(o.group);
      const now = Date.now();
      const claimed: Delivery[] = [];
      for (const p of sortedPending(g)) {
        if (claimed.length >= o.count) break;
        if (now - p.deliveredAt < o.minIdleMs) continue;
        if (o.from !== undefined && p.consumer !== o.from) continue;
        p.consumer = o.consumer;
        p.deliveredAt = now;
        claimed.push(toDelivery(p.entry));
      }
      if (claimed.length) g.seen.set(o.consumer, now);
      return claimed;
    },

    async heartbeat(name: string, consumer: string) {
      let byConsumer = beats.get(name);
      if (!byConsumer) beats.set(name, (byConsumer = new Map()));
      byConsumer.set(consumer, Date.now());
    },

    async consumers(name: string) {
      const g = groups.get(name);
      if (!g) return [];
      const now = Date.now();
      const out: ConsumerInfo[] = [];
      for (const [consumer, seenAt] of g.seen) {
        let pending = 0;
        for (const p of g.pending.values()) if (p.consumer === consumer) pending++;
        const beat = beats.get(name)?.get(consumer);
        out.push({ name: consumer, pending, idleMs: now - seenAt, silentMs: beat === undefined ? null : now - beat });
      }
      // Redis lists them by name.
      return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    },

    async removeConsumer(name: string, consumer: string, minSilentMs: number) {
      const beat = beats.get(name)?.get(consumer);
      if (beat !== undefined && Date.now() - beat < minSilentMs) return false;
      const g = groups.get(name);
      const member = g !== undefined && g.seen.has(consumer);
      if (member) {
        for (const p of g.pending.values()) if (p.consumer === consumer) return false;
        g.seen.delete(consumer);
      }
      // Not in the group (it never read anything): only its beat is left to forget.
      beats.get(name)?.delete(consumer);
      return member;
    },

    async ack(name: string, ids: readonly string[]) {
      const g = groups.get(name);
      if (!g) return;
      for (const id of ids) g.pending.delete(Number(id));
    },

    async trimAcknowledged(name: string) {
      if (!groups.has(name)) return;
      // Keep what any group still needs: its oldest pending entry, or what it was not handed yet.
      let keepFrom = Infinity;
      for (const g of groups.values()) {
        let need = g.lastDelivered + 1;
        for (const id of g.pending.keys()) if (id < need) need = id;
        keepFrom = Math.min(keepFrom, need);
      }
      if (!log.length || keepFrom === Infinity) return;
      const drop = Math.min(log.length, Math.max(0, keepFrom - log[0].id));
      if (drop > 0) log = log.slice(drop);
    },

    async backlog(name: string) {
      const g = groups.get(name);
      const undelivered = log.filter((e) => e.id > (g?.lastDelivered ?? 0)).length;
      return { undelivered, pending: g?.pending.size ?? 0 };
    },

    async subscribe(sessionId: string, onEvent: (e: BusEvent) => void) {
      // A throwing subscriber must not break the append that fed it.
      const listener = (e: BusEvent) => {
        try {
          onEvent(e);
        } catch {
          // the subscriber's own failure
        }
      };
      live.on(sessionId, listener);
      return async () => {
        live.off(sessionId, listener);
      };
    },

    status: (): BusStatus => 'up',
    onStatus: () => () => {},

    async close() {
      closed = true;
      wakeReaders();
      live.removeAllListeners();
    },
  };
}
