// Reading a recording back from its segments: by seq (the live backlog, the REST pages, exports,
// the player's prefetch), and which seq is at a moment (seeking by time). Sealed segments never
// change, so each is parsed and validated once and kept in a cache bounded by bytes (validated
// again because the store is not the only thing that can write to its database).
import { decodeEvent } from '../../../common/events/index.ts';
import type { SqlClient } from '../../store/sql-client.ts';
import type { SegmentInfo, StoredEvent } from './recording-store.ts';
import { splitBodies } from './segment-body.ts';
import { iso } from '../../store/sql-time.ts';

/** Parsed segments kept, by their raw bytes. */
const CACHE_BYTES_DEFAULT = 64 * 1024 * 1024;

interface SegmentMeta {
  first_seq: number;
  last_seq: number;
  event_count: number;
  sealed: boolean;
  raw_bytes: number;
}

export class SegmentReader {
  readonly #client: SqlClient;
  readonly #cache = new Map<string, { events: StoredEvent[]; bytes: number }>();
  readonly #cacheLimit: number;
  #cached = 0;

  constructor(client: SqlClient, opts: { cacheBytes?: number } = {}) {
    this.#client = client;
    this.#cacheLimit = opts.cacheBytes ?? CACHE_BYTES_DEFAULT;
  }

  /** Up to `limit` events with seq >= fromSeq, in seq order (across gaps, as they are stored). */
  async readEvents(sessionId: string, fromSeq: number, limit: number): Promise<StoredEvent[]> {
    // A segment sealed between the two reads below is gone under its raw runs' keys: read again.
    for (let attempt = 0; ; attempt++) {
      const page = await this.#readOnce(sessionId, fromSeq, limit);
      if (page || attempt === 3) return page ?? [];
    }
  }

  async #readOnce(sessionId: string, fromSeq: number, limit: number): Promise<StoredEvent[] | null> {
    // Enough segments to hold `limit` events whatever their sizes: a segment holds one at least.
    const { rows: metas } = await this.#client.query<SegmentMeta>(
      `SELECT first_seq, last_seq, event_count, sealed, raw_bytes FROM segments
       WHERE session_id = $1 AND last_seq >= $2 ORDER BY last_seq LIMIT $3`, [sessionId, fromSeq, limit]);
    const wanted: SegmentMeta[] = [];
    let count = 0;
    for (const meta of metas) {
      if (count >= limit) break;
      wanted.push(meta);
      count += Number(meta.last_seq) - Math.max(Number(meta.first_seq), fromSeq) + 1;
    }
    const decoded = await this.#segments(sessionId, wanted);
    if (!decoded) return null;
    const out: StoredEvent[] = [];
    for (const events of decoded) {
      for (const e of events) {
        if (e.event.seq < fromSeq) continue;
        if (out.length >= limit) return out;
        out.push(e);
      }
    }
    return out;
  }

  /** The segments of a session in order, without their bodies (the player's timeline). */
  async listSegments(sessionId: string): Promise<SegmentInfo[]> {
    const { rows } = await this.#client.query<{
      first_seq: number; last_seq: number; first_time: string; last_time: string; event_count: number; raw_bytes: number; stored_bytes: number; sealed: boolean;
    }>(
      `SELECT first_seq, last_seq, ${iso('first_time')} AS first_time, ${iso('last_time')} AS last_time,
              event_count, raw_bytes, pg_column_size(body) AS stored_bytes, sealed
       FROM segments WHERE session_id = $1 ORDER BY last_seq`, [sessionId]);
    return rows.map((r) => ({
      firstSeq: Number(r.first_seq), lastSeq: Number(r.last_seq), firstTime: r.first_time, lastTime: r.last_time,
      eventCount: Number(r.event_count), rawBytes: Number(r.raw_bytes), storedBytes: Number(r.stored_bytes), sealed: r.sealed,
    }));
  }

  /** The seq of the first event at or after `time` (ISO), or null when none is. */
  async seqAtTime(sessionId: string, time: string): Promise<number | null> {
    const { rows } = await this.#client.query<SegmentMeta>(
      `SELECT first_seq, last_seq, event_count, sealed, raw_bytes FROM segments
       WHERE session_id = $1 AND last_time >= $2::timestamptz ORDER BY last_time, last_seq LIMIT 1`, [sessionId, time]);
    if (rows.length === 0) return null;
    const events = (await this.#segments(sessionId, rows))?.[0] ?? [];
    const at = Date.parse(time);
    return events.find((e) => Date.parse(e.event.time) >= at)?.event.seq ?? Number(rows[0].last_seq);
  }

  /** The segments' events, or null when one of them was rewritten since `metas` were read. */
  async #segments(sessionId: string, metas: readonly SegmentMeta[]): Promise<StoredEvent[][] | null> {
    const keyOf = (m: SegmentMeta) => `${sessionId}\n${m.first_seq}\n${m.last_seq}`;
    const missing = metas.filter((m) => !this.#cache.has(keyOf(m)));
    const fetched = new Map<number, StoredEvent[]>();
    if (missing.length > 0) {
      const { rows } = await this.#client.query<{ first_seq: number; last_seq: number; sealed: boolean; body: string }>(
        'SELECT first_seq, last_seq, sealed, body FROM segments WHERE session_id = $1 AND last_seq = ANY($2::int8[])',
        [sessionId, missing.map((m) => m.last_seq)]);
      const wanted = new Map(missing.map((m) => [Number(m.last_seq), m]));
      for (const row of rows) {
        const meta = wanted.get(Number(row.last_seq));
        if (!meta || Number(meta.first_seq) !== Number(row.first_seq) || meta.sealed !== row.sealed) return null;
        const events = parseSegment(sessionId, Number(row.first_seq), splitBodies(row.body));
        fetched.set(Number(row.last_seq), events);
        // A raw run is a live session's open tail: cheap to read again, and it will be sealed.
        if (row.sealed) this.#remember(keyOf(meta), events, Number(meta.raw_bytes));
      }
    }
    const out: StoredEvent[][] = [];
    for (const m of metas) {
      const key = keyOf(m);
      const hit = this.#cache.get(key);
      if (hit) {
        // Map order is the LRU order: a hit moves to the back.
        this.#cache.delete(key);
        this.#cache.set(key, hit);
        out.push(hit.events);
        continue;
      }
      const events = fetched.get(Number(m.last_seq));
      if (!events) return null;
      out.push(events);
    }
    return out;
  }

  #remember(key: string, events: StoredEvent[], bytes: number): void {
    if (bytes > this.#cacheLimit / 4) return;
    this.#cache.set(key, { events, bytes });
    this.#cached += bytes;
    for (const [old, entry] of this.#cache) {
      if (this.#cached <= this.#cacheLimit) break;
      this.#cache.delete(old);
      this.#cached -= entry.bytes;
    }
  }
}

function parseSegment(sessionId: string, firstSeq: number, bodies: readonly string[]): StoredEvent[] {
  return bodies.map((body, i) => {
    const seq = firstSeq + i;
    const decoded = decodeEvent(body);
    if (!decoded.ok) throw new Error(`stored event ${sessionId}#${seq} is invalid: ${decoded.error}`);
    if (decoded.event.sessionId !== sessionId || decoded.event.seq !== seq) {
      throw new Error(`stored event ${sessionId}#${seq} holds ${decoded.event.sessionId}#${decoded.event.seq}`);
    }
    return { event: decoded.event, body };
  });
}
