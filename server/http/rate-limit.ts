// Rate limits per source address at the HTTP edge (docs/ARCHITECTURE.md, "The hub under faults"):
// a refused request answers 429 `rate_limited` with Retry-After. The address is the connection's
// own: no forwarding header is trusted, since whoever sends the request could write one.
import type { Request, RequestHandler, Response } from 'express';
import type { HubRateLimits } from '../../common/config/schema.ts';
import { RateLimiter } from '../../common/rate-limiter.ts';
import { AppError } from './errors.ts';

export interface RateLimits {
  login: RateLimiter;
  callback: RateLimiter;
  tokens: RateLimiter;
  failedAuth: RateLimiter;
}

export function createRateLimits(config: HubRateLimits): RateLimits {
  return {
    login: new RateLimiter({ perMinute: config.loginsPerMinute }),
    callback: new RateLimiter({ perMinute: config.loginsPerMinute }),
    tokens: new RateLimiter({ perMinute: config.tokensPerMinute }),
    failedAuth: new RateLimiter({ perMinute: config.failedAuthPerMinute }),
  };
}

export function sourceAddress(req: Request): string {
  return req.socket.remoteAddress ?? 'unknown';
}

/** Spends one of the caller's budget per request; refuses when it is spent. */
export function limitPerAddress(limiter: RateLimiter, what: string): RequestHandler {
  return (req, res, next) => {
    const decision = limiter.take(sourceAddress(req));
    if (!decision.ok) throw rateLimited(res, decision.retryAfterSeconds, what);
    next();
  };
}

export function rateLimited(res: Response, retryAfterSeconds: number, what: string): AppError {
  res.set('Retry-After', String(retryAfterSeconds));
  return new AppError(429, 'rate_limited', `too many ${what} from your address; try again in ${retryAfterSeconds} s`);
}
