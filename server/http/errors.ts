// One error shape for the API: every failure leaves as `{ error: { code, message } }` with its HTTP
// status. Anything that is not an AppError is normalized here, in one place; an unexpected error
// becomes a 500 whose body says nothing about the internals (the log has the details).
import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from '../../common/log.ts';
import { StoreInputError } from '../recordings/store/session-filter.ts';
import { isStoreUnavailable } from '../store/store-unavailable.ts';

export class AppError extends Error {
  override name = 'AppError';

  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }

  static badRequest(message: string): AppError {
    return new AppError(400, 'bad_request', message);
  }

  static unauthorized(message: string): AppError {
    return new AppError(401, 'unauthorized', message);
  }

  static forbidden(message: string): AppError {
    return new AppError(403, 'forbidden', message);
  }

  static notFound(message: string): AppError {
    return new AppError(404, 'not_found', message);
  }

  static badGateway(message: string): AppError {
    return new AppError(502, 'bad_gateway', message);
  }

  static unavailable(message: string): AppError {
    return new AppError(503, 'unavailable', message);
  }
}

export interface ErrorBody {
  error: { code: string; message: string };
}

// The code and message for each client-error status Express and body-parser raise. A client
// that reads only the code (not the status) must still learn what to change.
const CLIENT_ERRORS: Record<number, [code: string, message: string]> = {
  400: ['bad_request', 'the request is malformed'],
  403: ['forbidden', 'the request is not allowed'],
  404: ['not_found', 'not found'],
  405: ['method_not_allowed', 'the method is not allowed here'],
  408: ['request_timeout', 'the request took too long to arrive'],
  411: ['length_required', 'the request body needs a length'],
  413: ['payload_too_large', 'the request body is too large'],
  414: ['uri_too_long', 'the request URL is too long'],
  415: ['unsupported_media_type', 'the request body\'s type, encoding or charset is not supported'],
  416: ['range_not_satisfiable', 'the requested range cannot be served'],
  429: ['rate_limited', 'too many requests; try again later'],
  431: ['headers_too_large', 'the request headers are too large'],
};

/** Maps any thrown value to an AppError. Messages of unknown errors are never passed on. */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  if (err instanceof StoreInputError) return AppError.badRequest(err.message);
  // Waiting it out is all a caller can do; what failed inside stays in the log.
  if (isStoreUnavailable(err)) return AppError.unavailable('the recording store is unavailable; try again shortly');
  // Errors raised by Express and body-parser carry a client-error status (malformed URL
  // encoding, bodies that are not JSON or too large); their messages describe the request, not
  // our state, but are not passed on either.
  const status = (err as { status?: unknown })?.status;
  if (typeof status === 'number' && Number.isInteger(status) && status >= 400 && status < 500) {
    const [code, message] = CLIENT_ERRORS[status] ?? CLIENT_ERRORS[400];
    return new AppError(status, code, message);
  }
  return new AppError(500, 'internal', 'internal error');
}

export const notFoundHandler: RequestHandler = (req, _res, next) => {
  next(AppError.notFound(`no route for ${req.method} ${req.path}`));
};

export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const appError = toAppError(err);
    // A dependency that is down is the operator's news once (readiness, the component's own
    // log), not a stack trace per request.
    if (appError.status === 503) logger.warn({ err: (err as Error)?.message, method: req.method, path: req.path }, 'API request failed: unavailable');
    else if (appError.status >= 500) logger.error({ err, method: req.method, path: req.path }, 'API request failed');
    else logger.debug({ status: appError.status, method: req.method, path: req.path, reason: appError.message }, 'API request refused');
    if (res.headersSent) {
      // A streamed response broke half-way: the client must see a cut, not a well-formed end.
      res.destroy();
      return;
    }
    if (appError.status === 401) res.set('WWW-Authenticate', 'Bearer');
    const body: ErrorBody = { error: { code: appError.code, message: appError.message } };
    res.status(appError.status).json(body);
  };
}
