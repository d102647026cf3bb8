import { formatTime } from '../../../common/time-format.ts';
import { rememberedZone } from './zone-choice.ts';

// Everything shown from a recording is text (Svelte escapes it); this also makes control
// characters visible, so terminal escapes or a NUL in a value cannot hide or disguise anything.
export function printable(value: string | null | undefined): string {
  if (value === null || value === undefined) return '∅';
  // eslint-disable-next-line no-control-regex
  return value.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u{${c.charCodeAt(0).toString(16)}}`);
}

/**
 * A moment in the dashboard's one format, in the zone the viewer chose, for text made once (an
 * outcome's sentence). Components use lib/time.svelte.ts's `at`, which follows a change of zone.
 */
export function when(iso: string | null | undefined): string {
  return iso ? formatTime(iso, { zone: rememberedZone() }) : '';
}
