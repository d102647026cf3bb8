import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { followThrottle, ReadValve } from './read-valve.ts';

function flowing() {
  const s = new PassThrough();
  const got: string[] = [];
  s.on('data', (c: Buffer) => got.push(c.toString()));
  return { s, got };
}

describe('ReadValve', () => {
  it('when two reasons hold a stream, then releasing one does not resume it', () => {
    const { s } = flowing();
    const v = new ReadValve(s);
    v.hold('drain');
    v.hold('spool');
    v.release('drain');
    expect(s.isPaused()).toBe(true);
    v.release('spool');
    expect(s.isPaused()).toBe(false);
  });

  it('when a reason that was never held is released, then a stream another reason holds stays paused', () => {
    const { s } = flowing();
    const v = new ReadValve(s);
    v.hold('held');
    v.release('drain');
    expect(s.isPaused()).toBe(true);
  });

  it('when the writable fills, then reading waits for its drain, once however many writes', async () => {
    const { s } = flowing();
    const v = new ReadValve(s);
    const to = new PassThrough({ highWaterMark: 4 });
    v.forward(to, Buffer.from('123456'));
    v.forward(to, Buffer.from('789'));
    expect(v.holds('drain')).toBe(true);
    expect(to.listenerCount('drain')).toBe(1);
    to.read();
    await new Promise((r) => setImmediate(r));
    expect(v.holds('drain')).toBe(false);
    expect(s.isPaused()).toBe(false);
  });

  it('when the spool throttles, then every followed valve holds, and lets go when it ends or on unsubscribe', () => {
    let on = false;
    const listeners = new Set<(on: boolean) => void>();
    const source = { throttled: () => on, onThrottle: (l: (on: boolean) => void) => (listeners.add(l), () => listeners.delete(l)) };
    const a = flowing();
    const b = flowing();
    const va = new ReadValve(a.s);
    const vb = new ReadValve(b.s);
    const off = followThrottle(source, [va, vb]);
    on = true;
    for (const l of listeners) l(true);
    expect([a.s.isPaused(), b.s.isPaused()]).toEqual([true, true]);
    off();
    expect([a.s.isPaused(), b.s.isPaused()]).toEqual([false, false]);
    expect(listeners.size).toBe(0);
  });
});
