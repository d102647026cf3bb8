// The agent's own connection to a target for catalog look-ups, logged in with the target's
// credentials (which users never see). It speaks the simple query protocol over the socket
// loginUpstream returns, one query at a time. It opens on the first call, closes after a minute
// without calls, and opens again after the server or the network ended it.
//
// Names reach the server only as E'' literals, quoted as identifiers server-side (format %I) and
// resolved with to_regclass, so no name can change the query, and odd names (quotes, spaces,
// capitals, non-ASCII) resolve as the exact names they are. Nothing here is logged: the names are
// the user's data and the login carries the target's credentials.
import type net from 'node:net';
import { loginUpstream, type UpstreamSettings } from '../upstream-login.ts';
import { serialize } from '../protocol/frontend-messages.ts';
import { BackendFramer } from '../protocol/backend-framer.ts';
import { BackendCode, dataRowCells, decodeBackend } from '../protocol/backend-decoder.ts';

export interface CatalogClientOptions {
  /** Close the connection after this long without a call. Default 60 s. */
  idleMs?: number;
  /** Longest wait for one query's answer; the connection is dropped after it. Default 5 s. */
  timeoutMs?: number;
}

/** The server answered a query with an ErrorResponse (the connection stays usable). */
export class CatalogQueryError extends Error {
  override name = 'CatalogQueryError';
  constructor(message: string, readonly sqlstate: string | undefined) {
    super(message);
  }
}

/** The connection ended before the query's answer was complete. */
class ConnectionLost extends Error {
  override name = 'ConnectionLost';
}

const DEFAULT_IDLE_MS = 60_000;
const DEFAULT_TIMEOUT_MS = 5_000;
// client_encoding: names go out and come back as UTF-8 whatever the database's encoding.
// application_name: lets the target's administrators see what this connection is.
const SESSION_SETTINGS = { client_encoding: 'UTF8', application_name: 'vigil-agent catalog' };

type Row = (string | null)[];

export class CatalogClient {
  private readonly idleMs: number;
  private readonly timeoutMs: number;
  private connection: CatalogConnection | null = null;
  /** Calls run in this order, one at a time. */
  private queue: Promise<unknown> = Promise.resolve();
  private calls = 0;
  private idleTimer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(private readonly settings: UpstreamSettings, opts: CatalogClientOptions = {}) {
    this.idleMs = opts.idleMs ?? DEFAULT_IDLE_MS;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  /** Column names of the table in attnum order without dropped columns, or null when it does not exist. */
  async tableColumns(schema: string | undefined, table: string): Promise<string[] | null> {
    // PostgreSQL names cannot hold NUL, and a query cannot carry one.
    if (table.includes('\0') || schema?.includes('\0')) return null;
    return columnsFrom(await this.run(columnsQuery(schema, table)));
  }

  async close(): Promise<void> {
    this.closed = true;
    this.stopIdleTimer();
    // A query in flight ends with the connection; those queued then find the client closed.
    this.connection?.end();
    this.connection = null;
    await this.queue;
  }

  private run(sql: string): Promise<Row[]> {
    if (this.closed) return Promise.reject(new Error('the catalog client is closed'));
    this.calls++;
    this.stopIdleTimer();
    const result = this.queue.then(() => this.runNow(sql));
    this.queue = result.catch(() => undefined);
    return result.finally(() => {
      if (--this.calls === 0) this.startIdleTimer();
    });
  }

  private async runNow(sql: string): Promise<Row[]> {
    // The query only reads: when a connection that had sat open turns out to be gone (terminated,
    // server restarted), asking again on a new one is safe.
    let reused = this.connection?.alive === true;
    for (;;) {
      const connection = await this.connect();
      try {
        return await connection.query(sql, this.timeoutMs);
      } catch (err) {
        if (!(err instanceof ConnectionLost) || !reused || this.closed) throw err;
        reused = false;
      }
    }
  }

  private async connect(): Promise<CatalogConnection> {
    if (this.closed) throw new Error('the catalog client is closed');
    if (this.connection?.alive) return this.connection;
    this.connection = null;
    const session = await loginUpstream(this.settings, SESSION_SETTINGS);
    const connection = new CatalogConnection(session.socket, session.leftover);
    if (this.closed) {
      connection.end();
      throw new Error('the catalog client is closed');
    }
    this.connection = connection;
    return connection;
  }

  private startIdleTimer(): void {
    if (this.closed || !this.connection) return;
    this.idleTimer = setTimeout(() => {
      this.idleTimer = null;
      this.connection?.end();
      this.connection = null;
    }, this.idleMs);
    // The timer alone is no reason for the process to stay up.
    this.idleTimer.unref();
  }

  private stopIdleTimer(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
  }
}

interface PendingQuery {
  rows: Row[];
  error: CatalogQueryError | null;
  resolve(rows: Row[]): void;
  reject(err: Error): void;
}

/** One logged-in socket; its owner sends one query at a time. */
class CatalogConnection {
  private readonly framer = new BackendFramer();
  private pending: PendingQuery | null = null;
  /** Why the connection ended; null while it is usable. */
  private lost: string | null = null;

