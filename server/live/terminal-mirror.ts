// The current screen of live terminal sessions, for viewers who join late: the hub keeps a
// headless terminal per watched SSH session, fed the session's terminal output and resizes in seq
// order (its own ViewerFeed: the store's backlog, then the live tail), and hands a joining viewer
// the screen serialized with the seq it shows. The viewer then needs only what comes after that
// seq, whatever the length of the session before it.
//
// One terminal per session: the first channel that asked for a shell or command (or, without
// one, the first that printed; terminal-channel.ts). The screen is at the engineer's size, taken
// from the pty and its resizes. A mirror nobody asked for in IDLE_MS is dropped; the next viewer
// builds it again.
import type { VigilEvent } from '../../common/events/index.ts';
import type { ScreenSnapshot } from '../../common/live/contract.ts';
import type { Logger } from '../../common/log.ts';
import type { RecordingStore } from '../recordings/store/recording-store.ts';
import { VirtualTerminal } from '../recordings/terminal/virtual-terminal.ts';
import { DEFAULT_TERMINAL_SIZE, TerminalChannel } from '../../common/terminal-channel.ts';
import type { SessionTaps } from './session-taps.ts';
import { ViewerFeed } from './viewer-feed.ts';

const IDLE_MS = 5 * 60_000;

class TerminalMirror {
  private screen: VirtualTerminal | null = null;
  private readonly terminal = new TerminalChannel();
  /** The last seq whose effect the screen shows (every event up to it was applied). */
  private applied = 0;
  private readonly feed: ViewerFeed;
  private release: (() => void) | null = null;
  readonly ready: Promise<void>;
  lastUsed = Date.now();

  constructor(sessionId: string, store: RecordingStore, taps: SessionTaps) {
    const feed = new ViewerFeed({
      fromSeq: 1,
      readStored: async (from, limit) => (await store.readEvents(sessionId, from, limit)).map((s) => s.event),
      deliver: (events) => events.forEach((e) => this.apply(e)),
      reportGap: () => undefined,
    });
    this.feed = feed;
    this.ready = (async () => {
      this.release = await taps.acquire(sessionId, `mirror:${sessionId}`, feed, false);
      await feed.start();
    })();
  }

  private apply(e: VigilEvent): void {
    const step = this.terminal.read(e);
    if (step?.type === 'open') this.open(step.size);
    else if (step?.type === 'output') this.open(DEFAULT_TERMINAL_SIZE).write(step.text);
    else if (step?.type === 'resize') this.screen?.resize(step.cols, step.rows);
    this.applied = e.seq;
  }

  private open(size: { cols: number; rows: number }): VirtualTerminal {
    this.screen ??= new VirtualTerminal(size.cols, size.rows);
    return this.screen;
  }

  async snapshot(sessionId: string): Promise<ScreenSnapshot | null> {
    this.lastUsed = Date.now();
    await this.ready;
    const screen = this.screen;
    if (!screen || this.terminal.channel === null) return null;
    return { sessionId, seq: this.applied, channel: this.terminal.channel, cols: screen.cols, rows: screen.rows, data: screen.serialize() };
  }

  dispose(): void {
    this.feed.close();
    this.release?.();
    this.screen?.dispose();
  }
}

export class TerminalMirrors {
  private readonly mirrors = new Map<string, TerminalMirror>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly store: RecordingStore, private readonly taps: SessionTaps, private readonly log: Logger) {
    this.sweeper = setInterval(() => this.sweep(), 30_000);
    this.sweeper.unref();
  }

  /** The session's current screen, or null when it has shown no terminal (yet). */
  async snapshot(sessionId: string): Promise<ScreenSnapshot | null> {
    let mirror = this.mirrors.get(sessionId);
    if (!mirror) {
      mirror = new TerminalMirror(sessionId, this.store, this.taps);
      this.mirrors.set(sessionId, mirror);
      mirror.ready.catch((err: Error) => {
        this.log.warn({ err: err.message, sessionId }, 'terminal mirror failed');
        this.drop(sessionId, mirror!);
      });
    }
    return mirror.snapshot(sessionId);
  }

  private drop(sessionId: string, mirror: TerminalMirror): void {
    if (this.mirrors.get(sessionId) === mirror) this.mirrors.delete(sessionId);
    mirror.dispose();
  }

  private sweep(): void {
    const now = Date.now();
    for (const [id, mirror] of this.mirrors) if (now - mirror.lastUsed > IDLE_MS) this.drop(id, mirror);
  }

  close(): void {
    clearInterval(this.sweeper);
    for (const [id, mirror] of this.mirrors) this.drop(id, mirror);
  }
}
