// The control bus over Redis: PUBLISH on `${prefix}control` for speed, and each decision also kept:
// a kill order as `${prefix}kill:<session>`, the locks in force as `${prefix}locks`, a request's
// state as `${prefix}access:<id>` and a person's grant for a target as
// `${prefix}grant:<target>:<user>` (the request id, expiring with the grant), for agents that
// were away when it was sent. Agents ask hubs to open requests
// through the list `${prefix}access-intake`; a hub answers on `${prefix}access-reply:<uuid>`.
import crypto from 'node:crypto';
import { z } from 'zod';
import type { Logger } from '../log.ts';
import { closeRedis, createRedisConnection, type RedisConnection } from '../redis-connection.ts';
import {
  ACCESS_REQUEST_TIMEOUT_MS, AccessDraft, AgentAuditEntry, AUDIT_INTAKE_MAX, ENDED_BY_HUB_KEPT_SECONDS, inForce, keptSeconds, KILL_KEPT_SECONDS, parseControlMessage,
  parseLease, withTimeout, type AccessReceipt, type AgentLease, type ControlBus, type ControlMessage,
} from './control-bus.ts';

/** Deletes the grant key only while it still names this request (a newer grant stays). */
const DELETE_IF_SAME = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end";
/** How long a state read may take before the agent treats Redis as unreachable. */
const READ_TIMEOUT_MS = 2000;

const IntakeItem = z.strictObject({ reply: z.uuid(), deadline: z.number(), draft: AccessDraft });

