// A diagnostic bus for the benchmark only (BENCH_AGENT_BUS=null): takes every event and reports it
// persisted at once, storing nothing. Running the agent on it separates the agent's own recording
// work (parse, record, mask, encode, spool) from the cost of Redis and the hub. Never a product
// setting: with it nothing is recorded.
import type { BusEvent, EventBus } from '../../common/bus/event-bus.ts';

export function createNullBus(): EventBus & { appended(): number } {
  const marks = new Map<string, number>();
  let count = 0;
  return {
    async append(events: readonly BusEvent[]) {
      count += events.length;
      for (const e of events) if (e.seq > (marks.get(e.sessionId) ?? 0)) marks.set(e.sessionId, e.seq);
    },
    async watermarks(ids) {
      const out = new Map<string, number>();
      for (const id of ids) {
        const m = marks.get(id);
        if (m) out.set(id, m);
      }
      return out;
    },
    async setWatermarks() {},
    async ensureGroup() {},
    async readGroup() { return []; },
    async readPending() { return []; },
    async claimStale() { return []; },
    async heartbeat() {},
    async consumers() { return []; },
    async removeConsumer() { return false; },
    async ack() {},
    async trimAcknowledged() {},
    async backlog() { return { undelivered: 0, pending: 0 }; },
    async subscribe() { return async () => undefined; },
    status: () => 'up',
    onStatus: () => () => undefined,
    async close() {},
    appended: () => count,
  };
}
