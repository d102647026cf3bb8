// The hub's HTTP API as an Express 5 app (no listening here: hub.ts serves it, tests use port 0).
//   GET /healthz                         no auth, no data
//   GET /readyz                          no auth: 200/503 and each dependency up or down (readiness.ts)
//   GET /api/sessions                    ?user&target&protocol&live&from&to&limit&before
//   GET /api/sessions/:id
//   GET /api/sessions/:id/events         ?from=1&limit=1000 -> { events, next }
//   POST /api/sessions/:id/kill          { reason? } -> 202: the agent ends the live session (reviewers, admins)
//   GET /api/sessions/:id/export         ?format=jsonl -> one canonical event body per line;
//                                        ?format=asciicast -> a terminal session, asciicast v2;
//                                        ?format=har -> an HTTP session, HAR 1.2
//   GET /api/sessions/:id/verify, /api/recording-keys, /.well-known/vigil-recording-keys   (routes/trust.ts)
//   GET /api/sessions/:id/views, GET /api/views?user=   who saw what (routes/views.ts)
//   /api/holds, POST /api/purge           legal holds and purging on demand (routes/retention.ts)
//   /api/agents, POST /api/agents/enroll  agent identities: enrollment, approval, revocation (routes/agents.ts)
//   /api/access-requests, GET /api/audit  just-in-time access and the audit log (routes/access.ts)
//   GET /api/metrics                     admin only
//   GET /api/me                          who is calling: user, roles, the CSRF token of a login
//   GET /api/targets, POST /api/targets/:name/connection   (routes/targets.ts)
//   GET/POST /api/ssh-keys, DELETE /api/ssh-keys/:fingerprint   (routes/ssh-keys.ts)
//   GET /metrics                         Prometheus, admin only (an admin API token as bearer)
//   /auth/login, /auth/callback, /auth/logout   dashboard login (web-login.ts), when configured
//   GET /connect/http/:name              a browser's login to an HTTP target (routes/http-handoff.ts)
//   GET /sessions/:id                    ?t=SECONDS&seq=N: a shared link, redirected to the dashboard's player (dashboard.ts)
// Every /api route needs an API token (`Authorization: Bearer`, common/tokens.ts) or a login.
// Logins, connection tokens and failed API authentications are rate-limited per source address.
// The responses the dashboard reads are typed in common/api-contract.ts.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import express, { type Express, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import helmet from 'helmet';
import type { Registry } from 'prom-client';
import type { MeResponse } from '../../common/api-contract.ts';
import { HubRateLimits, type Config } from '../../common/config/schema.ts';
import type { Logger } from '../../common/log.ts';
import type { TokenSigner, TokenVerifier } from '../../common/tokens.ts';
import type { HubStores } from '../store/create-store.ts';
import { allow, authenticate, principalOf } from './auth.ts';
import { errorHandler, notFoundHandler } from './errors.ts';
import { sessionLinkRedirect } from './dashboard.ts';
import { sessionsRouter } from './routes/sessions.ts';
import { auditVerifyRouter, publishedKeys, recordingKeysRouter, sessionVerifyRouter } from './routes/trust.ts';
import type { AuditCheckpoints } from '../audit/audit-checkpoints.ts';
import { sessionViewsRouter, userViewsRouter } from './routes/views.ts';
import { holdsRouter, purgeRouter } from './routes/retention.ts';
import { agentsRouter, enrollHandler } from './routes/agents.ts';
import type { AgentRegistry } from '../agents/agent-registry.ts';
import type { RecordingPurger } from '../recordings/retention/purger.ts';
import type { RecordingKeys } from '../recordings/trust/recording-keys.ts';
import type { RecordingVerifier } from '../recordings/trust/recording-verifier.ts';
import { playerRouter } from './routes/player.ts';
import { sessionScope, type Actor } from '../access/access-policy.ts';
import { sessionFinder } from './routes/session-access.ts';
import { sessionSharesRouter, sharesRouter } from './routes/shares.ts';
import { searchRouter } from './routes/search.ts';
import type { AnnotationView } from '../../common/api-contract.ts';
import { accessRouter, auditRouter } from './routes/access.ts';
import type { AccessService } from '../access/access-service.ts';
import { sshKeysRouter } from './routes/ssh-keys.ts';
import { targetsRouter } from './routes/targets.ts';
import { httpHandoffRouter } from './routes/http-handoff.ts';
import type { SshKeyDirectory } from '../../common/ssh-key-directory.ts';
import type { ControlBus } from '../../common/control/control-bus.ts';
import type { LockService } from '../locks/lock-service.ts';
import { locksRouter } from './routes/locks.ts';
import type { WebLogin } from './web-login.ts';
import type { SessionReaper } from '../liveness/session-reaper.ts';
import { createRateLimits, limitPerAddress } from './rate-limit.ts';
import { readinessChecks, readinessHandler, type ReadinessCheck } from './readiness.ts';