export async function createRedisControlBus(url: string, keyPrefix: string, logger?: Logger): Promise<ControlBus> {
  const main = createRedisConnection(url, (err) => logger?.debug({ err: err.message }, 'control bus: redis error'));
  await main.connect();
  let subscriber: RedisConnection | null = null;
  const blocking = new Set<RedisConnection>();
  const channel = `${keyPrefix}control`;
  const intakeKey = `${keyPrefix}access-intake`;
  const killKey = (id: string) => `${keyPrefix}kill:${id}`;
  const accessKey = (id: number) => `${keyPrefix}access:${id}`;
  const locksKey = `${keyPrefix}locks`;
  const grantKey = (target: string, user: string) => `${keyPrefix}grant:${target}:${user}`;
  const replyKey = (id: string) => `${keyPrefix}access-reply:${id}`;
  const leaseKey = (agent: string) => `${keyPrefix}agent-lease:${agent}`;
  const endedKey = (agent: string) => `${keyPrefix}agent-ended-by-hub:${agent}`;
  // Set once, never expiring: when it is missing, Redis lost its data and every lease with it.
  const leaseEpochKey = `${keyPrefix}lease-epoch`;
  const agentsSeenKey = `${keyPrefix}agents-seen`;
  const auditKey = `${keyPrefix}audit-intake`;

  /** Reads fail at once when Redis is down, rather than queue until it is back. */
  const read = <T>(what: string, run: () => Promise<T>): Promise<T> => {
    if (!main.isReady) return Promise.reject(new Error('the control bus (Redis) is not connected'));
    return withTimeout(run(), READ_TIMEOUT_MS, what);
  };
  const parseState = (text: string | null) => {
    if (!text) return null;
    const m = parseControlMessage(text);
    return m?.kind === 'access' ? m : null;
  };
  /** A connection of its own for a blocking command (closed by close() if still waiting). */
  const blockingConnection = async () => {
    const conn = main.duplicate();
    conn.on('error', (err: Error) => logger?.debug({ err: err.message }, 'control bus: blocking connection error'));
    blocking.add(conn);
    await conn.connect();
    return conn;
  };
  const release = async (conn: RedisConnection) => {
    blocking.delete(conn);
    await closeRedis(conn, false);
  };

  return {
    async publish(message: ControlMessage) {
      const text = JSON.stringify(message);
      // State first, in one transaction with the PUBLISH (one round trip): an agent that checks
      // right after the message must find it.
      const tx = main.multi();
      if (message.kind === 'kill') tx.set(killKey(message.sessionId), text, { EX: KILL_KEPT_SECONDS });
      // Kept without an expiry: an agent that starts while no hub runs still applies the last list.
      else if (message.kind === 'locks') tx.set(locksKey, text);
      else {
        tx.set(accessKey(message.requestId), text, { EX: keptSeconds(message) });
        // Only a connect request is a grant (a held statement's decision has none to keep).
        if (message.scope === 'connect') {
          const key = grantKey(message.target, message.user);
          if (message.status === 'granted' && message.expiresAt) tx.set(key, String(message.requestId), { PXAT: Date.parse(message.expiresAt) });
          else tx.eval(DELETE_IF_SAME, { keys: [key], arguments: [String(message.requestId)] });
        }
      }
      await tx.publish(channel, text).exec();
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
    async locks() {
      const text = await read('reading locks', () => main.get(locksKey));
      const message = text ? parseControlMessage(text) : null;
      return message?.kind === 'locks' ? message : null;
    },
    async accessStates(ids) {
      if (ids.length === 0) return [];
      const values = await read('reading access states', () => main.mGet(ids.map(accessKey)));
      return values.flatMap((v) => parseState(v) ?? []);
    },
    async grantFor(user, target) {
      return read('looking up a grant', async () => {
        const id = await main.get(grantKey(target, user));
        if (!id) return null;
        const state = parseState(await main.get(accessKey(Number(id))));
        return state && inForce(state) ? state : null;
      });
    },
    async requestAccess(draft, timeoutMs = ACCESS_REQUEST_TIMEOUT_MS) {
      if (!main.isReady) throw new Error('the control bus (Redis) is not connected');
      const reply = crypto.randomUUID();
      const conn = await withTimeout(blockingConnection(), timeoutMs, 'Redis');
      try {
        await main.rPush(intakeKey, JSON.stringify({ reply, deadline: Date.now() + timeoutMs, draft }));
        // BLPOP takes fractions of a second.
        const answer = await conn.blPop(replyKey(reply), timeoutMs / 1000);
        if (!answer) throw new Error(`no Vigil hub answered within ${timeoutMs} ms`);
        return JSON.parse(answer.element) as AccessReceipt;
      } finally {
        await release(conn);
      }
    },
    async serveAccessRequests(handler) {
      const conn = await blockingConnection();
      let serving = true;
      const loop = (async () => {
        while (serving) {
          let text: string;
          try {
            const item = await conn.blPop(intakeKey, 1);
            if (!item) continue;
            text = item.element;
          } catch (err) {
            if (!serving) break;
            logger?.debug({ err: (err as Error).message }, 'control bus: access intake read failed');
            await new Promise((r) => setTimeout(r, 500));
            continue;
          }
          const parsed = IntakeItem.safeParse(safeJson(text));
          if (!parsed.success) {
            logger?.warn('control bus: invalid access request dropped');
            continue;
          }
          // The agent stopped waiting: opening it now would leave a request nobody asked for.
          if (parsed.data.deadline < Date.now()) continue;
          const receipt = await handler(parsed.data.draft).catch((err: Error): AccessReceipt => ({ error: err.message }));
          const key = replyKey(parsed.data.reply);
          await main.multi().rPush(key, JSON.stringify(receipt)).expire(key, 30).exec()
            .catch((err: Error) => logger?.warn({ err: err.message }, 'control bus: access reply failed'));
        }
      })();
      return async () => {
        serving = false;
        await release(conn);
        await loop;
      };
    },
    async renewLease(lease: AgentLease, ttlMs: number) {
      if (!main.isReady) throw new Error('the control bus (Redis) is not connected');
      const [, ended] = await withTimeout(
        main.multi().set(leaseKey(lease.agent), JSON.stringify(lease), { PX: ttlMs }).sMembers(endedKey(lease.agent)).del(endedKey(lease.agent))
          .sAdd(agentsSeenKey, lease.agent).exec(),
        READ_TIMEOUT_MS, 'renewing the agent lease');
      return { endedByHub: Array.isArray(ended) ? ended.map(String) : [] };
    },
    async readLeases(agentIds) {
      return read('reading agent leases', async () => {
        const tx = main.multi().set(leaseEpochKey, String(Date.now()), { NX: true }).get(leaseEpochKey);
        if (agentIds.length) tx.mGet(agentIds.map(leaseKey)).smIsMember(agentsSeenKey, [...agentIds]);
        const [, epoch, values, members] = await tx.exec();
        const leases = new Map<string, AgentLease>();
        (Array.isArray(values) ? values : []).forEach((v, i) => {
          const lease = parseLease(typeof v === 'string' ? v : null);
          if (lease && lease.agent === agentIds[i]) leases.set(lease.agent, lease);
        });
        const known = new Set(agentIds.filter((_, i) => Array.isArray(members) && Number(members[i]) === 1));
        return { leases, known, since: Number(epoch) || Date.now() };
      });
    },
    async markEndedByHub(agentId, sessionIds) {
      if (sessionIds.length === 0) return;
      const key = endedKey(agentId);
      await main.multi().sAdd(key, [...sessionIds]).expire(key, ENDED_BY_HUB_KEPT_SECONDS).exec();
    },
    async reportAudit(entries) {
      if (entries.length === 0) return;
      if (!main.isReady) throw new Error('the control bus (Redis) is not connected');
      await withTimeout(
        main.multi().rPush(auditKey, entries.map((e) => JSON.stringify(e))).lTrim(auditKey, -AUDIT_INTAKE_MAX, -1).exec(),
        READ_TIMEOUT_MS, 'reporting to the audit log');
    },
    async serveAudit(handler) {
      let serving = true;
      let wake: (() => void) | null = null;
      const loop = (async () => {
        while (serving) {
          let batch: AgentAuditEntry[] = [];
          let raw: string[] = [];
          try {
            // LPOP with a count takes a batch atomically: each batch goes to one hub.
            raw = (await main.lPopCount(auditKey, 100)) ?? [];
            batch = raw.flatMap((text) => {
              const parsed = AgentAuditEntry.safeParse(safeJson(text));
              if (!parsed.success) logger?.warn('control bus: invalid audit entry dropped');
              return parsed.success ? [parsed.data] : [];
            });
            if (batch.length) await handler(batch);
          } catch (err) {
            if (!serving) break;
            logger?.debug({ err: (err as Error).message }, 'control bus: audit intake failed; trying again');
            // Back at the front, in order, for the next try (by any hub).
            if (raw.length) await main.lPush(auditKey, [...raw].reverse()).catch(() => undefined);
          }
          if (raw.length < 100) await new Promise<void>((resolve) => {
            wake = resolve;
            setTimeout(resolve, 1000).unref();
          });
        }
      })();
      return async () => {
        serving = false;
        wake?.();
        await loop;
      };
    },
    async close() {
      await Promise.all([...blocking].map(release));
      await closeRedis(subscriber);
      await closeRedis(main);
    },
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** Redis when a URL is configured, else in-process. */
export async function createControlBus(url: string | undefined, keyPrefix: string, logger?: Logger): Promise<ControlBus> {
  if (url) return createRedisControlBus(url, keyPrefix, logger);
  const { createInProcessControlBus } = await import('./in-process-control-bus.ts');
  return createInProcessControlBus();
}
