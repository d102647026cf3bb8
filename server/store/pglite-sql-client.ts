// SqlClient over embedded PGlite (PostgreSQL in WASM), the default store without DATABASE_URL.
// PGlite is one connection: a transaction owns it from BEGIN to COMMIT, so every call goes through
// one queue here and a caller never lands inside someone else's transaction. (PGlite 0.5 has an
// internal mutex that does the same; the queue makes the guarantee ours rather than a detail of
// its current version.)
import { PGlite, type Transaction } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { parseInt8, type SqlClient, type SqlRows } from './sql-client.ts';

const INT8_OID = 20;

export class PgliteSqlClient implements SqlClient {
  readonly #db: PGlite;
  #tail: Promise<unknown> = Promise.resolve();

  private constructor(db: PGlite) {
    this.#db = db;
  }

  /**
   * Opens (creating if needed) a database in dataDir, or an in-memory one without it; `from`
   * starts the in-memory one as a copy of a dump() instead of an empty cluster.
   */
  static async open(dataDir?: string, from?: Blob): Promise<PgliteSqlClient> {
    // pg_trgm: recording search's substring index (migration 8).
    const db = new PGlite({ dataDir, loadDataDir: from, parsers: { [INT8_OID]: parseInt8 }, extensions: { pg_trgm } });
    await db.waitReady;
    return new PgliteSqlClient(db);
  }

  /** The database's files, uncompressed, for open(undefined, dump). */
  dump(): Promise<Blob> {
    return this.#serial(() => this.#db.dumpDataDir('none'));
  }

  query<T = Record<string, unknown>>(text: string, params: readonly unknown[] = []): Promise<SqlRows<T>> {
    return this.#serial(async () => ({ rows: (await this.#db.query<T>(text, [...params])).rows }));
  }

  exec(script: string): Promise<void> {
    return this.#serial(async () => { await this.#db.exec(script); });
  }

  transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T> {
    return this.#serial(() => this.#db.transaction((tx) => fn(new PgliteTransactionClient(tx))));
  }

  close(): Promise<void> {
    return this.#serial(() => this.#db.close());
  }

  #serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(work, work);
    this.#tail = run.catch(() => undefined);
    return run;
  }
}

/** Statements inside a transaction bypass the queue: the transaction already holds it. */
class PgliteTransactionClient implements SqlClient {
  readonly #tx: Transaction;

  constructor(tx: Transaction) {
    this.#tx = tx;
  }

  async query<T = Record<string, unknown>>(text: string, params: readonly unknown[] = []): Promise<SqlRows<T>> {
    return { rows: (await this.#tx.query<T>(text, [...params])).rows };
  }

  async exec(script: string): Promise<void> {
    await this.#tx.exec(script);
  }

  transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T> {
    return fn(this);
  }

  async close(): Promise<void> {
    throw new Error('close the database, not a transaction');
  }
}
