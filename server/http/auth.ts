// Who is calling, decided on the server for every /api route. `authenticate` accepts either an
// API token (`Authorization: Bearer`, what the CLI sends) or a dashboard login (the session
// cookie, see web-login.ts) and turns it into a Principal (401 with neither). Each route then
// states who may use it in one line, e.g. `router.get('/', allow('admin', 'reviewer'), handler)`.
// Checks that depend on the record (an engineer may see only their own sessions) use
// `authorize(res, predicate)` or `isAny` inside the handler.
//
// CSRF: a cookie rides along with any request the browser makes, so a state-changing request
// authenticated by the cookie must also carry the session's CSRF token in `X-CSRF-Token` (the
// dashboard reads it from /api/me; another site cannot). Bearer tokens are never sent by the
// browser on its own, so they need no such proof.
import crypto from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import type {} from 'express-session';
import { isRole, type Role } from '../../common/roles.ts';
import type { TokenVerifier } from '../../common/tokens.ts';
import type { RateLimiter } from '../../common/rate-limiter.ts';
import { AppError } from './errors.ts';
import type { LoginChecker } from './login-check.ts';
import { rateLimited, sourceAddress } from './rate-limit.ts';

export interface Principal {
  /** The Vigil username: what recordings and connection tokens name. */
  subject: string;
  roles: Role[];
  /** The identity provider's groups (logins only; per-target approver groups read them). */
  groups: string[];
  via: 'token' | 'login';
}

/** What a dashboard login keeps in the server-side session. */
export interface LoginSession {
  subject: string;
  name?: string;
  email?: string;
  roles: Role[];
  /** The provider's groups, as the roles claim listed them. */
  groups?: string[];
  csrfToken: string;
  loggedInAt: string;
  /** The provider's ID token, kept server-side only, as the hint for logging out at the provider. */
  idToken?: string;
  /** The provider's access token, sealed (sealed-text.ts): how login-check.ts asks it about this login. */
  accessToken?: string;
  /** When that access token expires (ISO), if the provider said. */
  accessTokenExpiresAt?: string;
}

declare global {
  namespace Express {
    interface Locals {
      principal?: Principal;
    }
  }
}

declare module 'express-session' {
  interface SessionData {
    login?: LoginSession;
    /** Set, with no login, by a logout: the marker a session leaves for a while (web-login.ts). */
    loggedOutAt?: string;
    /** Where to go after the identity provider sends the person back. */
    returnTo?: string;
  }
}

const BEARER = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/;
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * failedAuth: an address whose tokens failed that often is refused (429) before its next token is
 * even looked at, so guessing costs time; a valid token spends nothing.
 */
export function authenticate(verifier: TokenVerifier, failedAuth?: RateLimiter, logins?: LoginChecker): RequestHandler {
  return async (req, res, next) => {
    const header = req.get('authorization');
    if (header !== undefined) {
      const from = sourceAddress(req);
      const allowed = failedAuth?.check(from);
      if (allowed && !allowed.ok) throw rateLimited(res, allowed.retryAfterSeconds, 'failed authentications');
      const refuse = (message: string) => {
        failedAuth?.take(from);
        return AppError.unauthorized(message);
      };
      const match = BEARER.exec(header);
      if (!match) throw refuse('malformed Authorization header (expected: Bearer <API token>)');
      let claims: { subject: string; role: string };
      try {
        claims = await verifier.verifyApi(match[1]);
      } catch {
        throw refuse('the API token is invalid or has expired');
      }
      if (!isRole(claims.role)) throw AppError.forbidden('the API token carries no known role');
      res.locals.principal = { subject: claims.subject, roles: [claims.role], groups: [], via: 'token' };
      next();
      return;
    }
    let login = req.session?.login;
    if (!login) throw AppError.unauthorized('log in first (or send an API token: Authorization: Bearer <token>)');
    // Roles changed or a login ended at the provider apply here too (login-check.ts). The session
    // is not written: a write racing a logout elsewhere would bring the session back.
    if (logins) {
      const verdict = await logins.check(req.sessionID, login);
      if (verdict && !verdict.ok) throw AppError.unauthorized(verdict.message);
      if (verdict) login = verdict.login;
    }
    if (!SAFE_METHODS.has(req.method)) checkCsrf(req, login);
    res.locals.principal = { subject: login.subject, roles: login.roles.filter(isRole), groups: login.groups ?? [], via: 'login' };
    next();
  };
}

export function checkCsrf(req: Request, login: LoginSession): void {
  const sent = Buffer.from(req.get('x-csrf-token') ?? '');
  const expected = Buffer.from(login.csrfToken);
  if (sent.length !== expected.length || !crypto.timingSafeEqual(sent, expected)) {
    throw AppError.forbidden('missing or wrong X-CSRF-Token header (read it from /api/me)');
  }
}

/** The authenticated caller; only valid behind `authenticate`. */
export function principalOf(res: Response): Principal {
  const principal = res.locals.principal;
  if (!principal) throw new Error('principalOf used on a route without authenticate()');
  return principal;
}

export function isAny(principal: Principal, ...roles: Role[]): boolean {
  return principal.roles.some((r) => roles.includes(r));
}

/** Route guard: only callers with one of these roles may call the route. */
export function allow(...roles: Role[]): RequestHandler {
  return (_req, res, next) => {
    const principal = principalOf(res);
    if (!isAny(principal, ...roles)) {
      throw AppError.forbidden(`this route needs one of the roles ${roles.join(', ')} (you have ${principal.roles.join(', ') || 'none'})`);
    }
    next();
  };
}

/** Record-level check inside a handler: throws 403 unless the predicate holds for the caller. */
export function authorize(res: Response, allowed: (principal: Principal) => boolean): void {
  if (!allowed(principalOf(res))) throw AppError.forbidden('not allowed for this caller');
}
