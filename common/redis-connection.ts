// How Vigil opens and closes its Redis connections, one way for all of them (event bus, login
// sessions, key directory, control bus, Socket.IO adapter): reconnect forever with a short
// backoff, report errors to the caller instead of crashing the process, close gracefully when the
// connection is up and drop it otherwise.
import fs from 'node:fs';
import { createClient, type RedisClientOptions } from 'redis';

export type RedisConnection = ReturnType<typeof createClient>;

/** Backoff between reconnect attempts: quick at first, then once a second, forever. */
export function reconnectDelay(retries: number): number {
  return Math.min(50 * 2 ** Math.min(retries, 10), 1000);
}

/**
 * The client options a Redis URL says: `redis://` or `rediss://` (TLS), with an ACL user and
 * password as `rediss://user:password@host:port`, and the CA to check the server's certificate
 * against as `?ca=/path/ca.pem` (read here, not passed to Redis). Every Vigil connection opens
 * through it, so one URL (`redis.url`, REDIS_URL) sets them all.
 */
export function redisClientOptions(url: string): { url: string; socket: NonNullable<RedisClientOptions['socket']> } {
  const parsed = new URL(url);
  const caFile = parsed.searchParams.get('ca');
  parsed.searchParams.delete('ca');
  const tls = parsed.protocol === 'rediss:';
  if (caFile && !tls) throw new Error('the Redis URL names a CA (?ca=) but is not rediss:// (TLS)');
  let ca: Buffer | undefined;
  if (caFile) {
    try {
      ca = fs.readFileSync(caFile);
    } catch (err) {
      throw new Error(`cannot read the Redis CA file ${caFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }
  const socket = tls
    ? { reconnectStrategy: reconnectDelay, tls: true as const, servername: parsed.hostname, ...(ca ? { ca } : {}) }
    : { reconnectStrategy: reconnectDelay };
  return { url: parsed.toString(), socket };
}

/**
 * A client (not yet connected) that retries forever; `onError` hears every error (without a
 * listener an error event would take the process down).
 */
export function createRedisConnection(url: string, onError: (err: Error) => void, options: Omit<RedisClientOptions, 'url' | 'socket'> = {}): RedisConnection {
  const client = createClient({ ...options, ...redisClientOptions(url) }) as RedisConnection;
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