export interface ApiAppOptions {
  /** The hub's database: recordings, the audit log, registered SSH keys. */
  stores: HubStores;
  verifier: TokenVerifier;
  logger: Logger;
  /** Operational counters served to admins at /api/metrics. */
  metrics?: () => object;
  /** Dashboard login; without it only API tokens get in. */
  webLogin?: WebLogin;
  /** Targets and the signer of connection tokens, for /api/targets. */
  targets?: { config: Config; signer: TokenSigner; tokenTtlMs: number };
  /** Served at /metrics. */
  metricsRegistry?: Registry;
  /** The dashboard's built files (web/dist), served at /. */
  dashboardDir?: string;
  /** Where agents look up registered SSH keys (/api/ssh-keys writes there). */
  sshKeyDirectory?: SshKeyDirectory;
  /** Decisions to the agents (kill). */
  control?: ControlBus;
  /** Just-in-time access requests and grants. */
  access?: AccessService;
  /** Locks (/api/locks): who or what is kept out. */
  locks?: LockService;
  /** Ends sessions whose agent is gone (a kill of such a session). */
  reaper?: SessionReaper;
  /** What /readyz checks (default: the store). */
  readiness?: Record<string, ReadinessCheck>;
  /** Per-address limits on logins, tokens and failed authentications (default: the config's defaults). */
  rateLimits?: HubRateLimits;
  /** Tells the viewers of a recording about a new note (the live server, all hubs). */
  announceAnnotation?: (annotation: AnnotationView) => void;
  /** Tamper evidence: verifying recordings, the manifest keys (routes/trust.ts). */
  trust?: { verifier: RecordingVerifier; keys: RecordingKeys; auditCheckpoints?: AuditCheckpoints };
  /** Retention: purging on demand (routes/retention.ts). */
  purger?: RecordingPurger;
  /** Agent identities (routes/agents.ts); onRevoked: tell the agents (the locks list carries it). */
  agents?: { registry: AgentRegistry; onRevoked: () => void };
}


