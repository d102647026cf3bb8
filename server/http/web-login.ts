// Dashboard login through an OpenID provider (authorization code flow, passport-openidconnect)
// and the server-side session it creates (express-session; the cookie holds only a signed id).
//
//   GET  /auth/login?returnTo=/path   -> the provider's login page
//   GET  /auth/callback               <- the provider sends the person back; session created
//   POST /auth/logout                 (X-CSRF-Token) ends the session; answers where the browser
//                                     goes next to end the provider's session too
//   GET  /auth/logged-out             where the provider sends the browser back after that
//
// passport-openidconnect checks iss, aud, exp and the nonce of the ID token but not its signature:
// the verify step here checks the signature against the provider's JWKS (jose) before trusting a
// single claim. Roles come from a configured claim (groups) of the verified ID token, or of the
// userinfo response (fetched with the access token, its `sub` checked) when the ID token lacks it.
// A person whose groups map to no Vigil role is refused at login, not admitted powerless.
import crypto from 'node:crypto';
import express, { type RequestHandler, type Router } from 'express';
import session from 'express-session';
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import passportPkg from 'passport';
import OpenIDConnectStrategy from 'passport-openidconnect';
import type { LogoutResponse } from '../../common/api-contract.ts';
import type { OidcSettings } from '../../common/config/schema.ts';
import type { Logger } from '../../common/log.ts';
import { ROLES, type Role } from '../../common/roles.ts';
import { checkCsrf, type LoginSession } from './auth.ts';
import { AppError } from './errors.ts';
import { loginChecker, type LoginChecker, type ProviderAnswer } from './login-check.ts';
import { Reachability } from './reachability.ts';
import { textSealer, type TextSealer } from './sealed-text.ts';

const { Passport } = passportPkg;

export interface WebLoginOptions {
  oidc: OidcSettings;
  clientSecret: string;
  /** The hub's public base URL (the callback is `${publicUrl}/auth/callback`). */
  publicUrl: string;
  sessionSecret: string;
  sessionTtlMs: number;
  /** Server-side session store; express-session's memory store when absent (one hub only). */
  store?: session.Store;
  logger: Logger;
  /** How long the provider's last answer counts as recent for /readyz (default 15 s). */
  idpFreshMs?: number;
  /** How often a login is confirmed again with the session store and the provider (default 60 s). */
  recheckMs?: number;
}

export interface WebLogin {
  /** Loads the session of the request's cookie; mount before anything that reads req.session. */
  session: RequestHandler;
  /** The /auth routes. */
  routes: Router;
  /** Whether the provider's discovery document and keys were reachable recently (/readyz). */
  idpReachable(): Promise<boolean>;
  /** Whether a login is still good (login-check.ts). */
  logins: LoginChecker;
  /** Called with the session id of every logout on this hub (the live server ends its sockets on every hub). */
  onLogout(listener: (sessionId: string) => void): void;
}

interface Discovery {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  userinfo_endpoint: string;
  jwks_uri: string;
  /** RP-initiated logout; not every provider has it. */
  end_session_endpoint?: string;
}


export const SESSION_COOKIE = 'vigil.sid';
/** How long a logout's marker stays in the session store: longer than any hub's recheck takes to read it. */
const LOGGED_OUT_KEPT_MS = 5 * 60_000;
const RETURN_TO = /^\/(?![/\\])[\x21-\x7e]*$/;

