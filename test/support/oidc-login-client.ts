// A browser's part in the OpenID login, over plain HTTP: follows redirects by hand, keeps cookies
// per host (as browsers do, across ports), and on the dev identity provider's login page presses
// the button of the chosen user. What the hub and the provider do is the real flow.

export class CookieJar {
  private readonly cookies = new Map<string, string>();

  store(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      if (eq < 1) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attrs.some((a) => /^\s*max-age=0\s*$/i.test(a) || /^\s*expires=Thu, 01 Jan 1970/i.test(a));
      if (expired || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  get(name: string): string | undefined {
    return this.cookies.get(name);
  }
}

export interface BrowserLike {
  jar: CookieJar;
  /** fetch with the jar's cookies, no automatic redirects. */
  fetch(url: string, init?: RequestInit): Promise<Response>;
}

export function browserLike(): BrowserLike {
  const jar = new CookieJar();
  return {
    jar,
    async fetch(url, init = {}) {
      const headers = new Headers(init.headers);
      const cookie = jar.header();
      if (cookie) headers.set('cookie', cookie);
      const res = await fetch(url, { ...init, headers, redirect: 'manual' });
      jar.store(res);
      return res;
    },
  };
}

export interface LoginResult {
  /** The last response: the hub's redirect after login, or where the flow stopped. */
  response: Response;
  /** Every URL visited, in order. */
  visited: string[];
}

/** Runs the whole login from `${hubUrl}/auth/login` as `username` on the dev identity provider. */
export async function loginThroughProvider(browser: BrowserLike, hubUrl: string, username: string, returnTo = '/'): Promise<LoginResult> {
  const visited: string[] = [];
  let url = `${hubUrl}/auth/login?returnTo=${encodeURIComponent(returnTo)}`;
  let init: RequestInit | undefined;
  for (let step = 0; step < 20; step++) {
    visited.push(url);
    const res = await browser.fetch(url, init);
    init = undefined;
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location) {
      const next = new URL(location, url).toString();
      // Back at the hub, past the callback: logged in (or refused, which the caller checks).
      if (next.startsWith(hubUrl) && !next.startsWith(`${hubUrl}/auth/`)) return { response: res, visited };
      url = next;
      continue;
    }
    const body = await res.text();
    const form = /<form method="post" action="([^"]+)"/.exec(body);
    if (res.status === 200 && form) {
      url = new URL(form[1], url).toString();
      init = { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ username }).toString() };
      continue;
    }
    return { response: new Response(body, { status: res.status, headers: res.headers }), visited };
  }
  throw new Error(`login did not finish: ${visited.join(' -> ')}`);
}

export type ApiCall = (method: string, route: string, body?: unknown) => Promise<{ status: number; body: any }>;

/** The hub's API as `user` logged in through the provider: the login cookie and the CSRF token. */
export async function apiAs(hubUrl: string, user: string): Promise<ApiCall> {
  const browser = browserLike();
  await loginThroughProvider(browser, hubUrl, user);
  const me = (await (await browser.fetch(`${hubUrl}/api/me`)).json()) as { csrfToken: string };
  return async (method, route, body) => {
    const res = await browser.fetch(`${hubUrl}${route}`, {
      method,
      headers: { 'x-csrf-token': me.csrfToken, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    return { status: res.status, body: res.status === 204 ? null : await res.json().catch(() => null) };
  };
}
