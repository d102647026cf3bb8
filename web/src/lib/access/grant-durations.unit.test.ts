import { describe, expect, it } from 'vitest';
import { durationMs, grantDurations, shortDuration } from './grant-durations.ts';

describe('grant durations offered', () => {
  it('when a target defaults to 30m with a 2h maximum, then 30m is chosen and nothing past 2h is offered', () => {
    expect(grantDurations({ grant: { defaultDuration: '30m', maxDuration: '2h' } })).toEqual({ options: ['15m', '30m', '1h', '2h'], chosen: '30m' });
  });

  it('when the default and maximum are not usual steps, then they are offered in order', () => {
    expect(grantDurations({ grant: { defaultDuration: '45m', maxDuration: '90m' } }).options).toEqual(['15m', '30m', '45m', '1h', '90m']);
  });

  it('when durations are read and written, then the config forms round-trip', () => {
    expect(durationMs('90s')).toBe(90_000);
    expect(durationMs('soon')).toBeNaN();
    expect([shortDuration(7_200_000), shortDuration(1_800_000), shortDuration(45_000), shortDuration(null)]).toEqual(['2h', '30m', '45s', '']);
  });
});
