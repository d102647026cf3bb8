// The Redis transport of the event bus. One stream is the durable log, one entry per append (field
// b: the bodies, packed by entry-codec.ts), a hash holds the persisted watermarks, and each session
// has a pub/sub channel for the live view. A batch per entry rather than an entry per event: the
// cost of a Redis command, on both ends, is paid once per batch. The consumers' heartbeats and
// the takeover from dead ones are in redis-consumers.ts.
//
// Connections: the main one for appends and short commands; a second for XREADGROUP BLOCK (a
// blocked command stalls every command queued behind it on its connection); a third, made on the
// first subscribe, in subscriber mode for all subscriptions of this bus. Every connection rejects
// commands while reconnecting (disableOfflineQueue) instead of queueing them: the agent's spool
// keeps what did not land and the persister retries, so nothing waits silently inside the client.
//
// Live channel message: one PUBLISH per session per append, that session's events packed with
// their seq (entry-codec.ts) in order. A viewer that sees a seq jump fills the gap from the stream
// or the store.
import type { BatchProof } from '../agent-identity.ts';
import { createClient } from 'redis';
import { closeRedis, redisClientOptions } from '../redis-connection.ts';
import type { Logger } from '../log.ts';
import { silentLogger } from '../log.ts';
import type {
  BusEvent, BusStatus, ClaimOptions, Delivery, EventBus, ReadGroupOptions,
} from './event-bus.ts';
import { packBytes, unpackLive, type PackItem } from './entry-codec.ts';
import { redisConsumers } from './redis-consumers.ts';
import {
  compareStreamIds, isNoGroup, nextStreamId, parseAutoClaim, parseGroups, parsePendingFirstId,
  parseReadGroup,
} from './redis-replies.ts';

type Client = ReturnType<typeof createClient>;

export interface RedisBusOptions {
  logger?: Logger;
  /** The stream of the durable log; default `${keyPrefix}events`. */
  streamKey?: string;
  /** Prefix of the watermark hash (`persisted`) and the live channels (`live:<sessionId>`); default 'vigil:'. */
  keyPrefix?: string;
}

// Raises each field only when the new value is greater: two persisters (or a late, slow batch)
// never move a watermark back.
const RAISE_WATERMARKS = `
for i = 1, #ARGV, 2 do
  local current = tonumber(redis.call('HGET', KEYS[1], ARGV[i]) or '0') or 0
  local proposed = tonumber(ARGV[i + 1])
  if proposed and proposed > current then redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
end
return 0`;

/** Resolves once the client is ready or its first attempt failed (it keeps retrying then). */
function connectSoon(client: Client): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      client.off('ready', done);
      client.off('error', done);
      resolve();
    };
    client.on('ready', done);
    client.on('error', done);
    client.connect().catch(() => done());
  });
}


