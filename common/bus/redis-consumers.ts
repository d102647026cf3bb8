// The Redis side of taking over from dead consumers: heartbeats, the group's consumers as seen
// from them, claiming one consumer's entries, and deleting a consumer that holds nothing.
//
// Heartbeats are one sorted set per group (`<stream>:beats:<group>`): member the consumer, score
// the Redis server's own clock (TIME) at its last beat. Every age is computed inside Redis from
// that same clock, so hubs whose clocks disagree still agree on who is silent; and a consumer in
// the group without a member never sent one (an older hub), which a key per consumer with a TTL
// could not tell from one whose key expired.
//
// Deleting is one script with its checks: a consumer found holding nothing and silent a moment
// ago could otherwise read entries in between and lose them with XGROUP DELCONSUMER (it drops the
// consumer's pending list, and the group never hands those entries out again).
import type { ClaimOptions, ConsumerInfo, Delivery } from './event-bus.ts';
import { isNoGroup, parseConsumers, parseEntries } from './redis-replies.ts';

type Send = <T = unknown>(args: Array<string | Buffer>) => Promise<T>;

const NOW_MS = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

/** Members silent for a day are dropped on the next beat: their consumers left long ago. */
const FORGET_BEATS_AFTER_MS = 86_400_000;

const BEAT = `${NOW_MS}
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
return 0`;

// KEYS: stream, beats. ARGV: group. Each consumer as {name, pending, idle, silent or -1}.
const CONSUMERS = `${NOW_MS}
local out = {}
for _, c in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])) do
  local f = {}
  for i = 1, #c, 2 do f[c[i]] = c[i + 1] end
  local beat = redis.call('ZSCORE', KEYS[2], f['name'])
  local silent = -1
  if beat then silent = math.max(0, now - tonumber(beat)) end
  out[#out + 1] = {f['name'], f['pending'], f['idle'], silent}
end
return out`;

// KEYS: stream, beats. ARGV: group, consumer, minSilentMs. 1 when deleted.
const REMOVE = `${NOW_MS}
local beat = redis.call('ZSCORE', KEYS[2], ARGV[2])
if beat and now - tonumber(beat) < tonumber(ARGV[3]) then return 0 end
local consumers = redis.pcall('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])
if consumers['err'] then return 0 end
for _, c in ipairs(consumers) do
  local f = {}
  for i = 1, #c, 2 do f[c[i]] = c[i + 1] end
  if f['name'] == ARGV[2] then
    if f['pending'] > 0 then return 0 end
    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2])
    redis.call('ZREM', KEYS[2], ARGV[2])
    return 1
  end
end
-- Not in the group (it never read anything): only its beat is left to forget.
redis.call('ZREM', KEYS[2], ARGV[2])
return 0`;

export interface RedisConsumers {
  heartbeat(group: string, consumer: string): Promise<void>;
  consumers(group: string): Promise<ConsumerInfo[]>;
  removeConsumer(group: string, consumer: string, minSilentMs: number): Promise<boolean>;
  /** claimStale for one consumer's entries: XPENDING of that consumer, then XCLAIM. */
  claimFrom(o: ClaimOptions & { from: string }): Promise<Delivery[]>;
}

export function redisConsumers(send: Send, stream: string): RedisConsumers {
  const beats = (group: string) => `${stream}:beats:${group}`;
  const ms = (n: number) => String(Math.max(0, Math.floor(n)));

  return {
    async heartbeat(group, consumer) {
      await send(['EVAL', BEAT, '1', beats(group), consumer, String(FORGET_BEATS_AFTER_MS)]);
    },

    async consumers(group) {
      try {
        return parseConsumers(await send(['EVAL', CONSUMERS, '2', stream, beats(group), group]));
      } catch (err) {
        if (isNoGroup(err)) return [];
        throw err;
      }
    },

    async removeConsumer(group, consumer, minSilentMs) {
      return Number(await send(['EVAL', REMOVE, '2', stream, beats(group), group, consumer, ms(minSilentMs)])) === 1;
    },

    async claimFrom(o) {
      const idle = ms(o.minIdleMs);
      const pending = await send(['XPENDING', stream, o.group, 'IDLE', idle, '-', '+', String(o.count), o.from]);
      const ids = Array.isArray(pending) ? pending.flatMap((p) => (Array.isArray(p) ? [String(p[0])] : [])) : [];
      if (ids.length === 0) return [];
      // The same idle bound again: an entry another hub claimed meanwhile has just been handed out
      // (its idle time restarted), so XCLAIM leaves it where it is.
      const { deliveries, deletedIds } = parseEntries(await send(['XCLAIM', stream, o.group, o.consumer, idle, ...ids]));
      // Redis before 7.0 answers trimmed entries with nil and keeps them pending: nothing to store.
      if (deletedIds.length) await send(['XACK', stream, o.group, ...deletedIds]);
      return deliveries;
    },
  };
}
