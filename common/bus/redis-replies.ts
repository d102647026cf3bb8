// Raw RESP2 replies of the stream commands the Redis bus sends with sendCommand, turned into
// plain values. Kept apart from the transport so the shapes are checked in one place: anything
// unexpected becomes an empty result or an error, never a crash deep inside a loop.
import { unpackBodies } from './entry-codec.ts';
import type { ConsumerInfo, Delivery } from './event-bus.ts';

type Raw = unknown;

/** Field/value pairs of one stream entry (`[f1, v1, f2, v2, ...]`) to the delivered bodies and the agent's proof. */
function entryContent(fields: Raw): Pick<Delivery, 'bodies' | 'proof'> | null {
  if (!Array.isArray(fields)) return null;
  const map = new Map<string, string>();
  for (let i = 0; i + 1 < fields.length; i += 2) map.set(String(fields[i]), String(fields[i + 1]));
  const packed = map.get('b');
  // An entry written by someone else: deliver it empty, the consumer's validation refuses it.
  // One not framed as packBodies writes: delivered as one body, which validation refuses.
  const bodies = packed === undefined ? [''] : (unpackBodies(packed) ?? [packed]);
  const agent = map.get('a');
  const signature = map.get('s');
  return agent !== undefined && signature !== undefined ? { bodies, proof: { agent, signature } } : { bodies };
}

/** `[[id, fields|null], ...]`: entries whose data is gone (trimmed) come back with their id only. */
export function parseEntries(raw: Raw): { deliveries: Delivery[]; deletedIds: string[] } {
  const deliveries: Delivery[] = [];
  const deletedIds: string[] = [];
  if (!Array.isArray(raw)) return { deliveries, deletedIds };
  for (const entry of raw) {
    if (!Array.isArray(entry) || entry.length < 2) continue;
    const id = String(entry[0]);
    const content = entryContent(entry[1]);
    if (content === null) deletedIds.push(id);
    else deliveries.push({ id, ...content });
  }
  return { deliveries, deletedIds };
}

/** XREADGROUP: null on timeout, else `[[stream, entries]]` (one stream is read). */
export function parseReadGroup(raw: Raw): { deliveries: Delivery[]; deletedIds: string[] } {
  if (!Array.isArray(raw) || raw.length === 0) return { deliveries: [], deletedIds: [] };
  const stream = raw[0];
  if (!Array.isArray(stream) || stream.length < 2) return { deliveries: [], deletedIds: [] };
  return parseEntries(stream[1]);
}

/** XAUTOCLAIM: `[nextCursor, entries, deletedIds]` (Redis 7). */
export function parseAutoClaim(raw: Raw): Delivery[] {
  if (!Array.isArray(raw) || raw.length < 2) return [];
  return parseEntries(raw[1]).deliveries;
}

/** XINFO GROUPS: a flat key/value array per group. */
export interface GroupInfo {
  name: string;
  pending: number;
  lastDeliveredId: string;
  /** Entries not yet delivered to the group (Redis 7; null when Redis cannot tell). */
  lag: number | null;
}

export function parseGroups(raw: Raw): GroupInfo[] {
  if (!Array.isArray(raw)) return [];
  const groups: GroupInfo[] = [];
  for (const item of raw) {
    if (!Array.isArray(item)) continue;
    const fields = new Map<string, unknown>();
    for (let i = 0; i + 1 < item.length; i += 2) fields.set(String(item[i]), item[i + 1]);
    groups.push({
      name: String(fields.get('name')),
      pending: Number(fields.get('pending') ?? 0),
      lastDeliveredId: String(fields.get('last-delivered-id') ?? '0-0'),
      lag: fields.get('lag') === null || fields.get('lag') === undefined ? null : Number(fields.get('lag')),
    });
  }
  return groups;
}

/** The consumers script of redis-consumers.ts: `[[name, pending, idleMs, silentMs or -1], ...]`. */
export function parseConsumers(raw: Raw): ConsumerInfo[] {
  if (!Array.isArray(raw)) return [];
  const out: ConsumerInfo[] = [];
  for (const c of raw) {
    if (!Array.isArray(c) || c.length < 4) continue;
    const silent = Number(c[3]);
    out.push({
      name: String(c[0]),
      pending: Number(c[1]) || 0,
      idleMs: Number(c[2]) || 0,
      silentMs: Number.isFinite(silent) && silent >= 0 ? silent : null,
    });
  }
  return out;
}

/** XPENDING summary: `[count, smallestId, greatestId, consumers]`. */
export function parsePendingFirstId(raw: Raw): string | null {
  if (!Array.isArray(raw) || Number(raw[0]) === 0 || raw[1] === null || raw[1] === undefined) return null;
  return String(raw[1]);
}

function idParts(id: string): [bigint, bigint] {
  const [ms, seq] = id.split('-');
  return [BigInt(ms || 0), BigInt(seq || 0)];
}

/** Orders two stream ids `ms-seq` numerically (string order is wrong across digit counts). */
export function compareStreamIds(a: string, b: string): number {
  const [am, as] = idParts(a);
  const [bm, bs] = idParts(b);
  if (am !== bm) return am < bm ? -1 : 1;
  if (as !== bs) return as < bs ? -1 : 1;
  return 0;
}

/** The smallest id after this one. */
export function nextStreamId(id: string): string {
  const [ms, seq] = idParts(id);
  return `${ms}-${seq + 1n}`;
}

/** Redis reports a missing consumer group (or stream) as NOGROUP. */
export function isNoGroup(err: unknown): boolean {
  return err instanceof Error && /NOGROUP|no such key/i.test(err.message);
}
