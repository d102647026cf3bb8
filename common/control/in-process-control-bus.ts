// The control bus inside one process (`vigil dev`, tests): hub and agent share it.
import type { ControlBus, ControlMessage, KillOrder } from './control-bus.ts';

export function createInProcessControlBus(): ControlBus {
  const handlers = new Set<(m: ControlMessage) => void>();
  const kills = new Map<string, KillOrder>();
  return {
    async publish(message) {
      if (message.kind === 'kill') kills.set(message.sessionId, message);
      // Delivered on a later tick, as over a network: the sender never runs the receiver's code.
      for (const h of [...handlers]) queueMicrotask(() => h(message));
    },
    async subscribe(handler) {
      handlers.add(handler);
      return async () => void handlers.delete(handler);
    },
    async killsFor(ids) {
      return ids.map((id) => kills.get(id)).filter((k): k is KillOrder => k !== undefined);
    },
    async close() {
      handlers.clear();
    },
  };
}
