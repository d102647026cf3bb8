// The durations the request form offers for a target: the usual steps up to the target's
// maximum, with its default and its maximum always among them, the default chosen first.
import type { TargetView } from '../../../../common/api-contract.ts';

const STEPS = ['15m', '30m', '1h', '2h', '4h', '8h', '12h', '24h'];

/** `90s`, `30m`, `8h` in milliseconds (the config's forms); NaN for anything else. */
export function durationMs(text: string): number {
  const m = /^(\d+)(ms|s|m|h)$/.exec(text);
  if (!m) return Number.NaN;
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
}

export function grantDurations(target: Pick<TargetView, 'grant'> | undefined): { options: string[]; chosen: string } {
  if (!target) return { options: STEPS, chosen: '1h' };
  const max = durationMs(target.grant.maxDuration);
  const options = [...new Set([...STEPS.filter((d) => durationMs(d) <= max), target.grant.defaultDuration, target.grant.maxDuration])]
    .sort((a, b) => durationMs(a) - durationMs(b));
  return { options, chosen: target.grant.defaultDuration };
}

/** A grant's length in the form the form offers (`30m`, `2h`, `90s`). */
export function shortDuration(ms: number | null): string {
  if (ms === null) return '';
  if (ms >= 3_600_000 && ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms >= 60_000) return `${Math.round(ms / 60_000)}m`;
  return `${Math.round(ms / 1000)}s`;
}
