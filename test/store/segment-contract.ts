// Segments: what every engine must do with a recording stored as runs of events (migration 5):
// seal them compressed as sessions go on and end, keep each event's bytes, stay idempotent across
// segment boundaries, never seal across a gap, find a moment by time, and move the one-row-per-event
// recordings of an older store over. Run against PostgreSQL and PGlite.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RecordingStore, StoredEvent } from '../../server/recordings/store/recording-store.ts';
import { SEAL_BYTES, SEAL_SPAN_MS } from '../../server/recordings/store/segment-writer.ts';
import type { HubStores } from '../../server/store/create-store.ts';
import { migrate, MIGRATIONS } from '../../server/store/migrations.ts';
import type { SqlClient } from '../../server/store/sql-client.ts';
import { SqlRecordingStore } from '../../server/recordings/store/sql-recording-store.ts';
import { hubEndEvent } from '../../server/liveness/hub-end.ts';
import { SessionEvents } from './event-factory.ts';

const seqs = (events: readonly StoredEvent[]) => events.map((e) => e.event.seq);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** Appends `events` in batches of `size`, as a persister would. */
async function appendInBatches(store: RecordingStore, events: readonly StoredEvent[], size: number): Promise<void> {
  for (let i = 0; i < events.length; i += size) await store.append(events.slice(i, i + size));
}

