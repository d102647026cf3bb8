import { describe, expect, it } from 'vitest';
import type { BusEvent } from '../../common/bus/event-bus.ts';
import { eventHash } from '../../common/events/chain.ts';
import { SessionEventSink } from './session-event-sink.ts';

/** An outlet that refuses while `full` (a best-effort target's spool), but always takes final events. */
function outlet() {
  const taken: BusEvent[] = [];
  const o = { full: false, taken, publish: (e: BusEvent, final = false) => (o.full && !final ? false : (taken.push(e), true)), hasRoom: () => !o.full };
  return o;
}

const identity = { sessionId: 's1', user: 'alice', target: 'pg', protocol: 'postgres' as const, connection: { client: '127.0.0.1:1', agent: 'a1' } };
const parsed = (e: BusEvent) => JSON.parse(e.body) as { seq: number; type: string; prev?: string; data: Record<string, unknown> };

describe('SessionEventSink', () => {
  it('when events are emitted, then each after the first carries the hash of the one before', () => {
    const o = outlet();
    const sink = new SessionEventSink(identity, o);
    sink.emit('db.query', { protocol: 'simple', sql: 'select 1' });
    sink.emit('db.query', { protocol: 'simple', sql: 'select 2' });
    sink.emit('db.query', { protocol: 'simple', sql: 'select 3' });
    const [a, b, c] = o.taken;
    expect(parsed(a).prev).toBeUndefined();
    expect(parsed(b).prev).toBe(eventHash(a.body));
    expect(parsed(c).prev).toBe(eventHash(b.body));
  });

  it('when the spool refuses events, then the recording says which, as soon as it takes one again', () => {
    const o = outlet();
    const sink = new SessionEventSink(identity, o);
    sink.emit('db.query', { protocol: 'simple', sql: 'select 1' });
    o.full = true;
    sink.emit('db.query', { protocol: 'simple', sql: 'select 2' });
    sink.emit('db.query', { protocol: 'simple', sql: 'select 3' });
    o.full = false;
    sink.emit('db.query', { protocol: 'simple', sql: 'select 4' });
    expect(o.taken.map((e) => `${parsed(e).seq} ${parsed(e).type}`)).toEqual(['1 db.query', '4 recording.gap', '5 db.query']);
    expect(parsed(o.taken[1]).data).toEqual({ fromSeq: 2, toSeq: 3, reason: 'spool_full' });
    expect(sink.dropped).toBe(2);
  });

  it('when the spool stays full to the end, then the gap is said with the end, which is always taken', () => {
    const o = outlet();
    const sink = new SessionEventSink(identity, o);
    o.full = true;
    sink.emit('db.query', { protocol: 'simple', sql: 'select 1' });
    sink.emit('db.query', { protocol: 'simple', sql: 'select 2' });
    sink.end('client_terminate', undefined, Date.now(), { down: 0, up: 0 });
    expect(o.taken.map((e) => `${parsed(e).seq} ${parsed(e).type}`)).toEqual(['3 recording.gap', '4 session.end']);
    expect(parsed(o.taken[0]).data).toEqual({ fromSeq: 1, toSeq: 2, reason: 'spool_full' });
  });
});
