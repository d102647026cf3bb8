// Where a seek lands, from the hub's answer to /seek: what is on screen at the moment (shown),
// what was read past it (pending: it plays next), where reading goes on, and the playhead.
// A terminal is drawn anew: the keyframe restored (or a blank terminal), then the events after it
// up to the moment, read on page by page when /seek stopped short. DOM-free.
import type { SeekResponse } from '../../../../common/api-contract.ts';
import type { VigilEvent } from '../../../../common/events/schema.ts';
import type { TerminalChannel, TerminalSink } from '../terminal-channel.ts';
import { READ_MAX, type PlayerSource } from './source.ts';

export interface Landing {
  shown: VigilEvent[];
  pending: VigilEvent[];
  /** Where the next read starts. */
  nextFrom: number;
  /** The playhead (ms since the start). */
  atMs: number;
  /** The last event on screen (0: none). */
  currentSeq: number;
}

export interface LandingContext {
  source: PlayerSource;
  timeOf(e: { time: string }): number;
  /** The moment sought by time (null: by seq). */
  targetMs: number | null;
  /** How many shown events to keep (the window keeps no more behind the playhead). */
  keep: number;
  /** A newer seek started: stop, land nowhere. */
  stale(): boolean;
}

/** Whether an event is on screen at the moment: a time's moment is the first event at or after it, which waits when later. */
function upToMoment(seq: number, ctx: LandingContext): (e: VigilEvent) => boolean {
  return (e) => e.seq < seq || (e.seq === seq && (ctx.targetMs === null || ctx.timeOf(e) <= ctx.targetMs));
}

/** A terminal session: reset, keyframe, the events after it up to the moment (null when stale). */
export async function landOnTerminal(r: SeekResponse & { seq: number }, sink: TerminalSink | null, channel: TerminalChannel, ctx: LandingContext): Promise<Landing | null> {
  const onScreen = upToMoment(r.seq, ctx);
  if (r.keyframe) sink?.restore(r.keyframe);
  else sink?.reset();
  let shown: VigilEvent[] = [];
  const pending: VigilEvent[] = [];
  const take = (events: readonly VigilEvent[]) => {
    for (const e of events) {
      if (!onScreen(e)) {
        pending.push(e);
        continue;
      }
      if (sink) channel.draw(e, sink);
      shown.push(e);
    }
    if (shown.length > 2 * ctx.keep) shown = shown.slice(-ctx.keep);
  };
  take(r.events);
  for (let next = r.next; next !== null && next <= r.seq;) {
    const page = await ctx.source.events(next, Math.min(READ_MAX, r.seq - next + 1));
    if (ctx.stale()) return null;
    take(page.events);
    next = page.events.length ? page.next : null;
  }
  const last = shown.at(-1);
  const currentSeq = Math.max(last?.seq ?? 0, r.keyframe?.seq ?? 0);
  const atMs = ctx.targetMs ?? (last ? ctx.timeOf(last) : r.keyframe ? ctx.timeOf(r.keyframe) : 0);
  return { shown, pending, nextFrom: currentSeq + 1, atMs, currentSeq };
}

/** A session without a terminal: the events before the moment (what its list shows) and from it on (null when stale). */
export async function landAround(r: SeekResponse & { seq: number }, before: number, ctx: LandingContext): Promise<Landing | null> {
  const onScreen = upToMoment(r.seq, ctx);
  const firstHeld = r.events[0]?.seq ?? r.seq;
  const from = Math.max(1, firstHeld - before);
  let earlier: VigilEvent[] = [];
  if (from < firstHeld) {
    earlier = (await ctx.source.events(from, firstHeld - from)).events.filter((e) => e.seq < firstHeld);
    if (ctx.stale()) return null;
  }
  const shown = [...earlier, ...r.events.filter(onScreen)];
  const last = shown.at(-1);
  return {
    shown,
    pending: r.events.filter((e) => !onScreen(e)),
    nextFrom: (r.events.at(-1)?.seq ?? r.seq - 1) + 1,
    atMs: ctx.targetMs ?? (last ? ctx.timeOf(last) : 0),
    currentSeq: last?.seq ?? 0,
  };
}