export function createWebLogin(opts: WebLoginOptions): WebLogin {
  const log = opts.logger.child({ component: 'web-login' });
  const secure = opts.publicUrl.startsWith('https:');
  // Named here, not left to express-session: login-check.ts reads the same store.
  const store = opts.store ?? new session.MemoryStore();
  const sealer = textSealer(opts.sessionSecret, 'login access token');
  const logoutListeners: Array<(sessionId: string) => void> = [];
  const sessionMiddleware = session({
    name: SESSION_COOKIE,
    secret: opts.sessionSecret,
    store,
    resave: false,
    saveUninitialized: false,
    rolling: true,
    proxy: secure,
    cookie: { httpOnly: true, sameSite: 'lax', secure, maxAge: opts.sessionTtlMs, path: '/' },
  });

  const idp = new Reachability({
    probe: async () => {
      const d = await discover(opts.oidc.issuer);
      const res = await fetch(d.jwks_uri, { signal: AbortSignal.timeout(5000) });
      await res.arrayBuffer();
      if (!res.ok) throw new Error(`${d.jwks_uri} answered ${res.status}`);
    },
    freshMs: opts.idpFreshMs ?? 15_000,
    retryMs: Math.min(opts.idpFreshMs ?? 15_000, 2000),
  });

  const passport = new Passport();
  let ready: Promise<void> | null = null;
  let endSession: string | undefined;
  let discovered: Discovery | null = null;
  // Discovery happens on the first login, and again after a failure: a provider that is down
  // when the hub starts must not keep the hub (and its recordings API) from starting.
  const ensureStrategy = (): Promise<void> => {
    ready ??= discover(opts.oidc.issuer).then((d) => {
      passport.use('oidc', strategy(d, opts, sealer));
      discovered = d;
      endSession = d.end_session_endpoint;
      idp.observe(true);
      log.info({ issuer: d.issuer }, 'OpenID provider discovered');
    }).catch((err: Error) => {
      ready = null;
      idp.observe(false);
      log.warn({ err: err.message, issuer: opts.oidc.issuer }, 'OpenID provider discovery failed');
      throw AppError.unavailable(`the identity provider ${opts.oidc.issuer} cannot be reached; try again shortly`);
    });
    return ready;
  };

  const routes = express.Router();
  routes.use(passport.initialize());

  routes.get('/login', async (req, res, next) => {
    await ensureStrategy();
    const returnTo = typeof req.query.returnTo === 'string' && RETURN_TO.test(req.query.returnTo) ? req.query.returnTo : '/';
    req.session.returnTo = returnTo;
    passport.authenticate('oidc', { session: false })(req, res, next);
  });

  routes.get('/callback', async (req, res, next) => {
    await ensureStrategy();
    passport.authenticate('oidc', { session: false }, (err: unknown, user: LoginSession | false, info?: { message?: string; ours?: boolean }) => {
      // What the provider or the URL says is never echoed: the messages here are fixed, or the
      // hub's own (a login without a Vigil role says so).
      if (err) {
        if (err instanceof AppError) return next(err);
        if (refusedByProvider(err)) {
          log.info({ code: providerCode(err) }, 'login refused by the identity provider');
          return next(AppError.forbidden(LOGIN_NOT_ACCEPTED));
        }
        log.warn({ err: (err as Error)?.message }, 'login failed: the identity provider could not be asked');
        return next(AppError.badGateway('the identity provider\'s answer could not be verified'));
      }
      if (!user) {
        if (info?.ours && info.message) return next(AppError.forbidden(`login refused: ${info.message}`));
        log.info('login refused: no identity confirmed');
        next(AppError.forbidden('login refused: the identity provider did not confirm who you are; start again from the login page'));
        return;
      }
      const returnTo = req.session.returnTo ?? '/';
      // A new session id at login: an id planted before it (session fixation) is worth nothing.
      req.session.regenerate((regenerateErr) => {
        if (regenerateErr) {
          next(regenerateErr);
          return;
        }
        req.session.login = user;
        log.info({ user: user.subject, roles: user.roles }, 'logged in');
        req.session.save((saveErr) => (saveErr ? next(saveErr) : res.redirect(303, returnTo)));
      });
    })(req, res, next);
  });

  routes.post('/logout', (req, res, next) => {
    const login = req.session?.login;
    if (!login) {
      res.json({} satisfies LogoutResponse);
      return;
    }
    checkCsrf(req, login);
    const sessionId = req.sessionID;
    // The session is replaced by a marker without the login (kept LOGGED_OUT_KEPT_MS), not
    // deleted: a hub whose recheck reads it before this logout's broadcast arrives then says
    // "logged out" too, not "your login has ended". Like destroy(), the request keeps no session,
    // so nothing saves or touches it on the way out.
    const marker = { cookie: { originalMaxAge: LOGGED_OUT_KEPT_MS, expires: new Date(Date.now() + LOGGED_OUT_KEPT_MS), path: '/', httpOnly: true }, loggedOutAt: new Date().toISOString() };
    delete (req as { session?: unknown }).session;
    req.sessionStore.set(sessionId, marker as session.SessionData, (err) => {
      if (err) {
        next(err);
        return;
      }
      res.clearCookie(SESSION_COOKIE, { path: '/', httpOnly: true, sameSite: 'lax', secure });
      log.info({ user: login.subject }, 'logged out');
      for (const listener of logoutListeners) listener(sessionId);
      // Without the provider's logout, the next login would pass through its session silently.
      const body: LogoutResponse = {};
      if (endSession && login.idToken) {
        const url = new URL(endSession);
        url.searchParams.set('id_token_hint', login.idToken);
        url.searchParams.set('client_id', opts.oidc.clientId);
        url.searchParams.set('post_logout_redirect_uri', `${opts.publicUrl.replace(/\/$/, '')}/auth/logged-out`);
        body.redirect = url.toString();
      }
      res.json(body);
    });
  });

  routes.get('/logged-out', (_req, res) => {
    res.type('html').send('<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Vigil</title></head>' +
      '<body><h1>You are logged out of Vigil.</h1><p><a href="/">Log in again</a></p></body></html>');
  });

  const logins = loginChecker({
    store,
    recheckMs: opts.recheckMs ?? 60_000,
    logger: opts.logger,
    askProvider: (login) => (discovered ? askProvider(login, discovered, sealer, opts.oidc) : Promise.resolve(null)),
  });
  return {
    session: sessionMiddleware, routes, idpReachable: () => idp.check(), logins,
    onLogout: (listener) => void logoutListeners.push(listener),
  };
}