  constructor(private readonly socket: net.Socket, leftover: Buffer) {
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', (err) => this.drop(`the catalog connection failed: ${err.message}`));
    socket.on('close', () => this.drop('the catalog connection closed'));
    if (leftover.length > 0) this.receive(leftover);
  }

  get alive(): boolean {
    return this.lost === null;
  }

  query(sql: string, timeoutMs: number): Promise<Row[]> {
    if (this.lost !== null) return Promise.reject(new ConnectionLost(this.lost));
    return new Promise<Row[]>((resolve, reject) => {
      const timer = setTimeout(() => {
        // The server may still be working on it: only a new connection is certain to be free.
        this.drop(`the catalog query got no answer within ${timeoutMs} ms`, false);
        this.socket.destroy();
      }, timeoutMs);
      const settle = () => {
        clearTimeout(timer);
        this.pending = null;
      };
      this.pending = {
        rows: [],
        error: null,
        resolve: (rows) => { settle(); resolve(rows); },
        reject: (err) => { settle(); reject(err); },
      };
      this.socket.write(serialize.query(sql));
    });
  }

  /** Ends the session politely; a query in flight fails. */
  end(): void {
    if (this.lost !== null) return;
    this.drop('the catalog connection was closed by the agent');
    this.socket.end(serialize.end());
  }

  private receive(chunk: Buffer): void {
    try {
      this.framer.push(chunk, (code, message) => this.onMessage(code, message));
    } catch (err) {
      this.drop(`the target sent an invalid message: ${(err as Error).message}`);
      this.socket.destroy();
    }
  }

  private onMessage(code: number, message: Buffer): void {
    // Without a query in flight only asynchronous messages come (notices, parameter changes, or
    // the error that precedes a termination): the close that follows is what counts.
    const pending = this.pending;
    if (!pending) return;
    switch (code) {
      case BackendCode.DataRow:
        pending.rows.push(dataRowCells(message).map((cell) => cell?.toString('utf8') ?? null));
        break;
      case BackendCode.ErrorResponse: {
        const e = decodeBackend(message);
        if (e.name === 'error') pending.error = new CatalogQueryError(`the catalog query failed: ${e.message}`, e.code);
        break;
      }
      case BackendCode.ReadyForQuery:
        if (pending.error) pending.reject(pending.error);
        else pending.resolve(pending.rows);
        break;
    }
  }

  /** retryable: whether the query in flight may be asked again on a new connection. */
  private drop(reason: string, retryable = true): void {
    this.lost ??= reason;
    const pending = this.pending;
    if (!pending) return;
    // A FATAL ErrorResponse (administrator command, shutdown) says more than "closed".
    const detail = pending.error ? `${reason} (${pending.error.message})` : reason;
    pending.reject(retryable ? new ConnectionLost(detail) : new Error(detail));
  }
}

/**
 * One row per column (relation found, column name); a table without columns gives one row with a
 * NULL name, and no such table one row whose first value is false.
 */
function columnsQuery(schema: string | undefined, table: string): string {
  const name = schema === undefined
    ? `pg_catalog.format('%I', ${literal(table)})`
    : `pg_catalog.format('%I.%I', ${literal(schema)}, ${literal(table)})`;
  return `SELECT r.oid IS NOT NULL, a.attname
    FROM (SELECT pg_catalog.to_regclass(${name}) AS oid) AS r
    LEFT JOIN pg_catalog.pg_attribute AS a ON a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped
    ORDER BY a.attnum`;
}

/** An escape string literal: only backslash and quote are special in E''. */
function literal(value: string): string {
  return `E'${value.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}

function columnsFrom(rows: Row[]): string[] | null {
  if (rows.length === 0 || rows[0][0] !== 't') return null;
  return rows.flatMap(([, name]) => (name === null ? [] : [name]));
}
