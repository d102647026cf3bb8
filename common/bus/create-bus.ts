// Picks the event bus transport: Redis when a URL is configured, else the in-process bus (one
// process: `vigil dev`, where the agent and the hub share memory).
import type { Logger } from '../log.ts';
import type { EventBus } from './event-bus.ts';
import { createInProcessBus } from './in-process-bus.ts';
import { createRedisBus } from './redis-bus.ts';

export async function createBus(redisUrl?: string, logger?: Logger, keyPrefix?: string): Promise<EventBus> {
  if (redisUrl) return createRedisBus(redisUrl, { logger, keyPrefix });
  return createInProcessBus();
}