/**
 * The provider's word on a login now, from userinfo with the login's access token: refused when
 * it no longer accepts the token or the person has no Vigil role left; null when it cannot be asked
 * (no token, token expired, provider away), so the login keeps the roles last confirmed.
 */
async function askProvider(login: LoginSession, d: Discovery, sealer: TextSealer, oidc: OidcSettings): Promise<ProviderAnswer> {
  const token = login.accessToken ? sealer.open(login.accessToken) : null;
  if (!token || (login.accessTokenExpiresAt && Date.parse(login.accessTokenExpiresAt) <= Date.now())) return null;
  let res: globalThis.Response;
  try {
    res = await fetch(d.userinfo_endpoint, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(5000) });
  } catch {
    return null;
  }
  if (res.status === 401 || res.status === 403) {
    await res.arrayBuffer();
    return { refused: 'the identity provider no longer accepts this login' };
  }
  if (!res.ok) {
    await res.arrayBuffer();
    return null;
  }
  const info = (await res.json()) as JWTPayload;
  if (info.sub === undefined || info[oidc.roles.claim] === undefined) return null;
  const roles = mapRoles(info[oidc.roles.claim], oidc.roles.map);
  if (roles.length === 0) return { refused: `${login.subject} is no longer in a group that has a Vigil role` };
  return { roles, groups: groupList(info[oidc.roles.claim]) };
}

const LOGIN_NOT_ACCEPTED = 'login refused: the identity provider did not accept this login; start again from the login page';

/**
 * An error that is the provider's (or the callback URL's) no, not a failure to reach it: an
 * `error` the provider sent back in the URL, or a code it refused (invalid, used, forged).
 */
function refusedByProvider(err: unknown): boolean {
  const e = err as { name?: string; oauthError?: { statusCode?: number } };
  if (e?.name === 'AuthorizationError' || e?.name === 'TokenError') return true;
  const status = e?.oauthError?.statusCode;
  return status !== undefined && status >= 400 && status < 500;
}

/** The provider's error code, for the log: short and printable whatever the URL held. */
function providerCode(err: unknown): string {
  return String((err as { code?: unknown })?.code ?? '').replace(/[^A-Za-z0-9_.-]/g, '').slice(0, 64);
}

