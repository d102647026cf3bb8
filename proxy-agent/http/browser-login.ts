// Web consoles behind an HTTP target: a browser holds no bearer token, so the agent sends a person
// who arrives without one to the hub (`/connect/http/TARGET?return=PATH`), where they log in with
// the dashboard's OpenID login; the hub gives them a connection token and a page that POSTs it to
// this target's `/.vigil/login`, which sets it as an HttpOnly cookie for this target only and sends
// them back where they were going. The cookie lasts as long as the token; `/.vigil/logout` drops
// it. Paths under `/.vigil/` are the agent's own: they never reach the target.
import type { IncomingHttpHeaders } from 'node:http';
import type { ClientRequest, ClientResponse } from './exchange.ts';

export const AGENT_PATH = '/.vigil/';
const FORM_LIMIT = 16 * 1024;
/** A path on this target to return to (not `//host`, which a browser reads as another site). */
const RETURN_PATH = /^\/(?![/\\])[\x21-\x7e]*$/;

/** A browser navigating (not a script or an API client): it is sent to log in rather than told 401. */
export function isBrowserNavigation(method: string | undefined, headers: IncomingHttpHeaders): boolean {
  if (method !== 'GET' && method !== 'HEAD') return false;
  if (headers['sec-fetch-mode'] && headers['sec-fetch-mode'] !== 'navigate') return false;
  return (headers.accept ?? '').includes('text/html');
}

/** Where the hub logs the person in and hands a token back for this target. */
export function loginRedirect(hubUrl: string, target: string, url: string | undefined): string {
  const back = url && RETURN_PATH.test(url) ? url : '/';
  return `${hubUrl.replace(/\/$/, '')}/connect/http/${encodeURIComponent(target)}?return=${encodeURIComponent(back)}`;
}

export interface LoginForm {
  token: string;
  return: string;
}

/** The hub's form (application/x-www-form-urlencoded), read up to a small bound; null when it is not one. */
export async function readLoginForm(req: ClientRequest): Promise<LoginForm | null> {
  if (!(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) return null;
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > FORM_LIMIT) return null;
    chunks.push(chunk);
  }
  const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
  const token = form.get('token');
  if (!token) return null;
  const back = form.get('return') ?? '/';
  return { token, return: RETURN_PATH.test(back) ? back : '/' };
}

/** The login cookie: HttpOnly (scripts of the console cannot read it), Lax (not sent on other sites' POSTs). */
export function setLoginCookie(res: ClientResponse, name: string, token: string, expiresAt: Date, secure: boolean, back: string): void {
  const maxAge = Math.max(Math.floor((expiresAt.getTime() - Date.now()) / 1000), 0);
  res.writeHead(303, {
    location: back,
    'set-cookie': `${name}=${encodeURIComponent(token)}; Path=/; Max-Age=${maxAge}; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`,
    'cache-control': 'no-store',
  });
  res.end();
}

export function clearLoginCookie(res: ClientResponse, name: string, secure: boolean): void {
  res.writeHead(200, {
    'content-type': 'text/plain; charset=utf-8',
    'set-cookie': `${name}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`,
    'cache-control': 'no-store',
  });
  res.end('Logged out of this target.\n');
}
