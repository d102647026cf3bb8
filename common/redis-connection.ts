// How Vigil opens and closes its Redis connections, one way for all of them (event bus, login
// sessions, key directory, control bus, Socket.IO adapter): reconnect forever with a short
// backoff, report errors to the caller instead of crashing the process, close gracefully when the
// connection is up and drop it otherwise.
import { createClient, type RedisClientOptions } from 'redis';

export type RedisConnection = ReturnType<typeof createClient>;

/** Backoff between reconnect attempts: quick at first, then once a second, forever. */
export function reconnectDelay(retries: number): number {
  return Math.min(50 * 2 ** Math.min(retries, 10), 1000);
}

/**
 * A client (not yet connected) that retries forever; `onError` hears every error (without a
 * listener an error event would take the process down).
 */
export function createRedisConnection(url: string, onError: (err: Error) => void, options: Omit<RedisClientOptions, 'url' | 'socket'> = {}): RedisConnection {
  const client = createClient({ ...options, url, socket: { reconnectStrategy: reconnectDelay } }) as RedisConnection;
  client.on('error', onError);
  return client;
}

/** Closes gracefully when connected (pending replies arrive), else drops the socket. Never throws. */
export async function closeRedis(client: RedisConnection | null | undefined, graceful = true): Promise<void> {
  if (!client) return;
  try {
    if (graceful && client.isReady) await client.close();
    else client.destroy();
  } catch {
    // already closed
  }
}
