// Is a dashboard login still good? The live server asks for each open socket every half
// `recheckMs` and before every new subscription; the REST routes ask on every request. A login is
// good while its server-side session holds it (a logout on any hub leaves a marker without it,
// expiry removes it) and while the identity provider still accepts it: asked with the login's own
// access token (userinfo) at most once per half `recheckMs` per hub, the provider may refuse it
// (account disabled, token revoked) or name other groups, so roles removed there are removed here
// within `recheckMs`.
//
// What the provider confirmed is kept in this hub's memory, never written back to the session
// store: a write racing a logout on another hub would bring the ended session back.
import type session from 'express-session';
import type { Logger } from '../../common/log.ts';
import type { Role } from '../../common/roles.ts';
import type { LoginSession } from './auth.ts';

export type LoginVerdict =
  | { ok: true; login: LoginSession }
  | { ok: false; reason: 'login_ended' | 'logged_out'; message: string };

/** What the provider says of a login now: its groups and roles, refused, or nothing (not asked, or not reachable). */
export type ProviderAnswer = { roles: Role[]; groups: string[] } | { refused: string } | null;

export interface LoginCheckOptions {
  store: session.Store;
  recheckMs: number;
  /** Asks the provider about a login (web-login.ts: userinfo with its access token). */
  askProvider(login: LoginSession): Promise<ProviderAnswer>;
  logger: Logger;
}

export interface LoginChecker {
  readonly recheckMs: number;
  /**
   * The login's verdict now; null when the session store cannot be read (ask again later).
   * `stored`: the session's login as the caller just read it (a REST request), to save a read.
   */
  check(sessionId: string, stored?: LoginSession): Promise<LoginVerdict | null>;
}

const ENDED = 'your login has ended (logged out, expired or ended elsewhere): log in again';
export const LOGGED_OUT = 'you logged out: log in again to watch';
/** Confirmations not asked for this long are forgotten (the login has gone quiet or ended). */
const FORGET_MS = 3_600_000;

interface Confirmed {
  /** Which login it confirmed (a new login under the same session id starts over). */
  loggedInAt: string;
  roles: Role[];
  groups: string[];
  at: number;
  usedAt: number;
}

export function loginChecker(opts: LoginCheckOptions): LoginChecker {
  const log = opts.logger.child({ component: 'login-check' });
  const confirmed = new Map<string, Confirmed>();
  /** One provider round trip per login at a time, however many sockets and requests ask. */
  const asking = new Map<string, Promise<LoginVerdict | null>>();
  let forgottenAt = Date.now();
  const read = (sid: string) => new Promise<session.SessionData | null>((resolve, reject) => {
    opts.store.get(sid, (err, data) => (err ? reject(err) : resolve(data ?? null)));
  });
  const forgetQuiet = (now: number) => {
    if (now - forgottenAt < FORGET_MS / 4) return;
    forgottenAt = now;
    for (const [sid, c] of confirmed) if (now - c.usedAt > FORGET_MS) confirmed.delete(sid);
  };
  const withConfirmed = (login: LoginSession, c: Confirmed): LoginSession => ({ ...login, roles: c.roles, groups: c.groups });

  const confirm = async (sid: string, login: LoginSession): Promise<LoginVerdict | null> => {
    const answer = await opts.askProvider(login);
    if (answer && 'refused' in answer) {
      log.info({ user: login.subject, why: answer.refused }, 'login ended: the identity provider no longer accepts it');
      confirmed.delete(sid);
      await new Promise<void>((resolve) => opts.store.destroy(sid, () => resolve()));
      return { ok: false, reason: 'login_ended', message: `your login has ended: ${answer.refused}; log in again` };
    }
    const before = confirmed.get(sid);
    const roles = answer?.roles ?? (before?.loggedInAt === login.loggedInAt ? before.roles : login.roles);
    const groups = answer?.groups ?? (before?.loggedInAt === login.loggedInAt ? before.groups : login.groups ?? []);
    if (roles.join() !== login.roles.join()) log.info({ user: login.subject, was: login.roles, now: roles }, 'roles changed at the identity provider');
    const now = Date.now();
    const c: Confirmed = { loggedInAt: login.loggedInAt, roles, groups, at: now, usedAt: now };
    confirmed.set(sid, c);
    return { ok: true, login: withConfirmed(login, c) };
  };

  return {
    recheckMs: opts.recheckMs,
    async check(sid, stored) {
      const now = Date.now();
      forgetQuiet(now);
      let login = stored;
      let loggedOut = false;
      if (!login) {
        try {
          const data = await read(sid);
          login = data?.login;
          loggedOut = data?.loggedOutAt !== undefined;
        } catch (err) {
          log.warn({ err: (err as Error).message }, 'login check: the session store cannot be read');
          return null;
        }
      }
      if (!login) {
        confirmed.delete(sid);
        // A logout leaves a marker (web-login.ts): a hub that reads it before the logout's
        // broadcast reaches it says the same as the broadcast would.
        return loggedOut ? { ok: false, reason: 'logged_out', message: LOGGED_OUT } : { ok: false, reason: 'login_ended', message: ENDED };
      }
      const c = confirmed.get(sid);
      const fresh = c && c.loggedInAt === login.loggedInAt ? c : null;
      const since = fresh ? fresh.at : Date.parse(login.loggedInAt);
      if (now - since < opts.recheckMs / 2) {
        if (fresh) fresh.usedAt = now;
        return { ok: true, login: fresh ? withConfirmed(login, fresh) : login };
      }
      let pending = asking.get(sid);
      if (!pending) {
        pending = confirm(sid, login).catch((err: Error) => {
          log.warn({ err: err.message }, 'login check failed');
          return null;
        }).finally(() => asking.delete(sid));
        asking.set(sid, pending);
      }
      return pending;
    },
  };
}
