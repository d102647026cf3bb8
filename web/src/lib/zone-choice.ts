// The viewer's choice of zone for times (their own, or UTC), remembered in this browser. Plain
// module: text helpers outside components read it too (lib/time.svelte.ts keeps it reactive).
import type { TimeZoneChoice } from '../../../common/time-format.ts';

const STORAGE_KEY = 'vigil.timeZone';

export function rememberedZone(): TimeZoneChoice {
  try {
    return localStorage.getItem(STORAGE_KEY) === 'utc' ? 'utc' : 'local';
  } catch {
    return 'local';
  }
}

export function rememberZone(zone: TimeZoneChoice): void {
  try {
    localStorage.setItem(STORAGE_KEY, zone);
  } catch {
    // Private windows may refuse storage: the choice holds for this page.
  }
}