export async function createRedisBus(url: string, opts: RedisBusOptions = {}): Promise<EventBus> {
  const log = (opts.logger ?? silentLogger).child({ component: 'redis-bus' });
  const prefix = opts.keyPrefix ?? 'vigil:';
  const stream = opts.streamKey ?? `${prefix}events`;
  const watermarkKey = `${prefix}persisted`;
  const liveChannel = (sessionId: string) => `${prefix}live:${sessionId}`;

  const main: Client = createClient({
    ...redisClientOptions(url),
    // RESP2 explicitly (node-redis 6 defaults to RESP3): the raw replies parsed in
    // redis-replies.ts are RESP2's flat arrays.
    RESP: 2,
    disableOfflineQueue: true,
  });
  let status: BusStatus = 'down';
  let closed = false;
  const statusListeners = new Set<(s: BusStatus) => void>();
  const setStatus = (next: BusStatus) => {
    if (next === status) return;
    status = next;
    log.info({ status: next }, next === 'up' ? 'redis connected' : 'redis connection lost');
    for (const listener of statusListeners) {
      try {
        listener(next);
      } catch (err) {
        log.error({ err }, 'bus status listener failed');
      }
    }
  };
  main.on('ready', () => setStatus('up'));
  main.on('error', (err: Error) => {
    if (!main.isReady) setStatus('down');
    log.debug({ err: err.message }, 'redis error');
  });
  main.on('end', () => setStatus('down'));

  // Made on first use from the main connection's options (duplicate()).
  let blocking: Client | undefined;
  let blockingReady: Promise<void> | undefined;
  const blockingClient = async (): Promise<Client> => {
    if (!blocking) {
      blocking = main.duplicate();
      blocking.on('error', () => { /* reported through the main connection's status */ });
      blockingReady = connectSoon(blocking);
    }
    await blockingReady;
    return blocking;
  };

  let subscriber: Client | undefined;
  let subscriberReady: Promise<void> | undefined;
  const handlers = new Map<string, Set<(e: BusEvent) => void>>();
  /** The one node-redis listener of each subscribed channel (it hands each message to the handlers). */
  const redisListeners = new Map<string, (message: string) => void>();

  const send = <T = unknown>(client: Client, args: Array<string | Buffer>): Promise<T> => client.sendCommand<T>(args);

  const createGroup = async (group: string) => {
    try {
      // '0', not '$': entries appended before the group exists (an agent that started first, or a
      // Redis that restarted empty and was refilled by the agents) must still be persisted.
      await send(main, ['XGROUP', 'CREATE', stream, group, '0', 'MKSTREAM']);
    } catch (err) {
      if (!(err instanceof Error && err.message.includes('BUSYGROUP'))) throw err;
    }
  };

  const takeover = redisConsumers((args) => send(main, args), stream);

  const ackDeleted = async (group: string, ids: string[]) => {
    if (ids.length) await send(main, ['XACK', stream, group, ...ids]);
  };

  const bus: EventBus = {
    async append(events: readonly BusEvent[], proof?: BatchProof) {
      if (events.length === 0) return;
      // Each body is encoded to UTF-8 once; the stream entry and the live messages copy the bytes.
      const items: PackItem[] = [];
      const bySession = new Map<string, PackItem[]>();
      for (const e of events) {
        const item: PackItem = { text: e.body, utf8: Buffer.from(e.body, 'utf8'), seq: e.seq };
        items.push(item);
        let list = bySession.get(e.sessionId);
        if (!list) bySession.set(e.sessionId, (list = []));
        list.push(item);
      }
      // Issued in one tick: node-redis writes them as one pipeline, in this order. The XADD comes
      // first, so a viewer that sees a gap finds the missing events in the stream.
      const signed = proof ? ['a', proof.agent, 's', proof.signature] : [];
      const commands: Promise<unknown>[] = [send(main, ['XADD', stream, '*', 'b', packBytes(items, false), ...signed])];
      for (const [sessionId, list] of bySession) {
        commands.push(send(main, ['PUBLISH', liveChannel(sessionId), packBytes(list, true)]));
      }
      await Promise.all(commands);
    },

    async watermarks(sessionIds: readonly string[]) {
      const marks = new Map<string, number>();
      if (sessionIds.length === 0) return marks;
      const values = await send<Array<string | null>>(main, ['HMGET', watermarkKey, ...sessionIds]);
      sessionIds.forEach((id, i) => {
        const n = Number(values[i] ?? 0);
        if (Number.isFinite(n) && n > 0) marks.set(id, n);
      });
      return marks;
    },

    async setWatermarks(marks: ReadonlyMap<string, number>) {
      if (marks.size === 0) return;
      const args: string[] = [];
      for (const [id, seq] of marks) args.push(id, String(seq));
      await send(main, ['EVAL', RAISE_WATERMARKS, '1', watermarkKey, ...args]);
    },

    ensureGroup: createGroup,

    async readGroup(o: ReadGroupOptions): Promise<Delivery[]> {
      const client = await blockingClient();
      // BLOCK 0 would mean "forever": a non-positive wait is a plain non-blocking read.
      const block = o.blockMs > 0 ? ['BLOCK', String(Math.ceil(o.blockMs))] : [];
      const args = ['XREADGROUP', 'GROUP', o.group, o.consumer, 'COUNT', String(o.count), ...block, 'STREAMS', stream, '>'];
      let raw: unknown;
      try {
        raw = await send(client, args);
      } catch (err) {
        // Redis restarted empty (or the group was deleted): re-create it from the start and go on.
        if (!isNoGroup(err)) throw err;
        log.warn({ group: o.group }, 'consumer group missing, re-creating it');
        await createGroup(o.group);
        raw = await send(client, args);
      }
      return parseReadGroup(raw).deliveries;
    },

    async readPending(o: Omit<ReadGroupOptions, 'blockMs'>): Promise<Delivery[]> {
      let raw: unknown;
      try {
        raw = await send(main, ['XREADGROUP', 'GROUP', o.group, o.consumer, 'COUNT', String(o.count), 'STREAMS', stream, '0']);
      } catch (err) {
        if (!isNoGroup(err)) throw err;
        await createGroup(o.group);
        return [];
      }
      const { deliveries, deletedIds } = parseReadGroup(raw);
      // Pending entries whose data was trimmed can never be processed: drop them from the list.
      await ackDeleted(o.group, deletedIds);
      return deliveries;
    },

    async claimStale(o: ClaimOptions): Promise<Delivery[]> {
      try {
        if (o.from !== undefined) return await takeover.claimFrom({ ...o, from: o.from });
        const raw = await send(main, ['XAUTOCLAIM', stream, o.group, o.consumer, String(Math.max(0, Math.floor(o.minIdleMs))), '0-0', 'COUNT', String(o.count)]);
        return parseAutoClaim(raw);
      } catch (err) {
        if (!isNoGroup(err)) throw err;
        await createGroup(o.group);
        return [];
      }
    },

    heartbeat: takeover.heartbeat,
    consumers: takeover.consumers,
    removeConsumer: takeover.removeConsumer,

    async ack(group: string, ids: readonly string[]) {
      if (ids.length === 0) return;
      try {
        await send(main, ['XACK', stream, group, ...ids]);
      } catch (err) {
        // No group: nothing is pending any more (Redis lost it), so there is nothing to acknowledge.
        if (!isNoGroup(err)) throw err;
      }
    },

    async trimAcknowledged(group: string) {
      // Trims below what EVERY group of the stream still needs (its oldest pending entry, or what
      // it has not been delivered yet), not only the named group: a second reader of the stream
      // must not lose entries to the persister's housekeeping.
      let groups;
      try {
        groups = parseGroups(await send(main, ['XINFO', 'GROUPS', stream]));
      } catch (err) {
        if (isNoGroup(err)) return;
        throw err;
      }
      if (!groups.some((g) => g.name === group)) return;
      let minId: string | null = null;
      for (const g of groups) {
        let keep = nextStreamId(g.lastDeliveredId);
        if (g.pending > 0) {
          const first = parsePendingFirstId(await send(main, ['XPENDING', stream, g.name]));
          if (first) keep = first;
        }
        if (minId === null || compareStreamIds(keep, minId) < 0) minId = keep;
      }
      if (minId !== null) await send(main, ['XTRIM', stream, 'MINID', minId]);
    },

    async backlog(group: string) {
      let groups;
      try {
        groups = parseGroups(await send(main, ['XINFO', 'GROUPS', stream]));
      } catch (err) {
        if (isNoGroup(err)) return { undelivered: 0, pending: 0 };
        throw err;
      }
      const g = groups.find((x) => x.name === group);
      // No such group yet: everything in the stream waits for it.
      if (!g) return { undelivered: Number(await send(main, ['XLEN', stream])), pending: 0 };
      return { undelivered: g.lag ?? 0, pending: g.pending };
    },

    async subscribe(sessionId: string, onEvent: (e: BusEvent) => void) {
      if (!subscriber) {
        subscriber = main.duplicate();
        subscriber.on('error', () => { /* reported through the main connection's status */ });
        subscriberReady = connectSoon(subscriber);
      }
      await subscriberReady;
      const sub = subscriber;
      const channel = liveChannel(sessionId);
      let set = handlers.get(channel);
      if (!set) {
        set = new Set();
        handlers.set(channel, set);
        const listeners = set;
        const listener = (message: string) => {
          const items = unpackLive(message);
          if (!items) {
            log.warn({ channel }, 'malformed live message dropped');
            return;
          }
          for (const { seq, body } of items) {
            for (const fn of listeners) {
              try {
                fn({ sessionId, seq, body });
              } catch (err) {
                log.error({ err }, 'live subscriber failed');
              }
            }
          }
        };
        redisListeners.set(channel, listener);
        try {
          await sub.subscribe(channel, listener);
        } catch (err) {
          handlers.delete(channel);
          redisListeners.delete(channel);
          throw err;
        }
      }
      set.add(onEvent);
      const mine = set;
      return async () => {
        mine.delete(onEvent);
        if (mine.size > 0 || handlers.get(channel) !== mine) return;
        handlers.delete(channel);
        const listener = redisListeners.get(channel);
        redisListeners.delete(channel);
        try {
          // With its listener: node-redis then knows the channel is being left, and a subscribe to
          // it meanwhile (a viewer arriving as the last one leaves) subscribes anew. Without it,
          // that subscribe is taken as already done and the UNSUBSCRIBE's reply ends it too.
          await sub.unsubscribe(channel, listener);
        } catch {
          // offline: the subscription is gone with the connection anyway
        }
      };
    },

    status: () => status,

    onStatus(listener) {
      statusListeners.add(listener);
      return () => statusListeners.delete(listener);
    },

    async close() {
      if (closed) return;
      closed = true;
      statusListeners.clear();
      await Promise.all([closeRedis(blocking, false), closeRedis(subscriber, false), closeRedis(main, true)]);
      setStatus('down');
    },
  };

  await connectSoon(main);
  if (status === 'down') log.warn('redis not reachable yet; retrying in the background');
  return bus;
}
