// SqlClient over a real PostgreSQL server through a `pg` connection pool (DATABASE_URL).
import pg from 'pg';
import type { Logger } from '../../common/log.ts';
import { parseInt8, type QueryOptions, type SqlClient, type SqlRows } from './sql-client.ts';
import { rethrowUnavailable } from './store-unavailable.ts';

const INT8_OID = 20;
const CONNECT_TIMEOUT_MS = 10_000;

// Per-pool parsers (not pg.types.setTypeParser, which would change every pool in the process).
const types: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID && format !== 'binary' ? parseInt8 : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
};

export interface PgSqlClientOptions {
  connectionString: string;
  /** Pool size; the hub's writers and readers share it. */
  max?: number;
  logger?: Logger;
}

export class PgSqlClient implements SqlClient {
  readonly #pool: pg.Pool;

  constructor(opts: PgSqlClientOptions) {
    this.#pool = new pg.Pool({
      connectionString: opts.connectionString,
      max: opts.max ?? 10,
      types,
      // A store that drops packets must fail a connection attempt, not hold it (and the caller) forever.
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      keepAlive: true,
    });
    // An idle client losing its server emits on the pool; without a listener that crashes the hub.
    this.#pool.on('error', (err) => opts.logger?.warn({ err: err.message }, 'idle PostgreSQL connection failed'));
    // A checked-out client (a transaction's) has no pool listener: its 'error' (the server
    // terminated it, or went away) would crash the hub. The failure reaches the caller as its
    // query's rejection, and the pool discards the client when it is released.
    this.#pool.on('connect', (client) => {
      client.on('error', (err) => opts.logger?.debug({ err: err.message }, 'PostgreSQL connection failed'));
    });
  }

  async query<T = Record<string, unknown>>(text: string, params: readonly unknown[] = [], opts: QueryOptions = {}): Promise<SqlRows<T>> {
    const result = await this.#pool.query({ text, values: params as unknown[], name: opts.prepare }).catch(rethrowUnavailable);
    return { rows: result.rows as T[] };
  }

  async exec(script: string): Promise<void> {
    // Without parameters pg uses the simple protocol, which accepts several statements.
    await this.#pool.query(script).catch(rethrowUnavailable);
  }

  transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T> {
    return this.#transaction(fn).catch(rethrowUnavailable);
  }

  async #transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T> {
    const conn = await this.#pool.connect();
    let broken: Error | undefined;
    try {
      await conn.query('BEGIN');
      try {
        const value = await fn(new PgConnectionClient(conn));
        await conn.query('COMMIT');
        return value;
      } catch (err) {
        await conn.query('ROLLBACK').catch((rollbackErr: Error) => { broken = rollbackErr; });
        throw err;
      }
    } finally {
      // A connection whose rollback failed is in an unknown state: destroy it, never reuse it.
      conn.release(broken);
    }
  }

  async close(): Promise<void> {
    await this.#pool.end();
  }
}

/** The transaction's own connection; nested transactions join it. */
class PgConnectionClient implements SqlClient {
  readonly #conn: pg.PoolClient;

  constructor(conn: pg.PoolClient) {
    this.#conn = conn;
  }

  async query<T = Record<string, unknown>>(text: string, params: readonly unknown[] = [], opts: QueryOptions = {}): Promise<SqlRows<T>> {
    const result = await this.#conn.query({ text, values: params as unknown[], name: opts.prepare });
    return { rows: result.rows as T[] };
  }

  async exec(script: string): Promise<void> {
    await this.#conn.query(script);
  }

  transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T> {
    return fn(this);
  }

  async close(): Promise<void> {
    throw new Error('close the pool, not a transaction');
  }
}
