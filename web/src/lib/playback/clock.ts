// The player's clock: how far the playhead moves over recorded time for a stretch of wall time,
// at a speed, with idle gaps compressed when asked. Times are milliseconds since the session's
// start. DOM-free.

/** The speeds offered, slowest first. */
export const SPEEDS = [0.25, 0.5, 1, 2, 4, 8, 16] as const;
export type Speed = (typeof SPEEDS)[number];

/** With idle skipping on, a gap between two events longer than this plays as this long. */
export const IDLE_LIMIT_MS = 2000;

/** The next speed up (`step` 1) or down (-1), staying within SPEEDS. */
export function stepSpeed(speed: number, step: 1 | -1): Speed {
  const at = SPEEDS.findIndex((s) => s >= speed);
  const here = at === -1 ? SPEEDS.length - 1 : SPEEDS[at] === speed ? at : step === 1 ? at - 1 : at;
  return SPEEDS[Math.min(SPEEDS.length - 1, Math.max(0, here + step))];
}

export const isSpeed = (value: number): value is Speed => (SPEEDS as readonly number[]).includes(value);

export class PlaybackClock {
  speed: Speed = 1;
  skipIdle = false;

  constructor(readonly idleLimitMs = IDLE_LIMIT_MS) {}

  /**
   * The playhead after `wallMs` of wall time from `position`, where the gap being played started
   * at `gapStartMs` (the last event shown, or the moment sought) and ends at `nextMs`, the next
   * event (null: none known yet). With idle skipping, once the playhead is `idleLimitMs` into a
   * longer gap it jumps to the gap's end.
   */
  advance(position: number, wallMs: number, gapStartMs: number, nextMs: number | null): number {
    const moved = position + Math.max(0, wallMs) * this.speed;
    if (!this.skipIdle || nextMs === null) return moved;
    if (nextMs - gapStartMs > this.idleLimitMs && moved >= gapStartMs + this.idleLimitMs) return Math.max(moved, nextMs);
    return moved;
  }
}
