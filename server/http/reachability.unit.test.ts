import { describe, expect, it } from 'vitest';
import { Reachability } from './reachability.ts';

function setup(results: boolean[]) {
  const clock = { t: 0 };
  let probes = 0;
  const reach = new Reachability({
    probe: async () => {
      probes++;
      if (!results.shift()) throw new Error('unreachable');
    },
    freshMs: 1000,
    retryMs: 100,
    now: () => clock.t,
  });
  return { reach, clock, probes: () => probes };
}

describe('Reachability', () => {
  it('when a probe succeeded, then the answer is trusted for freshMs without probing again', async () => {
    const { reach, clock, probes } = setup([true, false]);
    expect(await reach.check()).toBe(true);
    clock.t = 999;
    expect(await reach.check()).toBe(true);
    expect(probes()).toBe(1);
    clock.t = 1000;
    expect(await reach.check()).toBe(false);
    expect(probes()).toBe(2);
  });

  it('when a probe failed, then it probes again after retryMs', async () => {
    const { reach, clock, probes } = setup([false, true]);
    expect(await reach.check()).toBe(false);
    clock.t = 99;
    expect(await reach.check()).toBe(false);
    clock.t = 100;
    expect(await reach.check()).toBe(true);
    expect(probes()).toBe(2);
  });

  it('when real use observed the dependency, then that counts as a probe', async () => {
    const { reach, probes } = setup([]);
    reach.observe(true);
    expect(await reach.check()).toBe(true);
    reach.observe(false);
    expect(await reach.check()).toBe(false);
    expect(probes()).toBe(0);
  });

  it('when several callers ask while a probe runs, then they share it', async () => {
    const { reach, probes } = setup([true]);
    expect(await Promise.all([reach.check(), reach.check(), reach.check()])).toEqual([true, true, true]);
    expect(probes()).toBe(1);
  });
});
