import { describe, expect, it } from 'vitest';
import { Deque } from './deque.ts';

describe('Deque', () => {
  it('when many items pass through, then they come out in order across compactions', () => {
    const d = new Deque<number>();
    let next = 0;
    const out: number[] = [];
    for (let round = 0; round < 50; round++) {
      for (let i = 0; i < 100; i++) d.push(next++);
      for (let i = 0; i < 90; i++) out.push(d.shift()!);
    }
    while (d.length) out.push(d.shift()!);
    expect(out).toEqual(Array.from({ length: next }, (_, i) => i));
    expect(d.shift()).toBeUndefined();
  });

  it('when items are put back in front, then they precede the rest in their order', () => {
    const d = new Deque<string>();
    ['c', 'd', 'e'].forEach((x) => d.push(x));
    d.shift();
    d.unshiftAll(['a', 'b']);
    expect(d.slice(10)).toEqual(['a', 'b', 'd', 'e']);
    expect(d.peek()).toBe('a');
    expect(d.drainAll()).toEqual(['a', 'b', 'd', 'e']);
    expect(d.length).toBe(0);
  });
});
