// Find in a recording: which of its hits (in seq order) Next and Previous go to from the playhead,
// as a browser's find does from the caret, wrapping at either end. When the playhead is still on
// the hit last gone to, they step from that hit (several hits may share one event). DOM-free.

export interface Positioned {
  seq: number;
}

/** True when the playhead is on the hit last gone to. */
function onCurrent(hits: readonly Positioned[], current: number | null, at: number): current is number {
  return current !== null && hits[current]?.seq === at;
}

/** The index of the hit after the playhead (`at`: the seq of the last event shown), or null without hits. */
export function nextHit(hits: readonly Positioned[], current: number | null, at: number): number | null {
  if (hits.length === 0) return null;
  if (onCurrent(hits, current, at)) return (current + 1) % hits.length;
  const i = hits.findIndex((h) => h.seq > at);
  return i === -1 ? 0 : i;
}

/** The index of the hit before the playhead, or null without hits. */
export function previousHit(hits: readonly Positioned[], current: number | null, at: number): number | null {
  if (hits.length === 0) return null;
  if (onCurrent(hits, current, at)) return (current - 1 + hits.length) % hits.length;
  for (let i = hits.length - 1; i >= 0; i--) if (hits[i].seq < at) return i;
  return hits.length - 1;
}

/** "3 of 17" (or "3 of 500+" when not every hit was read), "17 hits" before any, "no hits". */
export function hitLabel(current: number | null, total: number, more: boolean): string {
  if (total === 0) return 'no hits';
  const count = `${total}${more ? '+' : ''}`;
  return current === null ? `${count} hit${total === 1 && !more ? '' : 's'}` : `${current + 1} of ${count}`;
}