export function createApiApp(opts: ApiAppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.use(styleNonce, securityHeaders);
  app.use(baseHeaders);
  app.use(requestLog(opts.logger));

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', readinessHandler(opts.readiness ?? readinessChecks({ store: opts.stores })));
  if (opts.trust) app.get('/.well-known/vigil-recording-keys', publishedKeys(opts.trust.keys));

  const limits = createRateLimits(opts.rateLimits ?? HubRateLimits.parse({}));
  if (opts.webLogin) {
    // Before the session is loaded: a refused request costs no session store read.
    app.get('/auth/login', limitPerAddress(limits.login, 'logins'));
    app.get('/auth/callback', limitPerAddress(limits.callback, 'logins'));
    app.use(opts.webLogin.session);
    app.use('/auth', opts.webLogin.routes);
  }

  // An agent asks to be trusted before it has any login: its token (or an admin) vouches for it.
  if (opts.agents) app.post('/api/agents/enroll', limitPerAddress(limits.tokens, 'agent enrollments'), ...enrollHandler(opts.agents.registry, opts.stores.access));

  const api = express.Router();
  const authenticated = authenticate(opts.verifier, limits.failedAuth, opts.webLogin?.logins);
  api.use(authenticated);
  api.get('/me', (req, res) => {
    const principal = principalOf(res);
    const login = principal.via === 'login' ? req.session.login : undefined;
    const body: MeResponse = {
      user: principal.subject,
      roles: principal.roles,
      via: principal.via,
      ...(login ? { name: login.name, email: login.email, csrfToken: login.csrfToken } : {}),
    };
    res.json(body);
  });
  const access = opts.access;
  const approves = access && ((actor: Actor, target: string) => access.approves(actor, target));
  const { recordings, shares } = opts.stores;
  const findSession = sessionFinder({ store: recordings, approves, shares, audit: opts.stores.access });
  const sharing = { store: recordings, shares, audit: opts.stores.access, findSession, announce: opts.announceAnnotation };
  const scopeOf = (actor: Actor) => sessionScope(actor, opts.targets?.config.targets.map((t) => t.name) ?? [], approves);
  api.use('/sessions', sessionsRouter({ store: recordings, audit: opts.stores.access, findSession, scopeOf, control: opts.control, reaper: opts.reaper }));
  api.use('/sessions', playerRouter(recordings, opts.stores.index, findSession));
  api.use('/sessions', sessionSharesRouter(sharing));
  api.use('/sessions', sessionViewsRouter(opts.stores.access, findSession));
  api.use('/views', userViewsRouter(opts.stores.access));
  api.use('/holds', holdsRouter(opts.stores.holds, opts.stores.access));
  if (opts.purger) api.use('/purge', purgeRouter(opts.purger));
  if (opts.agents) api.use('/agents', agentsRouter(opts.agents.registry, opts.stores.access, opts.agents.onRevoked));
  if (opts.trust) {
    const trust = { ...opts.trust, audit: opts.stores.access, findSession };
    api.use('/sessions', sessionVerifyRouter(trust));
    api.use('/recording-keys', recordingKeysRouter(trust));
    api.use('/audit', auditVerifyRouter(trust));
  }
  api.use('/shares', sharesRouter(sharing));
  api.use('/search', searchRouter({ index: opts.stores.index, scopeOf }));
  if (access) api.use('/access-requests', accessRouter(access));
  if (opts.locks) api.use('/locks', locksRouter(opts.locks));
  api.use('/audit', auditRouter(opts.stores.access));
  if (opts.targets) api.use('/targets', targetsRouter(opts.targets.config, opts.targets.signer, opts.targets.tokenTtlMs, limitPerAddress(limits.tokens, 'connection tokens')));
  if (opts.sshKeyDirectory) api.use('/ssh-keys', sshKeysRouter(opts.stores.sshKeys, opts.sshKeyDirectory));
  api.get('/metrics', allow('admin'), (_req, res) => {
    res.json(opts.metrics?.() ?? {});
  });
  app.use('/api', api);
  if (opts.targets) app.use('/connect', httpHandoffRouter(opts.targets.config, opts.targets.signer, opts.targets.tokenTtlMs, authenticated, limitPerAddress(limits.tokens, 'connection tokens'), Boolean(opts.webLogin)));

  const registry = opts.metricsRegistry;
  if (registry) {
    app.get('/metrics', authenticate(opts.verifier, limits.failedAuth, opts.webLogin?.logins), allow('admin'), async (_req, res) => {
      res.type(registry.contentType).send(await registry.metrics());
    });
  }

  if (opts.dashboardDir) {
    const dir = opts.dashboardDir;
    // The files carry no data: the page logs in and asks the API, which authorizes each call.
    // The page itself carries the response's style nonce.
    const page = (_req: Request, res: Response, next: NextFunction) => {
      fs.readFile(path.join(dir, 'index.html'), 'utf8', (err, html) => {
        if (err) return next();
        res.type('html').send(html.replaceAll(NONCE_PLACEHOLDER, res.locals.styleNonce as string));
      });
    };
    app.get(['/', '/index.html'], page);
    app.get('/sessions/:id', sessionLinkRedirect);
    app.use(express.static(dir, { index: false, fallthrough: true, redirect: false }));
    app.get('/', (_req, res) => {
      res.status(503).type('text/plain').send('The dashboard is not built yet: run `npm run build:web` (vigil dev does it by itself).');
    });
  }

  app.use(notFoundHandler);
  app.use(errorHandler(opts.logger));
  return app;
}

// helmet's headers with a strict Content-Security-Policy: the dashboard loads only its own
// scripts and styles and talks only to this origin; nothing may frame it. Whatever a recording
// holds is rendered as text, and this policy is the second line should that ever slip.
const securityHeaders = helmet({
  contentSecurityPolicy: {
    useDefaults: false,
    directives: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      // Plus the page's nonce: the terminal view (xterm.js) sizes and colours itself with <style>
      // elements it creates; the page gives them this response's nonce (web/src/lib/style-nonce.ts).
      styleSrc: ["'self'", (_req, res) => `'nonce-${(res as Response).locals.styleNonce}'`],
      imgSrc: ["'self'", 'data:'],
      fontSrc: ["'self'"],
      connectSrc: ["'self'"],
      objectSrc: ["'none'"],
      baseUri: ["'none'"],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
    },
  },
  crossOriginEmbedderPolicy: false,
});

/** In web/index.html; replaced with the response's style nonce. */
const NONCE_PLACEHOLDER = '__VIGIL_STYLE_NONCE__';

/** A fresh nonce per response for the <style> elements the page itself makes. */
const styleNonce: RequestHandler = (_req, res, next) => {
  res.locals.styleNonce = crypto.randomBytes(16).toString('base64');
  next();
};

// Recordings are sensitive even masked: never cached, never sniffed into another type.
const baseHeaders: RequestHandler = (_req, res, next) => {
  res.set({
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
  });
  next();
};

function requestLog(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      // The path only: query strings are the caller's business, headers may carry tokens.
      logger.debug({ method: req.method, path: req.path, status: res.statusCode, ms: Number(process.hrtime.bigint() - started) / 1e6 }, 'api');
    });
    next();
  };
}
