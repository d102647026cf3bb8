// The control bus over Redis: PUBLISH on `${prefix}control` for speed, and each kill order also
// SET as `${prefix}kill:<session>` with an expiry, for agents that were away when it was sent.
import type { Logger } from '../log.ts';
import { closeRedis, createRedisConnection, type RedisConnection } from '../redis-connection.ts';
import { KILL_KEPT_SECONDS, parseControlMessage, type ControlBus, type ControlMessage } from './control-bus.ts';

export async function createRedisControlBus(url: string, keyPrefix: string, logger?: Logger): Promise<ControlBus> {
  const main = createRedisConnection(url, (err) => logger?.debug({ err: err.message }, 'control bus: redis error'));
  await main.connect();
  let subscriber: RedisConnection | null = null;
  const channel = `${keyPrefix}control`;
  const killKey = (id: string) => `${keyPrefix}kill:${id}`;
  return {
    async publish(message: ControlMessage) {
      const text = JSON.stringify(message);
      // State first: an agent that checks right after the PUBLISH must find it.
      if (message.kind === 'kill') await main.set(killKey(message.sessionId), text, { EX: KILL_KEPT_SECONDS });
      await main.publish(channel, text);
    },
    async subscribe(handler) {
      subscriber ??= main.duplicate();
      subscriber.on('error', (err: Error) => logger?.debug({ err: err.message }, 'control bus: subscriber error'));
      if (!subscriber.isOpen) await subscriber.connect();
      const sub = subscriber;
      const listener = (text: string) => {
        const message = parseControlMessage(text);
        if (message) handler(message);
        else logger?.warn('control bus: invalid message dropped');
      };
      await sub.subscribe(channel, listener);
      return async () => {
        await sub.unsubscribe(channel, listener).catch(() => undefined);
      };
    },
    async killsFor(ids) {
      if (ids.length === 0) return [];
      const values = await main.mGet(ids.map(killKey));
      return values.flatMap((v) => {
        const message = v ? parseControlMessage(v) : null;
        return message?.kind === 'kill' ? [message] : [];
      });
    },
    async close() {
      await closeRedis(subscriber);
      await closeRedis(main);
    },
  };
}

/** Redis when a URL is configured, else in-process. */
export async function createControlBus(url: string | undefined, keyPrefix: string, logger?: Logger): Promise<ControlBus> {
  if (url) return createRedisControlBus(url, keyPrefix, logger);
  const { createInProcessControlBus } = await import('./in-process-control-bus.ts');
  return createInProcessControlBus();
}