export function describeSegmentContract(name: string, make: () => Promise<HubStores>, freshClient: () => Promise<SqlClient>): void {
  describe(`segments: ${name}`, () => {
    let stores: HubStores;
    let store: RecordingStore;

    beforeAll(async () => {
      stores = await make();
      store = stores.recordings;
    });

    afterAll(async () => {
      await stores?.close();
    });

    it('when a session goes on past the seal span in small batches, then its start is sealed compressed, its tail stays raw, and every body reads back byte for byte', async () => {
      const s = new SessionEvents();
      // One second apart: the span seals every SEAL_SPAN_MS / 1000 events or so.
      const perMinute = SEAL_SPAN_MS / 1000;
      const events = [s.start(), ...Array.from({ length: perMinute * 2 + 10 }, (_, i) => s.notice(`row ${i} ${'x'.repeat(200)}`))];
      await appendInBatches(store, events, 3);

      const segments = await store.listSegments(s.sessionId);
      expect(segments.filter((g) => g.sealed).length).toBeGreaterThanOrEqual(2);
      expect(segments.at(-1)!.sealed).toBe(false);
      // Runs, in order, without gaps or overlaps.
      expect(segments[0].firstSeq).toBe(1);
      for (let i = 1; i < segments.length; i++) expect(segments[i].firstSeq).toBe(segments[i - 1].lastSeq + 1);
      expect(segments.at(-1)!.lastSeq).toBe(events.length);
      for (const g of segments.filter((x) => x.sealed)) expect(g.storedBytes).toBeLessThan(g.rawBytes / 3);

      const read = await store.readEvents(s.sessionId, 1, 10_000);
      expect(read.map((e) => e.body)).toEqual(events.map((e) => e.body));
      expect((await store.getSession(s.sessionId))?.persistedSeq).toBe(events.length);
    });

    it('when a session ends, then all of it is sealed; a large session is cut into segments of bounded size', async () => {
      const s = new SessionEvents();
      const big = 'y'.repeat(2000);
      const count = Math.ceil((3 * SEAL_BYTES) / 2000);
      const events = [s.start(), ...Array.from({ length: count }, (_, i) => s.notice(`${i} ${big}`)), s.end()];
      await appendInBatches(store, events, 40);

      const segments = await store.listSegments(s.sessionId);
      expect(segments.every((g) => g.sealed)).toBe(true);
      expect(segments.length).toBeGreaterThanOrEqual(2);
      for (const g of segments) expect(g.rawBytes).toBeLessThan(2 * SEAL_BYTES + 4096);
      expect((await store.readEvents(s.sessionId, 1, 10_000)).map((e) => e.body)).toEqual(events.map((e) => e.body));
    });

    it('when events already sealed come again, alone or with new ones across a segment boundary, then only the new ones are written', async () => {
      const s = new SessionEvents();
      const events = [s.start(), ...s.queries(150)];
      await appendInBatches(store, events.slice(0, 120), 10);
      const before = await store.getSession(s.sessionId);
      expect((await store.listSegments(s.sessionId)).some((g) => g.sealed)).toBe(true);

      const again = await store.append(events.slice(5, 70));
      expect(again.inserted).toBe(0);
      const mixed = await store.append(events.slice(100, 151));
      expect(mixed.inserted).toBe(31);

      const after = await store.getSession(s.sessionId);
      expect(after?.eventCount).toBe(before!.eventCount + 31);
      expect(after?.queryCount).toBe(150);
      expect(seqs(await store.readEvents(s.sessionId, 1, 10_000))).toEqual(range(1, 151));
    });

    it('when a gap is open, then nothing past it is sealed, and once it is filled the run seals', async () => {
      const s = new SessionEvents();
      const events = [s.start(), ...s.queries(200)];
      const missing = events.slice(30, 35);
      await appendInBatches(store, [...events.slice(0, 30), ...events.slice(35)], 20);

      let segments = await store.listSegments(s.sessionId);
      expect((await store.getSession(s.sessionId))?.persistedSeq).toBe(30);
      expect(segments.filter((g) => g.lastSeq > 30).every((g) => !g.sealed)).toBe(true);
      expect(seqs(await store.readEvents(s.sessionId, 25, 10))).toEqual([25, 26, 27, 28, 29, 30, 36, 37, 38, 39]);

      await store.append(missing);
      segments = await store.listSegments(s.sessionId);
      expect((await store.getSession(s.sessionId))?.persistedSeq).toBe(201);
      expect(segments.filter((g) => g.sealed).at(-1)!.lastSeq).toBeGreaterThan(35);
      expect(seqs(await store.readEvents(s.sessionId, 1, 10_000))).toEqual(range(1, 201));
    });

    it('when a hub ends a session, then its end stays a raw segment of its own that gives way to the agent\'s later events', async () => {
      const s = new SessionEvents();
      const events = [s.start(), ...s.queries(100)];
      await appendInBatches(store, events, 25);
      const hubEnd = hubEndEvent((await store.getSession(s.sessionId))!, { reason: 'agent_lost', message: 'gone', now: Date.parse('2030-01-01T10:00:00Z') });
      await store.append([hubEnd]);
      const ended = await store.listSegments(s.sessionId);
      expect(ended.at(-1)).toMatchObject({ firstSeq: 102, lastSeq: 102, sealed: false });
      expect(ended.slice(0, -1).every((g) => g.sealed)).toBe(true);

      // The agent was not gone after all: its event 102 and its own end replace the hub's.
      const late = [s.query('select late'), s.end()];
      await store.append(late);
      const read = await store.readEvents(s.sessionId, 100, 10);
      expect(read.map((e) => e.body)).toEqual([...events.slice(99), ...late].map((e) => e.body));
      expect((await store.getSession(s.sessionId))?.endReason).toBe('client_terminate');
      expect((await store.listSegments(s.sessionId)).every((g) => g.sealed)).toBe(true);
    });

    it('when a moment is asked for, then the first event at or after it is found, in sealed and raw segments alike', async () => {
      const s = new SessionEvents();
      const events = [s.start(), ...s.queries(150)];
      await appendInBatches(store, events, 50);
      expect(await store.seqAtTime(s.sessionId, s.timeOf(1))).toBe(1);
      expect(await store.seqAtTime(s.sessionId, s.timeOf(42))).toBe(42);
      // Between two events: the next one.
      expect(await store.seqAtTime(s.sessionId, new Date(Date.parse(s.timeOf(99)) + 500).toISOString())).toBe(100);
      expect(await store.seqAtTime(s.sessionId, s.timeOf(151))).toBe(151);
      expect(await store.seqAtTime(s.sessionId, new Date(Date.parse(s.timeOf(151)) + 1).toISOString())).toBeNull();
      expect(await store.seqAtTime('no-such-session', s.timeOf(1))).toBeNull();
    });

    it('when a store of one row per event is migrated, then its events move into segments byte for byte, gaps kept', async () => {
      const client = await freshClient();
      try {
        await migrate(client, { migrations: MIGRATIONS.filter((m) => m.id < 5) });
        const a = new SessionEvents();
        const b = new SessionEvents();
        const aEvents = [a.start(), ...a.queries(2500), a.end()];
        const bEvents = [b.start(), ...b.queries(10)];
        const kept = [...aEvents, ...bEvents.filter((e) => e.event.seq !== 5)];
        await client.query(
          `INSERT INTO events (session_id, seq, event_id, type, time, body)
           SELECT * FROM unnest($1::text[], $2::int8[], $3::text[], $4::text[], $5::timestamptz[], $6::text[])`,
          [kept.map((e) => e.event.sessionId), kept.map((e) => e.event.seq), kept.map((e) => e.event.id),
            kept.map((e) => e.event.type), kept.map((e) => e.event.time), kept.map((e) => e.body)]);

        const migrated = new SqlRecordingStore(client);
        await migrated.migrate();
        expect((await migrated.readEvents(a.sessionId, 1, 10_000)).map((e) => e.body)).toEqual(aEvents.map((e) => e.body));
        expect(seqs(await migrated.readEvents(b.sessionId))).toEqual([1, 2, 3, 4, 6, 7, 8, 9, 10, 11]);
        const segments = await migrated.listSegments(a.sessionId);
        expect(segments.map((g) => [g.firstSeq, g.lastSeq])).toEqual([[1, 1000], [1001, 2000], [2001, 2502]]);
        expect((await migrated.listSegments(b.sessionId)).map((g) => [g.firstSeq, g.lastSeq])).toEqual([[1, 4], [6, 11]]);
        const { rows } = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM information_schema.tables WHERE table_name = 'events'`);
        expect(rows[0].n).toBe(0);
      } finally {
        await client.close();
      }
    });
  });
}
