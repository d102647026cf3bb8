// Browser logins to HTTP targets (web consoles): the agent sends a browser without a login here
// (proxy-agent/http/browser-login.ts). The person logs in to the dashboard if they have not, and
// gets a page that hands a connection token for the target to the target's own /.vigil/login by
// a POST (never in a URL: it would land in histories and logs), which the page submits at once.
//   GET /connect/http/:name?return=PATH   (engineers, admins; logged out: to the login first)
//   GET /connect/handoff.js               the page's one script: it submits the form
// The form goes only to the target's configured URL, whatever `return` says: the token cannot be
// sent anywhere else, and `return` is only ever a path on that target.
import { Router, type RequestHandler } from 'express';
import type { Config } from '../../../common/config/schema.ts';
import { httpTargetUrl } from '../../../common/connection-uri.ts';
import type { TokenSigner } from '../../../common/tokens.ts';
import { allow, principalOf } from '../auth.ts';
import { AppError } from '../errors.ts';

const RETURN_PATH = /^\/(?![/\\])[\x21-\x7e]*$/;

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** `authenticate`: the API's; a browser without a login is sent to log in and comes back here. */
export function httpHandoffRouter(config: Config, signer: TokenSigner, tokenTtlMs: number, authenticate: RequestHandler, tokenLimit: RequestHandler, loginEnabled: boolean): Router {
  const router = Router();
  router.get('/handoff.js', (_req, res) => {
    res.type('application/javascript').send("document.getElementById('handoff').submit();\n");
  });
  router.get('/http/:name', (req, res, next) => {
    if (loginEnabled && !req.session?.login) return res.redirect(302, `/auth/login?returnTo=${encodeURIComponent(req.originalUrl)}`);
    next();
  }, authenticate, allow('engineer', 'admin'), tokenLimit, async (req, res) => {
    const target = config.targets.find((t) => t.name === req.params.name);
    if (!target || target.protocol !== 'http') throw AppError.notFound(`no HTTP target ${String(req.params.name).slice(0, 64)}`);
    const user = principalOf(res).subject;
    const token = await signer.connectionToken(user, target.name, tokenTtlMs);
    const back = typeof req.query.return === 'string' && RETURN_PATH.test(req.query.return) ? req.query.return : '/';
    const url = httpTargetUrl(config, target);
    const origin = new URL(url).origin;
    res.set({
      'cache-control': 'no-store',
      'referrer-policy': 'no-referrer',
      // The dashboard's policy, but the form may go to the target (and nowhere else).
      'content-security-policy': `default-src 'none'; script-src 'self'; form-action ${origin}; base-uri 'none'; frame-ancestors 'none'`,
    });
    res.type('html').send(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Vigil: opening ${escapeHtml(target.name)}</title>
<script src="/connect/handoff.js" defer></script></head>
<body>
<form id="handoff" method="post" action="${escapeHtml(`${url}/.vigil/login`)}">
<input type="hidden" name="token" value="${escapeHtml(token)}">
<input type="hidden" name="return" value="${escapeHtml(back)}">
<p>Opening <strong>${escapeHtml(target.name)}</strong> as ${escapeHtml(user)}. What you do there is recorded.</p>
<button type="submit">Continue</button>
</form>
</body></html>
`);
  });
  return router;
}
