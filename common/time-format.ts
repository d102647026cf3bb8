// One way to write a moment, for the dashboard, the audit log and the CLI: `2026-12-07 21:46:19`,
// with milliseconds where order within a second matters (`21:46:19.573`), and the zone it is in
// (`UTC`, or the viewer's own, `CET`, `GMT+5:30`). Twenty-four hours, year first: it sorts as text
// and reads the same in every locale.

export type TimeZoneChoice = 'local' | 'utc';

export interface TimeFormat {
  zone: TimeZoneChoice;
  /** Milliseconds after the seconds. */
  ms?: boolean;
  /** The date in front (default); false for a time of day only, where the date is said elsewhere. */
  date?: boolean;
  /** The zone's name after it (default). */
  zoneName?: boolean;
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** The short name of the local zone at that moment (`CET`, `CEST`, `GMT+5:30`). */
export function localZoneName(at: Date): string {
  const part = new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' }).formatToParts(at).find((p) => p.type === 'timeZoneName');
  return part?.value ?? 'local';
}

export function formatTime(when: string | number | Date, format: TimeFormat): string {
  const at = when instanceof Date ? when : new Date(when);
  if (Number.isNaN(at.getTime())) return '';
  const utc = format.zone === 'utc';
  const [y, mo, d, h, mi, s, ms] = utc
    ? [at.getUTCFullYear(), at.getUTCMonth() + 1, at.getUTCDate(), at.getUTCHours(), at.getUTCMinutes(), at.getUTCSeconds(), at.getUTCMilliseconds()]
    : [at.getFullYear(), at.getMonth() + 1, at.getDate(), at.getHours(), at.getMinutes(), at.getSeconds(), at.getMilliseconds()];
  let text = `${pad(h)}:${pad(mi)}:${pad(s)}${format.ms ? `.${pad(ms, 3)}` : ''}`;
  if (format.date !== false) text = `${y}-${pad(mo)}-${pad(d)} ${text}`;
  if (format.zoneName !== false) text += ` ${utc ? 'UTC' : localZoneName(at)}`;
  return text;
}

/** How long, in words a person reads at a glance: `850 ms`, `42s`, `3m 05s`, `2h 10m`, `3d 4h`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) ms = 0;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${pad(s % 60)}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${pad(m % 60)}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

/** How long ago, for lists that tick: `just now`, `12s ago`, `4m ago`, `3h ago`, `2d ago`. */
export function formatAgo(when: string | number, now: number): string {
  const ms = now - (typeof when === 'number' ? when : Date.parse(when));
  if (!Number.isFinite(ms)) return '';
  if (ms < 5_000) return 'just now';
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s ago`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ago`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ago`;
  return `${Math.floor(h / 24)}d ago`;
}
