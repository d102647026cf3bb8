// Prometheus metrics at /metrics (text exposition format), from a registry of the hub's own (not
// prom-client's global one, so two hubs in one process, as in tests, do not collide). Values are
// read when scraped.
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { Backlog } from '../../common/bus/event-bus.ts';
import type { PersisterMetrics } from '../recordings/ingest/persister.ts';

export interface HubGauges {
  persister(): PersisterMetrics;
  busUp(): boolean;
  liveSessions(): Promise<number>;
  /** Dashboard sockets connected to this hub. */
  viewers(): number;
  /** Bytes held for them unread, and how many were dropped for falling behind (hub.live). */
  viewersOutbound(): { bufferedBytes: number; dropped: number };
  /** The persister's consumer group on the bus: entries waiting, and handed out unacknowledged. */
  backlog(): Promise<Backlog>;
}

export function createMetricsRegistry(source: HubGauges): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'vigil_hub_' });
  const counter = (name: string, help: string, read: (m: PersisterMetrics) => number) =>
    new Counter({
      name, help, registers: [registry],
      collect() {
        // A counter that only goes up: set it to the persister's own running total.
        this.reset();
        this.inc(read(source.persister()));
      },
    });
  counter('vigil_bus_entries_received_total', 'Log entries the persister read from the bus (batches of events).', (m) => m.received);
  counter('vigil_events_persisted_total', 'Events newly written to the store.', (m) => m.persisted);
  counter('vigil_events_duplicate_total', 'Events the store already had (re-deliveries).', (m) => m.duplicates);
  counter('vigil_events_invalid_total', 'Events refused by validation.', (m) => m.invalid);
  counter('vigil_persist_errors_total', 'Failed bus or store operations of the persister.', (m) => m.errors);
  new Gauge({
    name: 'vigil_persist_last_batch_age_seconds', help: 'Seconds since the persister last handled a batch (lag when events wait).', registers: [registry],
    collect() {
      const at = source.persister().lastBatchAt;
      this.set(at ? (Date.now() - at) / 1000 : -1);
    },
  });
  new Gauge({
    name: 'vigil_bus_backlog_entries', help: 'Bus entries (batches of events) the persister has not stored yet, by state.', labelNames: ['state'], registers: [registry],
    async collect() {
      const b = await source.backlog();
      this.set({ state: 'undelivered' }, b.undelivered);
      this.set({ state: 'pending' }, b.pending);
    },
  });
  new Gauge({ name: 'vigil_viewers', help: 'Dashboard connections (Socket.IO) to this hub.', registers: [registry], collect() { this.set(source.viewers()); } });
  new Gauge({
    name: 'vigil_viewers_buffered_bytes', help: 'Bytes sent to dashboard connections that they have not read yet, held by this hub.', registers: [registry],
    collect() { this.set(source.viewersOutbound().bufferedBytes); },
  });
  new Counter({
    name: 'vigil_viewers_dropped_total', help: 'Dashboard connections dropped for falling too far behind (slow_consumer).', registers: [registry],
    collect() {
      this.reset();
      this.inc(source.viewersOutbound().dropped);
    },
  });
  new Gauge({ name: 'vigil_bus_up', help: '1 while the event bus is connected.', registers: [registry], collect() { this.set(source.busUp() ? 1 : 0); } });
  new Gauge({
    name: 'vigil_sessions_live', help: 'Recorded sessions that have not ended.', registers: [registry],
    async collect() { this.set(await source.liveSessions()); },
  });
  return registry;
}
