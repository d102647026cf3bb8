// A dashboard login over plain HTTP for hub tests: the login cookie with its CSRF token, and a
// Socket.IO connection that carries the cookie.
import { io as connect, type Socket } from 'socket.io-client';
import type { ClientToServer, ServerToClient } from '../../common/live/contract.ts';
import { browserLike, loginThroughProvider } from './oidc-login-client.ts';

export type LiveClient = Socket<ServerToClient, ClientToServer>;

/** Logs `user` in through the provider: the cookie to send and the CSRF token writes need. */
export async function loginCookie(hubUrl: string, user: string): Promise<{ cookie: string; csrf: string }> {
  const browser = browserLike();
  await loginThroughProvider(browser, hubUrl, user);
  const cookie = browser.jar.header();
  const me = (await (await fetch(`${hubUrl}/api/me`, { headers: { cookie } })).json()) as { csrfToken: string };
  return { cookie, csrf: me.csrfToken };
}

/** A live connection with that cookie, once connected; refused, it rejects with the hub's reason and is closed. */
export async function liveSocket(hubUrl: string, cookie: string): Promise<LiveClient> {
  const socket: LiveClient = connect(hubUrl, { transports: ['websocket'], reconnection: false, extraHeaders: { cookie } });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', (err) => {
      socket.disconnect();
      reject(err);
    });
  });
  return socket;
}
