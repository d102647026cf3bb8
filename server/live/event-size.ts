// How big a live event is, for the bounds on what feeds hold: the length of its canonical body as
// it came off the bus, remembered for the decoded event when the session's tap decodes it (once,
// for every viewer). An event the tap did not decode is counted at a typical size.
import type { VigilEvent } from '../../common/events/index.ts';

const TYPICAL_BYTES = 1024;
const sizes = new WeakMap<VigilEvent, number>();

export function rememberEventBytes(event: VigilEvent, bytes: number): void {
  sizes.set(event, bytes);
}

export function liveEventBytes(event: VigilEvent): number {
  return sizes.get(event) ?? TYPICAL_BYTES;
}
