import session from 'express-session';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../common/log.ts';
import type { LoginSession } from './auth.ts';
import { loginChecker, type ProviderAnswer } from './login-check.ts';

const login = (loggedInAt: string): LoginSession => ({ subject: 'aaron', roles: ['approver', 'engineer'], groups: ['vigil-approvers'], csrfToken: 'c', loggedInAt });
const put = (store: session.Store, sid: string, value: LoginSession) =>
  new Promise<void>((resolve) => store.set(sid, { cookie: { originalMaxAge: 60_000 } as session.Cookie, login: value }, () => resolve()));
const get = (store: session.Store, sid: string) => new Promise<unknown>((resolve) => store.get(sid, (_e, d) => resolve(d ?? null)));

describe('login checks', () => {
  it('when a logout lands while the provider is being asked, then the ended login stays ended', async () => {
    const store = new session.MemoryStore();
    let answer!: (a: ProviderAnswer) => void;
    const checker = loginChecker({ store, recheckMs: 1000, logger: silentLogger, askProvider: () => new Promise((resolve) => (answer = resolve)) });
    await put(store, 's1', login(new Date(Date.now() - 5000).toISOString()));
    const verdict = checker.check('s1');
    await new Promise((resolve) => setTimeout(resolve, 10));
    await new Promise<void>((resolve) => store.destroy('s1', () => resolve()));
    answer({ roles: ['engineer'], groups: ['vigil-engineers'] });
    await verdict;
    expect(await get(store, 's1')).toBeNull();
    expect(await checker.check('s1')).toMatchObject({ ok: false, reason: 'login_ended' });
  });

  it('when the session holds a logout\'s marker, then the login ended by logout; when it is gone, then it ended', async () => {
    const store = new session.MemoryStore();
    const checker = loginChecker({ store, recheckMs: 1000, logger: silentLogger, askProvider: async () => null });
    await new Promise<void>((resolve) => store.set('s3', { cookie: { originalMaxAge: 60_000 } as session.Cookie, loggedOutAt: new Date().toISOString() }, () => resolve()));
    expect(await checker.check('s3')).toEqual({ ok: false, reason: 'logged_out', message: 'you logged out: log in again to watch' });
    expect(await checker.check('s4')).toMatchObject({ ok: false, reason: 'login_ended' });
  });

  it('when the provider names other groups, then the login has the new roles until it is asked again; refused, the login ends', async () => {
    const store = new session.MemoryStore();
    const answers: ProviderAnswer[] = [{ roles: ['engineer'], groups: ['vigil-engineers'] }, { refused: 'the identity provider no longer accepts this login' }];
    let asked = 0;
    const checker = loginChecker({ store, recheckMs: 40, logger: silentLogger, askProvider: async () => answers[asked++] });
    await put(store, 's2', login(new Date(Date.now() - 1000).toISOString()));
    expect(await checker.check('s2')).toMatchObject({ ok: true, login: { roles: ['engineer'], groups: ['vigil-engineers'] } });
    // Within half the interval the confirmation stands without asking.
    expect(await checker.check('s2')).toMatchObject({ ok: true, login: { roles: ['engineer'] } });
    expect(asked).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(await checker.check('s2')).toMatchObject({ ok: false, message: 'your login has ended: the identity provider no longer accepts this login; log in again' });
    expect(await get(store, 's2')).toBeNull();
  });
});
