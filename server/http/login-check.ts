// Is a dashboard login still good? The live server asks for each open socket every half
// `recheckMs` and before every new subscription; the REST routes ask when the login was last
// confirmed half of that ago or more. So no login goes unconfirmed longer than `recheckMs`. A login is good while its server-side session exists (logout
// on any hub, or expiry, removes it) and while the identity provider still accepts it: asked
// with the login's own access token (userinfo), the provider may refuse it (account disabled,
// token revoked) or name other groups, so roles removed there are removed here within a recheck.
import type session from 'express-session';
import type { Logger } from '../../common/log.ts';
import type { Role } from '../../common/roles.ts';
import type { LoginSession } from './auth.ts';

export type LoginVerdict =
  | { ok: true; login: LoginSession }
  | { ok: false; reason: 'login_ended'; message: string };

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
  /** The login's verdict now; null when the session store cannot be read (ask again later). */
  check(sessionId: string): Promise<LoginVerdict | null>;
  /** Whether the login was confirmed half a recheck interval ago or more. */
  due(login: LoginSession): boolean;
}

const ENDED = 'your login has ended (logged out, expired or ended elsewhere): log in again';

export function loginChecker(opts: LoginCheckOptions): LoginChecker {
  const log = opts.logger.child({ component: 'login-check' });
  const due = (login: LoginSession) => Date.now() - Date.parse(login.confirmedAt ?? login.loggedInAt) >= opts.recheckMs / 2;
  const read = (sid: string) => new Promise<session.SessionData | null>((resolve, reject) => {
    opts.store.get(sid, (err, data) => (err ? reject(err) : resolve(data ?? null)));
  });
  const write = (sid: string, data: session.SessionData) => new Promise<void>((resolve, reject) => {
    opts.store.set(sid, data, (err) => (err ? reject(err) : resolve()));
  });
  /** One provider round trip per login at a time, however many sockets ask. */
  const asking = new Map<string, Promise<LoginVerdict | null>>();

  const confirm = async (sid: string, data: session.SessionData, login: LoginSession): Promise<LoginVerdict | null> => {
    const answer = await opts.askProvider(login);
    if (answer && 'refused' in answer) {
      log.info({ user: login.subject, why: answer.refused }, 'login ended: the identity provider no longer accepts it');
      await new Promise<void>((resolve) => opts.store.destroy(sid, () => resolve()));
      return { ok: false, reason: 'login_ended', message: `your login has ended: ${answer.refused}; log in again` };
    }
    const confirmed: LoginSession = { ...login, ...(answer ?? {}), confirmedAt: new Date().toISOString() };
    if (answer && answer.roles.join() !== login.roles.join()) log.info({ user: login.subject, was: login.roles, now: answer.roles }, 'roles changed at the identity provider');
    await write(sid, { ...data, login: confirmed });
    return { ok: true, login: confirmed };
  };

  return {
    recheckMs: opts.recheckMs,
    due,
    async check(sid) {
      let data: session.SessionData | null;
      try {
        data = await read(sid);
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'login check: the session store cannot be read');
        return null;
      }
      const login = data?.login;
      if (!data || !login) return { ok: false, reason: 'login_ended', message: ENDED };
      if (!due(login)) return { ok: true, login };
      let pending = asking.get(sid);
      if (!pending) {
        pending = confirm(sid, data, login).catch((err: Error) => {
          log.warn({ err: err.message }, 'login check failed');
          return null;
        }).finally(() => asking.delete(sid));
        asking.set(sid, pending);
      }
      return pending;
    },
  };
}
