// Which person an SSH public key belongs to, as the agents see it: the hub keeps the registered
// keys in its store and writes each change here; agents look a key up by fingerprint when someone
// logs in with it. Redis when configured (hubs and agents on several machines), in memory for one
// process (`vigil dev`). The directory only says whose key it is; the agent still checks the
// client's signature with the key.
import { closeRedis, createRedisConnection } from './redis-connection.ts';
import type { Logger } from './log.ts';

export interface SshKeyDirectory {
  /** The person a key (by fingerprint) belongs to, or null. */
  userOf(fingerprint: string): Promise<string | null>;
  set(fingerprint: string, user: string): Promise<void>;
  delete(fingerprint: string): Promise<void>;
  /** Makes the directory hold exactly these keys (the hub at start, from its store). */
  replaceAll(keys: ReadonlyMap<string, string>): Promise<void>;
  close(): Promise<void>;
}

export function createMemoryKeyDirectory(): SshKeyDirectory {
  let keys = new Map<string, string>();
  return {
    userOf: async (fp) => keys.get(fp) ?? null,
    set: async (fp, user) => void keys.set(fp, user),
    delete: async (fp) => void keys.delete(fp),
    replaceAll: async (all) => void (keys = new Map(all)),
    close: async () => undefined,
  };
}

export async function createRedisKeyDirectory(url: string, keyPrefix: string, logger?: Logger): Promise<SshKeyDirectory> {
  const client = createRedisConnection(url, (err) => logger?.debug({ err: err.message }, 'ssh key directory: redis error'));
  await client.connect();
  const hash = `${keyPrefix}ssh-keys`;
  return {
    userOf: async (fp) => (await client.hGet(hash, fp)) ?? null,
    set: async (fp, user) => void (await client.hSet(hash, fp, user)),
    delete: async (fp) => void (await client.hDel(hash, fp)),
    async replaceAll(all) {
      // Built aside and renamed into place: an agent never sees a half-written directory.
      const staging = `${hash}:staging:${process.pid}:${Date.now()}`;
      if (all.size === 0) {
        await client.del(hash);
        return;
      }
      await client.hSet(staging, Object.fromEntries(all));
      await client.rename(staging, hash);
    },
    close: () => closeRedis(client),
  };
}
