// Where dashboard logins live on the server: Redis (connect-redis) when the config has a Redis URL,
// so that every hub behind one address knows every login and a hub restart logs nobody out;
// express-session's memory store otherwise (`vigil dev` without Redis: one process).
import { RedisStore } from 'connect-redis';
import type session from 'express-session';
import { closeRedis, createRedisConnection } from '../../common/redis-connection.ts';
import type { Logger } from '../../common/log.ts';

export interface SessionStoreHandle {
  store?: session.Store;
  close(): Promise<void>;
}

export async function createSessionStore(redisUrl: string | undefined, logger: Logger, keyPrefix = 'vigil:'): Promise<SessionStoreHandle> {
  if (!redisUrl) return { close: async () => {} };
  // The store's calls fail while Redis is away; the connection comes back by itself.
  const client = createRedisConnection(redisUrl, (err) => logger.debug({ err: err.message }, 'session store: redis error'));
  try {
    await client.connect();
  } catch (err) {
    logger.warn({ err: (err as Error).message }, 'session store: redis not reachable yet; retrying in the background');
  }
  return {
    store: new RedisStore({ client, prefix: `${keyPrefix}login:` }),
    close: () => closeRedis(client),
  };
}
