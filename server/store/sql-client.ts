// The one seam between the recording store's logic and a database engine. Both engines speak the
// same SQL dialect (PGlite is PostgreSQL compiled to WASM), so everything above this interface is
// written once; each engine only says how to run a statement and how to hold a transaction.

export interface SqlRows<T> {
  rows: T[];
}

export interface QueryOptions {
  /**
   * A name the engine may keep the statement prepared under, on each connection, so that the
   * server parses and plans it once: for a statement of fixed text run very often (the append's).
   */
  prepare?: string;
}

export interface SqlClient {
  /**
   * Runs one statement with $1..$n parameters. int8 values come back as numbers (as bigint only
   * beyond Number.MAX_SAFE_INTEGER); select timestamps as text when they must round-trip exactly.
   */
  query<T = Record<string, unknown>>(text: string, params?: readonly unknown[], opts?: QueryOptions): Promise<SqlRows<T>>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(script: string): Promise<void>;
  /**
   * Runs fn inside BEGIN/COMMIT on one connection, rolling back if it throws. Inside fn use only
   * `tx`: on a transaction client, `transaction` joins the outer transaction rather than nesting.
   */
  transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** int8 text to a number when exact, else a bigint, so a counter never silently loses digits. */
export function parseInt8(text: string): number | bigint {
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : BigInt(text);
}
