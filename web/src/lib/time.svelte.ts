// Time as the dashboard shows it: every moment in the viewer's zone or in UTC (a toggle in the
// navigation, remembered in this browser), always with the zone's name, in the one format the
// audit log and the CLI use too (common/time-format.ts). `clock.now` ticks once a second, so
// relative times ("12s ago") and running durations move on by themselves.
import { formatAgo, formatDuration, formatTime, localZoneName, type TimeZoneChoice } from '../../../common/time-format.ts';
import { rememberedZone, rememberZone } from './zone-choice.ts';

class Clock {
  zone = $state<TimeZoneChoice>(rememberedZone());
  now = $state(Date.now());

  constructor() {
    // One timer for the whole page; pages that show no relative time pay one cheap update a second.
    if (typeof window !== 'undefined') window.setInterval(() => (this.now = Date.now()), 1000);
  }

  setZone(zone: TimeZoneChoice): void {
    this.zone = zone;
    rememberZone(zone);
  }

  /** The name the current choice goes by (`UTC`, or the local zone's `CET`). */
  get zoneName(): string {
    return this.zone === 'utc' ? 'UTC' : localZoneName(new Date(this.now));
  }
}

export const clock = new Clock();

/** A moment, in the chosen zone, with its zone: `2026-12-07 21:46:19 UTC`. `ms` where order within a second matters. */
export function at(when: string | number | null | undefined, opts: { ms?: boolean; date?: boolean } = {}): string {
  if (when === null || when === undefined || when === '') return '';
  return formatTime(when, { zone: clock.zone, ms: opts.ms, date: opts.date });
}

/** A moment's ISO text for a <time datetime>: machines and screen readers get the exact instant. */
export function isoOf(when: string | number): string {
  const d = new Date(when);
  return Number.isNaN(d.getTime()) ? '' : d.toISOString();
}

/** How long ago, ticking (`12s ago`). */
export function ago(when: string | number | null | undefined): string {
  if (when === null || when === undefined || when === '') return '';
  return formatAgo(when, clock.now);
}

/** How long from one moment to another (or to now, ticking). */
export function lasted(from: string | number, to?: string | number | null): string {
  const start = typeof from === 'number' ? from : Date.parse(from);
  const end = to === null || to === undefined ? clock.now : typeof to === 'number' ? to : Date.parse(to);
  return formatDuration(end - start);
}
