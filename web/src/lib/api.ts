// The hub's REST API from the dashboard: same origin, the login cookie, the CSRF token on every
// state-changing request. A 401 sends the person to the login, back to where they were.
import type { LogoutResponse, MeResponse } from '../../../common/api-contract.ts';

export type Me = MeResponse;

export class ApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

let csrfToken = '';

export function login(): never {
  const returnTo = `/${location.hash}`;
  location.assign(`/auth/login?returnTo=${encodeURIComponent(returnTo)}`);
  throw new ApiError(401, 'redirecting to the login');
}

async function call<T>(method: string, path: string, json?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (method !== 'GET') headers['x-csrf-token'] = csrfToken;
  if (json !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, { method, headers, credentials: 'same-origin', body: json === undefined ? undefined : JSON.stringify(json) });
  if (res.status === 401) login();
  const body = res.status === 204 ? null : await res.json().catch(() => null);
  if (!res.ok) throw new ApiError(res.status, body?.error?.message ?? `${method} ${path} failed (${res.status})`);
  return body as T;
}

export async function me(): Promise<Me> {
  const who = await call<Me>('GET', '/api/me');
  csrfToken = who.csrfToken ?? '';
  return who;
}

export const get = <T>(path: string) => call<T>('GET', path);
export const post = <T>(path: string, json?: unknown) => call<T>('POST', path, json);
export const del = (path: string) => call<null>('DELETE', path);

/** Ends the hub's session, then the provider's (else the next login would pass silently). */
export async function logout(): Promise<void> {
  const res = await fetch('/auth/logout', { method: 'POST', headers: { 'x-csrf-token': csrfToken }, credentials: 'same-origin' });
  const body = (await res.json().catch(() => ({}))) as LogoutResponse;
  location.assign(body.redirect ?? '/auth/logged-out');
}
