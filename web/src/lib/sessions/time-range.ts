// When, as the Sessions and Audit pages filter it: a preset (the last hour, today, yesterday, the
// last 7 days) or a custom from/to, turned into the instants the hub is asked for. Presets are
// resolved when the page loads, so a shared link to "today" means the reader's today. Days and
// custom times are in the zone the dashboard shows (the viewer's own, or UTC). DOM-free.
import type { TimeZoneChoice } from '../../../../common/time-format.ts';

export const TIME_RANGES = [
  { value: '', label: 'Any time' },
  { value: 'hour', label: 'Last hour' },
  { value: 'today', label: 'Today' },
  { value: 'yesterday', label: 'Yesterday' },
  { value: 'week', label: 'Last 7 days' },
  { value: 'custom', label: 'Custom…' },
] as const;

export type TimeRange = (typeof TIME_RANGES)[number]['value'];

/** A range as a form and a link hold it; from and to only for `custom`, as a datetime-local input writes them. */
export interface RangeChoice {
  range: TimeRange;
  /** '' or `YYYY-MM-DDTHH:MM` (seconds allowed). */
  from: string;
  to: string;
}

/** What the hub is asked for: ISO instants, from inclusive and to exclusive, either open. */
export interface Bounds {
  from?: string;
  to?: string;
}

const HOUR_MS = 3600_000;
const MOMENT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/;

export const isTimeRange = (value: string): value is TimeRange => TIME_RANGES.some((r) => r.value === value);

/** A datetime-local value as an instant in the zone, or null when it is no real moment. */
export function momentIn(text: string, zone: TimeZoneChoice): Date | null {
  const m = MOMENT.exec(text);
  if (!m) return null;
  const [y, mo, d, h, mi, s] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i] ?? 0));
  if (h > 23 || mi > 59 || s > 59) return null;
  const at = zone === 'utc' ? new Date(Date.UTC(y, mo - 1, d, h, mi, s)) : new Date(y, mo - 1, d, h, mi, s);
  const [ay, amo, ad] = zone === 'utc' ? [at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate()] : [at.getFullYear(), at.getMonth(), at.getDate()];
  return ay === y && amo === mo - 1 && ad === d ? at : null;
}

/** The start of the day `offset` days from now's, in the zone. */
function dayStart(now: number, zone: TimeZoneChoice, offset = 0): Date {
  const t = new Date(now);
  return zone === 'utc'
    ? new Date(Date.UTC(t.getUTCFullYear(), t.getUTCMonth(), t.getUTCDate() + offset))
    : new Date(t.getFullYear(), t.getMonth(), t.getDate() + offset);
}

/** The instants a choice stands for at `now`; a custom bound that is no real moment is left open. */
export function resolveRange(choice: RangeChoice, now: number, zone: TimeZoneChoice): Bounds {
  switch (choice.range) {
    case '': return {};
    case 'hour': return { from: new Date(now - HOUR_MS).toISOString() };
    case 'today': return { from: dayStart(now, zone).toISOString() };
    case 'yesterday': return { from: dayStart(now, zone, -1).toISOString(), to: dayStart(now, zone).toISOString() };
    case 'week': return { from: new Date(now - 7 * 24 * HOUR_MS).toISOString() };
    case 'custom': {
      const from = momentIn(choice.from, zone);
      const to = momentIn(choice.to, zone);
      return { ...(from ? { from: from.toISOString() } : {}), ...(to ? { to: to.toISOString() } : {}) };
    }
  }
}

/**
 * Why a custom range cannot be asked for, or null when it can. Wall-clock times compare the same in
 * any zone, so this needs none.
 */
export function rangeProblem(choice: RangeChoice): string | null {
  if (choice.range !== 'custom') return null;
  const from = choice.from ? momentIn(choice.from, 'utc') : undefined;
  const to = choice.to ? momentIn(choice.to, 'utc') : undefined;
  if (from === null || to === null) return 'A custom time is not a real date and time.';
  if (from && to && from.getTime() >= to.getTime()) return '"From" must be before "to".';
  return null;
}

/** A choice read from a link: an unknown range is any time; from and to are kept only for a custom one that makes sense. */
export function checkedRange(range: string, from: string, to: string): RangeChoice {
  if (!isTimeRange(range)) return { range: '', from: '', to: '' };
  if (range !== 'custom') return { range, from: '', to: '' };
  const choice = { range, from: momentIn(from, 'utc') ? from : '', to: momentIn(to, 'utc') ? to : '' };
  return rangeProblem(choice) ? { range, from: '', to: '' } : choice;
}
