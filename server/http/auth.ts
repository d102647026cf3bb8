// Who is calling, decided on the server for every /api route. `authenticate` turns the bearer token
// into a Principal (401 without a valid one); each route then states who may use it in one line,
// e.g. `router.get('/', allow('admin', 'reviewer'), handler)`. Checks that depend on the record
// (an engineer may see only their own sessions) use `authorize(res, predicate)` inside the handler.
import type { RequestHandler, Response } from 'express';
import type { TokenVerifier } from '../../common/tokens.ts';
import { AppError } from './errors.ts';

export const ROLES = ['admin', 'reviewer', 'engineer'] as const;
export type Role = (typeof ROLES)[number];

export interface Principal {
  subject: string;
  role: Role;
}

declare global {
  namespace Express {
    interface Locals {
      principal?: Principal;
    }
  }
}

const BEARER = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/;

export function authenticate(verifier: TokenVerifier): RequestHandler {
  return async (req, res, next) => {
    const match = BEARER.exec(req.get('authorization') ?? '');
    if (!match) throw AppError.unauthorized('an API token is required (Authorization: Bearer <token>)');
    let claims: { subject: string; role: string };
    try {
      claims = await verifier.verifyApi(match[1]);
    } catch {
      throw AppError.unauthorized('the API token is invalid or has expired');
    }
    if (!(ROLES as readonly string[]).includes(claims.role)) throw AppError.forbidden('the API token carries no known role');
    res.locals.principal = { subject: claims.subject, role: claims.role as Role };
    next();
  };
}

/** The authenticated caller; only valid behind `authenticate`. */
export function principalOf(res: Response): Principal {
  const principal = res.locals.principal;
  if (!principal) throw new Error('principalOf used on a route without authenticate()');
  return principal;
}

/** Route guard: only these roles may call the route. */
export function allow(...roles: Role[]): RequestHandler {
  return (_req, res, next) => {
    const { role } = principalOf(res);
    if (!roles.includes(role)) throw AppError.forbidden(`the ${role} role may not use this route`);
    next();
  };
}

/** Record-level check inside a handler: throws 403 unless the predicate holds for the caller. */
export function authorize(res: Response, allowed: (principal: Principal) => boolean): void {
  if (!allowed(principalOf(res))) throw AppError.forbidden('not allowed for this caller');
}
