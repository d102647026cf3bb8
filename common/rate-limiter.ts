// A token bucket per key (a source address), in memory: each key may spend `perMinute` at once and
// earns it back evenly over a minute. The map is bounded: past `maxKeys` the least recently used
// key is forgotten (a flood of addresses costs them their history, never the process its memory),
// and a bucket that has filled up again is dropped on its next visit, as it holds nothing.

export interface RateLimiterOptions {
  perMinute: number;
  /** Keys remembered at most (default 10,000). */
  maxKeys?: number;
  now?: () => number;
}

export type RateDecision = { ok: true } | { ok: false; retryAfterSeconds: number };

interface Bucket {
  tokens: number;
  at: number;
}

export class RateLimiter {
  readonly #capacity: number;
  readonly #perMs: number;
  readonly #maxKeys: number;
  readonly #now: () => number;
  readonly #buckets = new Map<string, Bucket>();

  constructor(opts: RateLimiterOptions) {
    if (!(opts.perMinute > 0)) throw new Error('perMinute must be positive');
    this.#capacity = opts.perMinute;
    this.#perMs = opts.perMinute / 60_000;
    this.#maxKeys = opts.maxKeys ?? 10_000;
    this.#now = opts.now ?? Date.now;
  }

  /** Spends one token of `key`: ok, or how long until one is there again. */
  take(key: string): RateDecision {
    const decision = this.check(key);
    if (decision.ok) this.#bucket(key).tokens -= 1;
    return decision;
  }

  /** Whether `key` has a token, without spending it (check first, take only on failure). */
  check(key: string): RateDecision {
    const bucket = this.#refilled(key);
    const tokens = bucket?.tokens ?? this.#capacity;
    if (tokens >= 1) return { ok: true };
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - tokens) / this.#perMs / 1000)) };
  }

  /** Keys currently remembered. */
  get size(): number {
    return this.#buckets.size;
  }

  #refilled(key: string): Bucket | undefined {
    const bucket = this.#buckets.get(key);
    if (!bucket) return undefined;
    const now = this.#now();
    bucket.tokens = Math.min(this.#capacity, bucket.tokens + (now - bucket.at) * this.#perMs);
    bucket.at = now;
    // Re-inserted: the map's order is the order of last use.
    this.#buckets.delete(key);
    if (bucket.tokens >= this.#capacity) return undefined;
    this.#buckets.set(key, bucket);
    return bucket;
  }

  #bucket(key: string): Bucket {
    let bucket = this.#buckets.get(key);
    if (!bucket) {
      bucket = { tokens: this.#capacity, at: this.#now() };
      this.#buckets.set(key, bucket);
      if (this.#buckets.size > this.#maxKeys) this.#buckets.delete(this.#buckets.keys().next().value!);
    }
    return bucket;
  }
}
