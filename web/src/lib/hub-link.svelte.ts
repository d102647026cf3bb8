// Whether this page is in touch with the hub: its one Socket.IO connection (lib/live.ts) up or
// down. While down, every live view says so (a banner, grey live badges) instead of showing a
// quiet page that looks current; when it comes back, the subscriptions catch up by themselves
// (the watch resumes at the first seq it lacks, lists are sent whole again) and the page says so.

/** How long "Reconnected" stays on screen. */
const BACK_NOTE_MS = 6000;

class HubLink {
  /** Connected now. */
  up = $state(false);
  /** Connected at least once (before that the page is loading, not lost). */
  wasUp = $state(false);
  /** When the connection dropped (ms since the epoch), while down. */
  downSince = $state<number | null>(null);
  /** The connection came back a moment ago (cleared after a few seconds). */
  back = $state(false);
  #backTimer: ReturnType<typeof setTimeout> | undefined;

  /** The page is running stale data: it had the hub and lost it. */
  get lost(): boolean {
    return this.wasUp && !this.up;
  }

  connected(): void {
    const returning = this.wasUp && !this.up;
    this.up = true;
    this.wasUp = true;
    this.downSince = null;
    if (!returning) return;
    this.back = true;
    clearTimeout(this.#backTimer);
    this.#backTimer = setTimeout(() => (this.back = false), BACK_NOTE_MS);
  }

  disconnected(): void {
    if (!this.up) return;
    this.up = false;
    this.back = false;
    this.downSince = Date.now();
  }
}

export const hubLink = new HubLink();