async function discover(issuer: string): Promise<Discovery> {
  const url = `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  if (!res.ok) throw new Error(`${url} answered ${res.status}`);
  const doc = (await res.json()) as Partial<Discovery>;
  for (const key of ['issuer', 'authorization_endpoint', 'token_endpoint', 'userinfo_endpoint', 'jwks_uri'] as const) {
    if (typeof doc[key] !== 'string') throw new Error(`${url} has no ${key}`);
  }
  if (doc.issuer !== issuer) throw new Error(`the provider calls itself ${doc.issuer}, the config says ${issuer}`);
  return doc as Discovery;
}

function strategy(d: Discovery, opts: WebLoginOptions, sealer: TextSealer): OpenIDConnectStrategy {
  const jwks = createRemoteJWKSet(new URL(d.jwks_uri));
  const { oidc } = opts;
  return new OpenIDConnectStrategy(
    {
      issuer: d.issuer,
      authorizationURL: d.authorization_endpoint,
      tokenURL: d.token_endpoint,
      userInfoURL: d.userinfo_endpoint,
      clientID: oidc.clientId,
      clientSecret: opts.clientSecret,
      callbackURL: `${opts.publicUrl.replace(/\/$/, '')}/auth/callback`,
      // The strategy adds `openid` itself.
      scope: oidc.scopes.filter((s) => s !== 'openid'),
      nonce: 'true',
      skipUserProfile: true,
    },
    // Arity 9 hands over the raw ID token and the access token.
    (_iss: string, _uiProfile: unknown, _idProfile: unknown, _context: unknown, idToken: string | object, accessToken: string | object, _refreshToken: string, params: { expires_in?: unknown } | undefined, done: (err: Error | null, user?: LoginSession | false, info?: { message: string; ours: true }) => void) => {
      verifyLogin(String(idToken), String(accessToken), d, jwks, oidc).then(
        (result) => {
          if ('refused' in result) return done(null, false, { message: result.refused, ours: true });
          const expiresIn = Number(params?.expires_in);
          done(null, {
            ...result.login,
            accessToken: sealer.seal(String(accessToken)),
            ...(Number.isFinite(expiresIn) && expiresIn > 0 ? { accessTokenExpiresAt: new Date(Date.now() + expiresIn * 1000).toISOString() } : {}),
          });
        },
        (err: Error) => done(err),
      );
    },
  );
}

async function verifyLogin(
  idToken: string, accessToken: string, d: Discovery, jwks: ReturnType<typeof createRemoteJWKSet>, oidc: OidcSettings,
): Promise<{ login: LoginSession } | { refused: string }> {
  const { payload } = await jwtVerify(idToken, jwks, { issuer: d.issuer, audience: oidc.clientId });
  let claims: JWTPayload = payload;
  if (claims[oidc.roles.claim] === undefined) {
    const res = await fetch(d.userinfo_endpoint, { headers: { authorization: `Bearer ${accessToken}` }, signal: AbortSignal.timeout(5000) });
    if (!res.ok) throw new Error(`userinfo answered ${res.status}`);
    const info = (await res.json()) as JWTPayload;
    if (info.sub !== payload.sub) throw new Error('userinfo is about another subject than the ID token');
    claims = { ...info, ...payload };
  }
  const username = stringClaim(claims[oidc.usernameClaim]) ?? stringClaim(claims.sub);
  if (!username) return { refused: 'the identity provider named no user' };
  const roles = mapRoles(claims[oidc.roles.claim], oidc.roles.map);
  if (roles.length === 0) return { refused: `${username} is in no group that has a Vigil role` };
  return {
    login: {
      subject: username,
      name: stringClaim(claims.name),
      email: stringClaim(claims.email),
      roles,
      groups: groupList(claims[oidc.roles.claim]),
      csrfToken: crypto.randomBytes(24).toString('base64url'),
      loggedInAt: new Date().toISOString(),
      idToken,
    },
  };
}

function stringClaim(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 && value.length <= 256 ? value : undefined;
}

/** The groups claim (an array of strings or one string) as a list of names. */
export function groupList(groups: unknown): string[] {
  const list = Array.isArray(groups) ? groups : groups === undefined ? [] : [groups];
  return list.filter((g): g is string => typeof g === 'string' && g.length > 0 && g.length <= 256).slice(0, 200);
}

/** Groups (an array of strings or one string) to Vigil roles, in ROLES order, each once. */
export function mapRoles(groups: unknown, map: Record<string, Role[]>): Role[] {
  const granted = new Set<Role>();
  for (const group of groupList(groups)) {
    if (!Object.hasOwn(map, group)) continue;
    for (const role of map[group]) granted.add(role);
  }
  return ROLES.filter((r) => granted.has(r));
}
