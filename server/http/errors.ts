// One error shape for the API: every failure leaves as `{ error: { code, message } }` with its HTTP
// status. Anything that is not an AppError is normalized here, in one place; an unexpected error
// becomes a 500 whose body says nothing about the internals (the log has the details).
import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from '../../common/log.ts';
import { StoreInputError } from '../store/session-filter.ts';

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

/** Maps any thrown value to an AppError. Messages of unknown errors are never passed on. */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  if (err instanceof StoreInputError) return AppError.badRequest(err.message);
  // Errors raised by Express and body-parser carry a client-error status (malformed URL
  // encoding, bodies that are not JSON); their messages describe the request, not our state.
  const status = (err as { status?: unknown })?.status;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new AppError(status, status === 404 ? 'not_found' : 'bad_request', 'the request is malformed');
  }
  return new AppError(500, 'internal', 'internal error');
}

export const notFoundHandler: RequestHandler = (req, _res, next) => {
  next(AppError.notFound(`no route for ${req.method} ${req.path}`));
};

export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const appError = toAppError(err);
    if (appError.status >= 500) logger.error({ err, method: req.method, path: req.path }, 'API request failed');
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
