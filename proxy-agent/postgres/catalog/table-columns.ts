// The column order of the target's tables, for the recorder: an INSERT without a column list says
// which literal goes into a secret column only through the table's column order. The recorder is
// on the relay path and never waits: get() answers from the cache at once, and a miss only starts
// a look-up (learn()) so that a later statement knows. Until then the recorder masks every literal.
//
// Unqualified names are their own keys: the look-up resolves them through the catalog
// connection's search_path, which may pick a different table than the same name qualified.

/** Column names in order, or null when the table does not exist. */
export type ColumnLookup = (schema: string | undefined, table: string) => Promise<string[] | null>;

export interface TableColumnsOptions {
  /** How long an answer is trusted without DDL having been seen. Default 60 s. */
  ttlMs?: number;
  /** Most tables remembered; the oldest answer goes first. Default 2000. */
  maxTables?: number;
  now?: () => number;
}

const DEFAULT_TTL_MS = 60_000;
const DEFAULT_MAX_TABLES = 2000;
/** A failed look-up (target down, permissions) is not repeated for every statement. */
const RETRY_AFTER_MS = 5_000;
/** Look-ups run one at a time on one connection: a flood of new names must not queue without end. */
const MAX_PENDING = 64;

type Entry =
  | { readonly kind: 'known'; readonly columns: readonly string[] | null; readonly expiresAt: number }
  | { readonly kind: 'failed'; readonly retryAt: number };

export class TableColumns {
  private readonly ttlMs: number;
  private readonly maxTables: number;
  private readonly now: () => number;
  /** In insertion order: the first entry is the oldest. */
  private readonly entries = new Map<string, Entry>();
  /** Look-ups whose answer is still wanted, by key. */
  private readonly pending = new Map<string, Promise<void>>();
  /** Every look-up in flight, including those forget() made stale. */
  private readonly inFlight = new Set<Promise<void>>();
  /** Bumped by forget(): an answer from an older generation may predate the DDL. */
  private generation = 0;
  private closed = false;
  private failures = 0;

  constructor(private readonly lookup: ColumnLookup, opts: TableColumnsOptions = {}) {
    this.ttlMs = opts.ttlMs ?? DEFAULT_TTL_MS;
    this.maxTables = opts.maxTables ?? DEFAULT_MAX_TABLES;
    this.now = opts.now ?? Date.now;
  }

  /** Look-ups that failed so far (their errors are not passed on). */
  get failedLookups(): number {
    return this.failures;
  }

  /** Cached column names in order, or undefined (unknown, expired, or a look-up pending). Never waits. */
  get(schema: string | undefined, table: string): readonly string[] | undefined {
    const key = keyOf(schema, table);
    const entry = this.entries.get(key);
    if (entry?.kind !== 'known') return undefined;
    if (entry.expiresAt <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.columns ?? undefined;
  }

  /** Starts a look-up unless one is pending, the answer is fresh, or a failure is recent. */
  learn(schema: string | undefined, table: string): void {
    if (this.closed || this.pending.size >= MAX_PENDING) return;
    const key = keyOf(schema, table);
    if (this.pending.has(key)) return;
    const entry = this.entries.get(key);
    const now = this.now();
    if (entry?.kind === 'known' && entry.expiresAt > now) return;
    if (entry?.kind === 'failed' && entry.retryAt > now) return;

    const generation = this.generation;
    const done: Promise<void> = new Promise<string[] | null>((resolve) => resolve(this.lookup(schema, table)))
      .then(
        (columns) => {
          if (generation === this.generation) this.remember(key, { kind: 'known', columns, expiresAt: this.now() + this.ttlMs });
        },
        () => {
          this.failures++;
          if (generation === this.generation) this.remember(key, { kind: 'failed', retryAt: this.now() + RETRY_AFTER_MS });
        },
      )
      .finally(() => {
        this.inFlight.delete(done);
        if (this.pending.get(key) === done) this.pending.delete(key);
      });
    this.pending.set(key, done);
    this.inFlight.add(done);
  }

  /** Forgets everything cached (DDL ran somewhere); answers to look-ups in flight are dropped. */
  forget(): void {
    this.generation++;
    this.entries.clear();
    this.pending.clear();
  }

  /** Resolves when no look-up is pending. */
  async settled(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all(this.inFlight);
  }

  /** Starts no more look-ups and waits for those in flight. The lookup's owner closes it. */
  async close(): Promise<void> {
    this.closed = true;
    this.forget();
    await this.settled();
  }

  private remember(key: string, entry: Entry): void {
    this.entries.delete(key);
    this.entries.set(key, entry);
    if (this.entries.size > this.maxTables) this.entries.delete(this.entries.keys().next().value!);
  }
}

// A PostgreSQL name never holds NUL, so the two forms cannot collide.
function keyOf(schema: string | undefined, table: string): string {
  return schema === undefined ? `u${table}` : `q${schema}\0${table}`;
}
