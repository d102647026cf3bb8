// Tests that stand in for an agent by appending to a hub's bus: appends signed as that agent,
// with its key in the hub's data directory (which a hub trusts as its operator's), as a real
// agent signs them. What the hub appends itself (already signed) passes as it is.
import { ensureAgentKey, signBatch } from '../../common/agent-identity.ts';
import type { EventBus } from '../../common/bus/event-bus.ts';

export function signingBus(bus: EventBus, dataDir: string, agentId = 'agent-1'): EventBus {
  const key = ensureAgentKey(dataDir, agentId);
  return { ...bus, append: (events, proof) => bus.append(events, proof ?? signBatch(agentId, key, events)) };
}
