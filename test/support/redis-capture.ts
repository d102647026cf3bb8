// Everything a harness's events left in Redis: what was published live while a test ran (the
// stream itself is trimmed once persisted, so it alone could hold nothing to check) and what the
// stream still holds. For tests that fail on a secret found in clear anywhere in Redis.
import { createClient } from 'redis';

export interface RedisCapture {
  /** The live messages so far and the stream's entries, as one text. */
  text(): Promise<string>;
  close(): Promise<void>;
}

export async function captureRedis(redisUrl: string, keyPrefix: string): Promise<RedisCapture> {
  let live = '';
  const listener = createClient({ url: redisUrl });
  await listener.connect();
  await listener.pSubscribe(`${keyPrefix}live:*`, (message) => (live += message));
  return {
    async text() {
      const reader = createClient({ url: redisUrl });
      await reader.connect();
      const entries = await reader.xRange(`${keyPrefix}events`, '-', '+');
      await reader.quit();
      return live + JSON.stringify(entries);
    },
    async close() {
      await listener.quit();
    },
  };
}
