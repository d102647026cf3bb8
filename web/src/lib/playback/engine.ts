// The player's engine: a recording played over its recorded times, DOM-free.
//
// It holds a bounded window of events around the playhead (event-window.ts), read page by page
// from /events ahead of the playhead and dropped behind it. A tick moves the playhead by the
// clock (clock.ts: speed, idle gaps compressed) and shows every event it passed: a terminal
// session's terminal channel is drawn on the sink (terminal-channel.ts) as recorded, resizes
// included. A seek asks /seek and lands (landing.ts): the terminal is reset, the keyframe written
// at its size (when the hub has one), then the events after it up to the moment (read on with
// /events when /seek stops short); the window starts again there. A seek the window already covers is done without asking
// (forward on a terminal, either way on a session without one). A live session's end can be
// followed: /events polled every second, each new event shown as it comes.
//
// Its observable state lives in `state`, an object it is given: a rune ($state) in the page
// (player.svelte.ts), a plain object in the unit tests, which run without the Svelte compiler.
// Only scalars live there; lists read `events()`, which changes when `state.version` does (a
// deep rune over thousands of events would proxy each of them).
import type { SessionSummary, SessionTimelineResponse, TimelineMarker } from '../../../../common/api-contract.ts';
import type { VigilEvent } from '../../../../common/events/schema.ts';
import { TerminalChannel, type TerminalSink } from '../terminal-channel.ts';
import { PlaybackClock, stepSpeed, type Speed } from './clock.ts';
import { DEFAULT_LIMITS, EventWindow, type WindowLimits } from './event-window.ts';
import { landAround, landOnTerminal, type Landing } from './landing.ts';
import type { Moment, PlayerSource } from './source.ts';

export type PlayerStatus = 'loading' | 'ready' | 'not-found' | 'failed';

export interface PlaybackState {
  status: PlayerStatus;
  /** Why loading or the last read failed (shown; the player keeps what it has). */
  failure: string;
  playing: boolean;
  speed: Speed;
  skipIdle: boolean;
  /** The playhead, in milliseconds since the session's start. */
  position: number;
  /** The recording's span (ms); grows while the session is live. */
  duration: number;
  /** The seq of the last event shown (0: none). */
  currentSeq: number;
  /** A seek is waiting for the hub. */
  seeking: boolean;
  /** Playing, but the events ahead are still being read. */
  buffering: boolean;
  /** The scrubber is being dragged. */
  scrubbing: boolean;
  /** At the live edge: new events are shown as they are recorded. */
  following: boolean;
  /** The session has not ended. */
  live: boolean;
  /** An SSH session: there is a terminal to draw. */
  isTerminal: boolean;
  /** Changes whenever the session, the markers or the events held change. */
  version: number;
}

export function newPlaybackState(): PlaybackState {
  return {
    status: 'loading', failure: '', playing: false, speed: 1, skipIdle: false, position: 0, duration: 0, currentSeq: 0,
    seeking: false, buffering: false, scrubbing: false, following: false, live: false, isTerminal: false, version: 0,
  };
}

