// Whether a remote dependency answered recently (the identity provider for /readyz): what real use
// observed, or else one probe, shared by every caller while it runs. A success is trusted for
// `freshMs`; a failure only for `retryMs`, so that a provider that is back shows up soon.

export interface ReachabilityOptions {
  /** Resolves when the dependency answers as it should. */
  probe: () => Promise<void>;
  freshMs: number;
  retryMs: number;
  now?: () => number;
}

export class Reachability {
  #last: { ok: boolean; at: number } | null = null;
  #probing: Promise<boolean> | null = null;

  constructor(private readonly opts: ReachabilityOptions) {}

  /** What a real call found (a login's discovery, say): counts as a fresh probe. */
  observe(ok: boolean): void {
    this.#last = { ok, at: this.#now() };
  }

  check(): Promise<boolean> {
    const last = this.#last;
    if (last && this.#now() - last.at < (last.ok ? this.opts.freshMs : this.opts.retryMs)) return Promise.resolve(last.ok);
    this.#probing ??= this.opts.probe()
      .then(() => true, () => false)
      .then((ok) => {
        this.observe(ok);
        this.#probing = null;
        return ok;
      });
    return this.#probing;
  }

  #now(): number {
    return this.opts.now?.() ?? Date.now();
  }
}
