// How an HTTP client proves who it is to the agent: its Vigil connection token as a bearer token
// (`Authorization: Bearer TOKEN`: curl, SDKs, kubectl), as a basic-auth password (`-u user:TOKEN`:
// tools that only know passwords), or in the cookie a browser login set (web consoles). Whichever
// it is, it stops at the agent.
import type { IncomingHttpHeaders } from 'node:http';

export interface PresentedToken {
  token: string;
  via: 'bearer' | 'basic' | 'cookie';
  /** Basic auth: the user name given with it ('' when none). */
  basicUser?: string;
}

/** The cookie a browser login sets for a target: per target, since cookies do not tell ports apart. */
export const loginCookieName = (target: string) => `vigil_${target.replace(/-/g, '_')}`;

export function presentedToken(headers: IncomingHttpHeaders, cookieName: string): PresentedToken | null {
  const auth = headers.authorization;
  if (auth) {
    const [scheme, value = ''] = splitOnce(auth.trim(), ' ');
    if (/^bearer$/i.test(scheme)) return { token: value.trim(), via: 'bearer' };
    if (/^basic$/i.test(scheme)) {
      const decoded = Buffer.from(value.trim(), 'base64').toString('utf8');
      const [user, password = ''] = splitOnce(decoded, ':');
      return { token: password, via: 'basic', basicUser: user };
    }
  }
  const cookie = headers.cookie;
  if (cookie) {
    for (const part of cookie.split(';')) {
      const [name, value = ''] = splitOnce(part.trim(), '=');
      if (name === cookieName && value) return { token: decodeURIComponent(value), via: 'cookie' };
    }
  }
  return null;
}

/**
 * The Cookie header without Vigil's own cookies (null when nothing is left): the agent's login
 * cookies (`vigil_TARGET`) and the hub's dashboard login (`vigil.sid`), which a browser sends to
 * every port of a host (cookies do not tell ports apart) and no target may hold.
 */
export function withoutVigilCookies(cookie: string): string | null {
  const ours = (name: string) => name.startsWith('vigil_') || name.startsWith('vigil.');
  const kept = cookie.split(';').map((p) => p.trim()).filter((p) => p && !ours(splitOnce(p, '=')[0]));
  return kept.length ? kept.join('; ') : null;
}

function splitOnce(text: string, separator: string): [string, string?] {
  const i = text.indexOf(separator);
  return i < 0 ? [text] : [text.slice(0, i), text.slice(i + 1)];
}
