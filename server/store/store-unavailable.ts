// A store that cannot be reached (server stopped, restarting, connection cut) is a condition to
// wait out, not a bug: the API answers 503 rather than 500, and callers that retry (the persister)
// simply try again. Only connection-level failures count; a failed statement stays what it is.

export class StoreUnavailableError extends Error {
  override name = 'StoreUnavailableError';

  constructor(cause: unknown) {
    super(`the store cannot be reached: ${(cause as Error)?.message ?? String(cause)}`, { cause });
  }
}

// SQLSTATE class 08 (connection exception), and the server shutting down, starting up or full.
const UNAVAILABLE_SQLSTATE = /^(08|57P0[1-3]$|53300$)/;
const UNAVAILABLE_ERRNO = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);
// pg's own errors for a lost or never-made connection carry no code, only these messages.
const UNAVAILABLE_MESSAGE = /^(Connection terminated|Client has encountered a connection error|Client was closed|timeout exceeded when trying to connect|Connection ended|Query read timeout)/;

export function isStoreUnavailable(err: unknown): boolean {
  if (err instanceof StoreUnavailableError) return true;
  // A host name with several addresses (localhost: ::1 and 127.0.0.1) fails with one per address.
  if (err instanceof AggregateError) return err.errors.some(isStoreUnavailable);
  const { code, message } = (err ?? {}) as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && (UNAVAILABLE_SQLSTATE.test(code) || UNAVAILABLE_ERRNO.has(code))) return true;
  return typeof message === 'string' && UNAVAILABLE_MESSAGE.test(message);
}

/** Rethrows a connection-level failure as StoreUnavailableError, anything else as it is. */
export function rethrowUnavailable(err: unknown): never {
  throw isStoreUnavailable(err) && !(err instanceof StoreUnavailableError) ? new StoreUnavailableError(err) : err;
}
