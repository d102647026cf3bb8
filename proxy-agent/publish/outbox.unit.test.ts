import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../common/log.ts';
import { SessionEventEncoder, decodeEvent } from '../../common/events/index.ts';
import { Outbox, readOutbox } from './outbox.ts';
import { recoverOutbox } from './outbox-recovery.ts';

const dirs: string[] = [];
const tempDir = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-outbox-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

const meta = (sessionId: string) => ({ sessionId, user: 'alice', target: 'pg', protocol: 'postgres' as const, connection: { client: '10.0.0.1:5000', agent: 'agent-1' } });
function session(sessionId: string) {
  const encoder = new SessionEventEncoder(meta(sessionId));
  let seq = 0;
  return {
    start: () => encoder.encode({ type: 'session.start', id: `${sessionId}-${++seq}`, seq, time: '2030-01-01T00:00:00.000Z', data: { upstream: 'db:5432', recording: 'required', clientMasking: false } }),
    query: (sql: string) => encoder.encode({ type: 'db.query', id: `${sessionId}-${++seq}`, seq, time: '2030-01-01T00:00:01.000Z', data: { protocol: 'simple', sql } }),
    end: () => encoder.encode({ type: 'session.end', id: `${sessionId}-${++seq}`, seq, time: '2030-01-01T00:00:02.000Z', data: { reason: 'client_terminate', durationMs: 2000, bytesDown: 1, bytesUp: 1 } }),
  };
}

describe('Outbox', () => {
  it('when events are appended, then a later run reads them back in order, and taking over deletes them', () => {
    const dir = tempDir();
    const a = new Outbox({ dir, logger: silentLogger, segmentBytes: 64 });
    const bodies = Array.from({ length: 10 }, (_, i) => `{"n":${i},"text":"line\\nbreak"}`);
    bodies.forEach((b, i) => {
      a.append(i + 1, b);
      a.flush();
    });
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.log')).length).toBeGreaterThan(1);
    // No close(): as after SIGKILL.
    expect(readOutbox(dir, silentLogger)).toEqual(bodies);
    fs.rmSync(path.join(dir, 'lock'));
    const b = new Outbox({ dir, logger: silentLogger });
    b.append(1, '{"next":1}');
    b.flush();
    b.dropEarlierRun();
    expect(readOutbox(dir, silentLogger)).toEqual(['{"next":1}']);
    b.close();
  });

  it('when segments are released below a publish order, then only those wholly below are deleted', () => {
    const dir = tempDir();
    const box = new Outbox({ dir, logger: silentLogger, segmentBytes: 16 });
    for (let n = 1; n <= 6; n++) {
      box.append(n, `{"n":${n}}`); // two events per segment
      box.flush();
    }
    box.releaseBelow(4);
    expect(readOutbox(dir, silentLogger)).toEqual(['{"n":3}', '{"n":4}', '{"n":5}', '{"n":6}']);
    box.releaseBelow(7);
    expect(readOutbox(dir, silentLogger)).toEqual([]);
    box.append(7, '{"n":7}');
    expect(readOutbox(dir, silentLogger)).toEqual([]); // taken, not yet written
    box.flush();
    expect(readOutbox(dir, silentLogger)).toEqual(['{"n":7}']);
    box.close();
  });

  it('when the last line was torn, then it is skipped', () => {
    const dir = tempDir();
    const box = new Outbox({ dir, logger: silentLogger });
    box.append(1, '{"a":1}');
    box.close();
    const [file] = fs.readdirSync(dir).filter((f) => f.endsWith('.log'));
    fs.appendFileSync(path.join(dir, file), '{"a":2');
    expect(readOutbox(dir, silentLogger)).toEqual(['{"a":1}']);
  });

  it('when another live process holds the outbox, then a second agent is refused; a lock left by a dead one is taken over', () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, 'lock'), String(process.ppid));
    expect(() => new Outbox({ dir, logger: silentLogger })).toThrow(/another agent \(pid \d+\) uses the outbox/);
    fs.writeFileSync(path.join(dir, 'lock'), '999999999');
    new Outbox({ dir, logger: silentLogger }).close();
  });
});

describe('recoverOutbox', () => {
  it('when an earlier run left events, then those past the watermark are sent again and each open session gets an agent_restarted end after its last seq', async () => {
    const open = session('s-open');
    const done = session('s-done');
    const bodies = [open.start(), done.start(), open.query('select 1'), done.query('select 2'), done.end(), open.query('select 3'), 'garbage'];
    const asked: string[][] = [];
    const r = await recoverOutbox(bodies, async (ids) => {
      asked.push(ids);
      return new Map([['s-open', 2], ['s-done', 3]]);
    }, Date.parse('2030-01-01T00:00:10.000Z'));
    expect(asked).toEqual([['s-open', 's-done']]);
    expect(r.unreadable).toBe(1);
    expect(r.ended).toEqual(['s-open']);
    expect(r.events.map((e) => `${e.sessionId}#${e.seq}`)).toEqual(['s-open#3', 's-open#4']);
    const end = decodeEvent(r.events[1].body);
    expect(end.ok && end.event).toMatchObject({
      type: 'session.end', seq: 4, user: 'alice', connection: { agent: 'agent-1' },
      data: { reason: 'agent_restarted', durationMs: 10_000 },
    });
  });

  it('when the bus could not say what is persisted, then everything is sent again', async () => {
    const s = session('s1');
    const r = await recoverOutbox([s.start(), s.query('x')], async () => new Map());
    expect(r.events.map((e) => e.seq)).toEqual([1, 2, 3]);
  });
});
