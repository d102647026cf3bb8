import { describe, expect, it } from 'vitest';
import { SessionEventEncoder } from '../../../common/events/index.ts';
import { eventHash } from '../../../common/events/chain.ts';
import { BLOCK_EVENTS, walkSegments, type RawSegment } from './chain-walk.ts';

/** A chained recording of n events, as the agent encodes them. */
function recording(n: number): string[] {
  const encoder = new SessionEventEncoder({ sessionId: 's1', user: 'alice', target: 'pg', protocol: 'postgres', connection: { client: '127.0.0.1:1', agent: 'a1' } });
  const bodies: string[] = [];
  let prev: string | undefined;
  for (let seq = 1; seq <= n; seq++) {
    const body = encoder.encode({ type: 'db.query', id: `e${seq}`, seq, time: '2026-12-07T10:00:00.000Z', data: { sql: `select ${seq}` }, prev });
    bodies.push(body);
    prev = eventHash(body);
  }
  return bodies;
}

/** Stored as rows of `per` events. */
function rows(bodies: readonly string[], per = 4, firstSeq = 1): RawSegment[] {
  const out: RawSegment[] = [];
  for (let i = 0; i < bodies.length; i += per) {
    const part = bodies.slice(i, i + per);
    out.push({ firstSeq: firstSeq + i, lastSeq: firstSeq + i + part.length - 1, body: part.join('\n') });
  }
  return out;
}

const kinds = (bodies: string[], segments = rows(bodies)) => walkSegments(segments).findings.map((f) => `${f.kind} ${f.from}-${f.to}`);

describe('ChainWalk', () => {
  it('when a chained recording is intact, then there are no findings and the hashes are its first and last events\'', () => {
    const bodies = recording(10);
    const r = walkSegments(rows(bodies));
    expect(r.findings).toEqual([]);
    expect(r).toMatchObject({ lastSeq: 10, eventCount: 10, unchained: 0, firstHash: eventHash(bodies[0]), finalHash: eventHash(bodies[9]) });
  });

  it('when the store cuts the same events into other rows, then the block digests are the same', () => {
    const bodies = recording(BLOCK_EVENTS + 7);
    const a = walkSegments(rows(bodies, 3));
    const b = walkSegments(rows(bodies, 250));
    expect(a.blocks).toEqual(b.blocks);
    expect(a.blocks.map((x) => [x.from, x.to])).toEqual([[1, BLOCK_EVENTS], [BLOCK_EVENTS + 1, BLOCK_EVENTS + 7]]);
  });

  it('when one byte of an event is changed, then that event is named', () => {
    const bodies = recording(10);
    bodies[4] = bodies[4].replace('select 5', 'select 6');
    expect(kinds(bodies)).toEqual(['changed 5-5']);
  });

  it('when an event\'s prev is changed too, then that event is named, not its neighbour', () => {
    const bodies = recording(10);
    bodies[4] = bodies[4].replace(/"prev":"[0-9a-f]{64}"/, `"prev":"${'0'.repeat(64)}"`);
    expect(kinds(bodies)).toEqual(['changed 5-5']);
  });

  it('when an event is removed and the seqs after it close up, then the hole and the shifted events are named', () => {
    const bodies = recording(8);
    const without = [...bodies.slice(0, 3), ...bodies.slice(4)];
    const r = walkSegments(rows(without, 8));
    expect(r.findings.map((f) => `${f.kind} ${f.from}-${f.to}`)).toEqual(['missing 4-4']);
    expect(r.findings[0].message).toBe('event 4 was removed: events 5 to 8 are stored under seqs 4 to 7');
  });

  it('when a whole row is missing, then its events are named missing', () => {
    const bodies = recording(12);
    const segments = rows(bodies);
    expect(kinds(bodies, [segments[0], segments[2]])).toEqual(['missing 5-8']);
  });

  it('when two events are stored in each other\'s place, then they are named as reordered and nothing else', () => {
    const bodies = recording(10);
    [bodies[4], bodies[5]] = [bodies[5], bodies[4]];
    expect(kinds(bodies)).toEqual(['reordered 5-6']);
  });

  it('when a row says it holds more events than it does, then the row is named', () => {
    const bodies = recording(8);
    const segments = rows(bodies);
    segments[1] = { ...segments[1], lastSeq: 9 };
    expect(kinds(bodies, segments)).toContain('segment 5-9');
  });

  it('when a body is not JSON, then it is named unreadable', () => {
    const bodies = recording(5);
    bodies[2] = 'garbage';
    expect(kinds(bodies)).toEqual(['unreadable 3-3', 'changed 3-3']);
  });

  it('when events carry no prev (recorded before chaining), then the links are counted as unchecked, not as broken', () => {
    const bodies = recording(5).map((b) => b.replace(/,"prev":"[0-9a-f]{64}"/, ''));
    const r = walkSegments(rows(bodies));
    expect(r.findings).toEqual([]);
    expect(r.unchained).toBe(4);
  });

  it('when the recording declares a gap (the agent\'s spool was full), then it is a gap, not a missing event', () => {
    const encoder = new SessionEventEncoder({ sessionId: 's1', user: 'alice', target: 'pg', protocol: 'postgres', connection: { client: '127.0.0.1:1', agent: 'a1' } });
    const bodies = recording(3);
    const gap = encoder.encode({ type: 'recording.gap', id: 'g', seq: 6, time: '2026-12-07T10:00:00.000Z', data: { fromSeq: 4, toSeq: 5, reason: 'spool_full' }, prev: eventHash('dropped') });
    const r = walkSegments([{ firstSeq: 1, lastSeq: 3, body: bodies.join('\n') }, { firstSeq: 6, lastSeq: 6, body: gap }]);
    expect(r.findings).toEqual([]);
    expect(r.gaps).toEqual([{ from: 4, to: 5, why: "the agent's spool was full (declared by the agent)" }]);
  });
});