/** Timers and clocks (fakes in tests). */
export interface PlaybackEnv {
  /** A monotonic clock (ms) for the playhead. */
  now(): number;
  /** The wall clock (ms since the epoch), for how long a live session has run. */
  wallClock(): number;
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const browserEnv: PlaybackEnv = {
  now: () => performance.now(),
  wallClock: () => Date.now(),
  setInterval: (fn, ms) => setInterval(fn, ms),
  clearInterval: (h) => clearInterval(h as ReturnType<typeof setInterval>),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

export interface EngineOptions {
  env?: PlaybackEnv;
  limits?: WindowLimits;
}

/** How often the playhead moves while playing. */
export const TICK_MS = 33;
/** A tick never moves the playhead by more than this much wall time (a throttled tab). */
const MAX_TICK_MS = 500;
/** While dragging, at most one seek this often. */
export const SCRUB_EVERY_MS = 150;
/** At the live edge, how often new events are read. */
export const FOLLOW_EVERY_MS = 1000;
/** While live, how often the summary is read again (its end, its length). */
const LIVE_REFRESH_MS = 5000;
/** A terminal seek forward by at most this many events held is drawn without asking the hub. */
const LOCAL_SEEK_MAX = 2000;
/** A seek on a session without a terminal also reads this many events before the moment (its list). */
const BEFORE_MOMENT = 100;
/** Read from the start to learn which channel is the terminal (before a keyframe hides it). */
const FIRST_EVENTS = 64;

const errorMessage = (err: unknown) => (err instanceof Error ? err.message : String(err));
const statusOf = (err: unknown) => (typeof err === 'object' && err !== null && 'status' in err ? Number((err as { status: unknown }).status) : 0);

export class PlaybackEngine {
  session: SessionSummary | null = null;
  markers: TimelineMarker[] = [];
  markersTruncated = false;
  keyframes: number[] = [];

  readonly #env: PlaybackEnv;
  readonly #clock = new PlaybackClock();
  readonly #window: EventWindow;
  #startMs = 0;
  #sink: TerminalSink | null = null;
  #sinkAttached: () => void = () => undefined;
  readonly #sinkReady = new Promise<void>((resolve) => (this.#sinkAttached = resolve));
  /** The channel the terminal is on, when the first events name it. */
  #terminalChannel: number | null = null;
  #channel = new TerminalChannel();
  /** Where the gap being played started: the last event shown, or the moment sought. */
  #anchorMs = 0;
  /** Each seek starts a new generation: answers to an older one are dropped. */
  #gen = 0;
  #filling: Promise<void> | null = null;
  #lastTick = 0;
  #ticker: unknown = null;
  #follower: unknown = null;
  #polling = false;
  #liveTimer: unknown = null;
  #scrubTimer: unknown = null;
  #lastLiveRefresh = 0;
  #destroyed = false;

  constructor(readonly state: PlaybackState, private readonly source: PlayerSource, opts: EngineOptions = {}) {
    this.#env = opts.env ?? browserEnv;
    this.#window = new EventWindow(opts.limits ?? DEFAULT_LIMITS);
  }

  /** The events held around the playhead, in seq order (read again when state.version changes). */
  events(): readonly VigilEvent[] {
    return this.#window.events;
  }

  /** Milliseconds since the session's start at which an event was recorded. */
  timeOf(e: { time: string }): number {
    return Date.parse(e.time) - this.#startMs;
  }

  /** Where the terminal is drawn; the first seek waits for it on a terminal session. */
  attach(sink: TerminalSink): void {
    this.#sink = sink;
    this.#sinkAttached();
  }

  /** Reads the timeline, then shows the moment (default: the start). */
  async load(at: Moment = { ms: 0 }): Promise<void> {
    const s = this.state;
    try {
      const tl = await this.source.timeline();
      if (this.#destroyed) return;
      this.#takeTimeline(tl);
      if (s.isTerminal) {
        const first = await this.source.events(1, FIRST_EVENTS);
        const opened = first.events.find((e) => e.type === 'ssh.shell' || e.type === 'ssh.exec');
        if (opened && (opened.type === 'ssh.shell' || opened.type === 'ssh.exec')) this.#terminalChannel = opened.data.channel;
      }
      s.status = 'ready';
      if (s.live) this.#liveTimer = this.#env.setInterval(() => void this.#liveRefresh(), 1000);
      if (s.isTerminal) await this.#sinkReady;
      if (this.#destroyed) return;
      await this.seekTo(at);
    } catch (err) {
      s.status = statusOf(err) === 404 ? 'not-found' : 'failed';
      s.failure = errorMessage(err);
    }
  }

  destroy(): void {
    this.#destroyed = true;
    this.#gen += 1;
    this.#stopTicker();
    this.#stopFollowing();
    if (this.#liveTimer !== null) this.#env.clearInterval(this.#liveTimer);
    if (this.#scrubTimer !== null) this.#env.clearTimeout(this.#scrubTimer);
  }

  play(): void {
    const s = this.state;
    if (s.status !== 'ready' || s.playing) return;
    if (!s.live && !this.#window.peek() && this.#window.endReached && s.position >= s.duration) {
      // At the end: play again from the start.
      void this.seekTo({ ms: 0 });
    }
    this.#run();
  }

  pause(): void {
    this.state.playing = false;
    this.state.buffering = false;
    this.#stopTicker();
    this.#stopFollowing();
  }

  toggle(): void {
    if (this.state.playing) this.pause();
    else this.play();
  }

  setSpeed(speed: Speed): void {
    this.#clock.speed = speed;
    this.state.speed = speed;
  }

  faster(): void {
    this.setSpeed(stepSpeed(this.state.speed, 1));
  }

  slower(): void {
    this.setSpeed(stepSpeed(this.state.speed, -1));
  }

  setSkipIdle(on: boolean): void {
    this.#clock.skipIdle = on;
    this.state.skipIdle = on;
  }

  /** Moves the playhead by the wall time since the last tick and shows what it passed. */
  tick(): void {
    const s = this.state;
    const now = this.#env.now();
    const wall = Math.min(MAX_TICK_MS, now - this.#lastTick);
    this.#lastTick = now;
    if (!s.playing || s.seeking || s.scrubbing || s.following || s.status !== 'ready') return;
    const next = this.#window.peek();
    if (!next) {
      if (!this.#window.endReached) {
        s.buffering = true;
        void this.#fill();
      } else if (s.live) {
        this.#follow();
      } else {
        s.position = Math.min(s.duration, s.position + wall * s.speed);
        if (s.position >= s.duration) this.pause();
      }
      return;
    }
    s.buffering = false;
    let position = this.#clock.advance(s.position, wall, this.#anchorMs, this.timeOf(next));
    this.#showUntil(position);
    // Not past what has been read: the playhead waits at the last event for the next page.
    if (!this.#window.peek() && !this.#window.endReached) position = Math.min(position, Math.max(this.#anchorMs, s.position));
    s.position = position;
    void this.#fill();
  }

  /** Shows the next event (and pauses). */
  async step(): Promise<void> {
    this.pause();
    if (this.state.status !== 'ready' || this.state.seeking) return;
    if (!this.#window.peek() && !this.#window.endReached) await this.#fill();
    const e = this.#window.peek();
    if (!e) return;
    this.#showUntil(this.timeOf(e), e.seq);
    this.state.position = Math.max(0, this.timeOf(e));
    void this.#fill();
  }

  /** Seeks by an offset from the playhead (ms). */
  seekBy(deltaMs: number): Promise<void> {
    return this.seekTo({ ms: this.state.position + deltaMs });
  }

  /** Seeks to a fraction (0–1) of the recording's span. */
  seekFraction(fraction: number): Promise<void> {
    return this.seekTo({ ms: Math.min(1, Math.max(0, fraction)) * this.state.duration });
  }

  /** Shows the recording as it was at the moment: the screen at once, playing on from there. */
  async seekTo(at: Moment): Promise<void> {
    const s = this.state;
    if (s.status !== 'ready') return;
    const gen = ++this.#gen;
    this.#filling = null;
    this.#stopFollowing();
    const targetMs = 'ms' in at ? Math.min(Math.max(0, at.ms), s.duration) : null;
    if (targetMs !== null && !s.scrubbing) s.position = targetMs;
    if (this.#seekHeld(at, targetMs)) {
      this.#bump();
      void this.#fill();
      return;
    }
    s.seeking = true;
    try {
      const r = await this.source.seek(targetMs !== null ? { ms: targetMs } : at);
      if (gen !== this.#gen) return;
      const channel = new TerminalChannel(this.#terminalChannel);
      const ctx = { source: this.source, timeOf: (e: { time: string }) => this.timeOf(e), targetMs, keep: this.#window.limits.keepBehind, stale: () => gen !== this.#gen };
      let landing: Landing | null;
      if (r.seq === null) {
        // Nothing recorded there (an empty recording).
        this.#sink?.reset();
        landing = { shown: [], pending: [], nextFrom: 1, atMs: targetMs ?? 0, currentSeq: 0 };
      } else if (s.isTerminal) {
        landing = await landOnTerminal({ ...r, seq: r.seq }, this.#sink, channel, ctx);
      } else {
        landing = await landAround({ ...r, seq: r.seq }, BEFORE_MOMENT, ctx);
      }
      if (!landing) return;
      this.#channel = channel;
      this.#window.reset(landing.nextFrom, landing.shown, landing.pending);
      this.#settle(landing.atMs, landing.currentSeq);
    } catch (err) {
      if (gen === this.#gen) s.failure = errorMessage(err);
    } finally {
      if (gen === this.#gen) {
        s.seeking = false;
        this.#lastTick = this.#env.now();
        this.#bump();
        void this.#fill();
      }
    }
  }

  /** The scrubber moved while dragged: the playhead follows at once, the screen every so often. */
  scrub(ms: number): void {
    const s = this.state;
    s.scrubbing = true;
    s.position = Math.min(Math.max(0, ms), s.duration);
    this.#scrubTimer ??= this.#env.setTimeout(() => {
      this.#scrubTimer = null;
      if (s.scrubbing) void this.seekTo({ ms: s.position });
    }, SCRUB_EVERY_MS);
  }

  /** The drag ended here (a time, or a marker's event): seek now. */
  release(at: Moment): Promise<void> {
    if (this.#scrubTimer !== null) this.#env.clearTimeout(this.#scrubTimer);
    this.#scrubTimer = null;
    this.state.scrubbing = false;
    return this.seekTo(at);
  }

  /** To the live edge and following it (an ended session: to its end). */
  async goLive(): Promise<void> {
    const s = this.state;
    if (s.status !== 'ready' || !this.session) return;
    if (s.live) {
      try {
        this.#takeSession(await this.source.session());
      } catch (err) {
        s.failure = errorMessage(err);
      }
    }
    await this.seekTo({ seq: Math.max(1, this.session.lastSeq) });
    if (!s.live) return;
    this.#follow();
    this.#run();
  }

  #takeTimeline(tl: SessionTimelineResponse): void {
    const s = this.state;
    const first = tl.segments[0]?.firstTime ?? tl.session.startedAt ?? new Date(this.#env.wallClock()).toISOString();
    this.#startMs = Date.parse(tl.session.startedAt ?? first);
    this.markers = tl.markers;
    this.markersTruncated = tl.markersTruncated;
    this.keyframes = tl.keyframes;
    s.isTerminal = tl.session.protocol === 'ssh';
    const last = tl.segments.at(-1)?.lastTime;
    if (last) s.duration = Math.max(s.duration, Date.parse(last) - this.#startMs);
    this.#takeSession(tl.session);
  }

  #takeSession(session: SessionSummary): void {
    const s = this.state;
    this.session = session;
    s.live = !session.endedAt;
    if (session.endedAt) s.duration = Math.max(s.duration, Date.parse(session.endedAt) - this.#startMs);
    else s.duration = Math.max(s.duration, this.#env.wallClock() - this.#startMs);
    if (!s.live) {
      if (this.#liveTimer !== null) this.#env.clearInterval(this.#liveTimer);
      this.#liveTimer = null;
      if (s.following) {
        this.#stopFollowing();
        s.position = s.duration;
      }
    }
    this.#bump();
  }

  /** Each second while live: the span grows with the wall clock; the summary is read now and then. */
  async #liveRefresh(): Promise<void> {
    const s = this.state;
    if (!s.live || this.#destroyed) return;
    s.duration = Math.max(s.duration, this.#env.wallClock() - this.#startMs);
    if (s.following) s.position = s.duration;
    const now = this.#env.now();
    if (now - this.#lastLiveRefresh < LIVE_REFRESH_MS) return;
    this.#lastLiveRefresh = now;
    try {
      this.#takeSession(await this.source.session());
    } catch {
      // The next refresh tries again.
    }
  }

  /** Shows held events up to `ms` (and, when given, up to and including seq `throughSeq` only). */
  #showUntil(ms: number, throughSeq = Infinity): void {
    let shown: VigilEvent | undefined;
    for (let e = this.#window.peek(); e && e.seq <= throughSeq && this.timeOf(e) <= ms; e = this.#window.peek()) {
      this.#window.take();
      this.#draw(e);
      shown = e;
    }
    if (!shown) return;
    this.state.currentSeq = shown.seq;
    this.#anchorMs = Math.max(this.#anchorMs, this.timeOf(shown));
    this.state.duration = Math.max(this.state.duration, this.timeOf(shown));
  }

  #draw(e: VigilEvent): void {
    if (this.#sink) this.#channel.draw(e, this.#sink);
    if (e.type === 'session.end' && this.state.live) void this.source.session().then((x) => this.#takeSession(x), () => undefined);
  }

  /** A seek the window covers: no question to the hub. */
  #seekHeld(at: Moment, targetMs: number | null): boolean {
    const w = this.#window;
    if (!w.events.length || this.state.seeking) return false;
    let target: number;
    if ('seq' in at) {
      const i = w.indexOfSeq(at.seq);
      if (i === -1) return false;
      target = i + 1;
    } else {
      target = w.indexAfter(targetMs!, (e) => this.timeOf(e));
      // Beyond what is held, or before it with earlier events not held: ask.
      if (target === w.events.length && !w.endReached) return false;
      if (target === 0 && w.events[0].seq > 1) return false;
    }
    if (this.state.isTerminal) {
      if (target < w.cursor || target - w.cursor > LOCAL_SEEK_MAX) return false;
      const last = w.events[target - 1];
      if (last) this.#showUntil(this.timeOf(last), last.seq);
    } else {
      w.cursor = target;
      const last = w.events[target - 1];
      this.state.currentSeq = last?.seq ?? w.events[0].seq - 1;
    }
    const last = w.events[target - 1];
    this.#settle(targetMs ?? (last ? this.timeOf(last) : 0), this.state.currentSeq);
    return true;
  }

  #settle(atMs: number, currentSeq: number): void {
    const s = this.state;
    if (!s.scrubbing) s.position = Math.max(0, atMs);
    s.currentSeq = currentSeq;
    this.#anchorMs = Math.max(0, atMs);
  }

  /** Reads pages ahead of the playhead until enough wait there (one reader at a time). */
  #fill(): Promise<void> {
    if (this.#filling) return this.#filling;
    if (!this.#window.wantsMore() || this.state.status !== 'ready') return Promise.resolve();
    const gen = this.#gen;
    const run = (async () => {
      try {
        while (gen === this.#gen && this.#window.wantsMore()) {
          const page = await this.source.events(this.#window.nextFrom, this.#window.limits.page);
          if (gen !== this.#gen) return;
          this.#window.add(page.events, page.next);
          this.#noteRead(page.events);
          if (!page.events.length) break;
        }
      } catch (err) {
        if (gen === this.#gen) this.state.failure = errorMessage(err);
      } finally {
        if (gen === this.#gen) this.#filling = null;
      }
    })();
    this.#filling = run;
    return run;
  }

  #noteRead(events: readonly VigilEvent[]): void {
    const last = events.at(-1);
    if (last) this.state.duration = Math.max(this.state.duration, this.timeOf(last));
    this.#bump();
  }

  #follow(): void {
    const s = this.state;
    s.following = true;
    s.buffering = false;
    this.#follower ??= this.#env.setInterval(() => void this.#poll(), FOLLOW_EVERY_MS);
    void this.#poll();
  }

  /** At the live edge: what was recorded since, shown at once. */
  async #poll(): Promise<void> {
    if (this.#polling || !this.state.following) return;
    this.#polling = true;
    const gen = this.#gen;
    try {
      const page = await this.source.events(this.#window.nextFrom, this.#window.limits.page);
      if (gen !== this.#gen || !this.state.following) return;
      this.#window.add(page.events, page.next);
      this.#noteRead(page.events);
      this.#showUntil(Infinity);
      this.state.position = Math.max(this.state.position, this.#anchorMs);
    } catch (err) {
      if (gen === this.#gen) this.state.failure = errorMessage(err);
    } finally {
      this.#polling = false;
    }
  }

  #stopFollowing(): void {
    this.state.following = false;
    if (this.#follower !== null) this.#env.clearInterval(this.#follower);
    this.#follower = null;
  }

  #run(): void {
    this.state.playing = true;
    this.#lastTick = this.#env.now();
    this.#ticker ??= this.#env.setInterval(() => this.tick(), TICK_MS);
  }

  #stopTicker(): void {
    if (this.#ticker !== null) this.#env.clearInterval(this.#ticker);
    this.#ticker = null;
  }

  #bump(): void {
    this.state.version += 1;
  }
}
