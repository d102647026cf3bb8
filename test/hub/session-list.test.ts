// Finding sessions, on both stores (a PostgreSQL database of its own, and embedded PGlite), through
// GET /api/sessions: parts of a user's or target's name whatever their case, the user's % _ \ as
// themselves, how each session ended in the end's own words, and pages of 100 beyond the first.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { SessionListResponse, SessionSummary } from '../../common/api-contract.ts';
import { encodeEvent, VigilEvent } from '../../common/events/index.ts';
import { silentLogger } from '../../common/log.ts';
import { ensureSigningKey, TokenSigner, TokenVerifier } from '../../common/tokens.ts';
import { createApiApp } from '../../server/http/app.ts';
import { hubEndEvent } from '../../server/liveness/hub-end.ts';
import type { StoredEvent } from '../../server/recordings/store/recording-store.ts';
import { createMemoryStore, createStore, type HubStores } from '../../server/store/create-store.ts';
import { SessionEvents } from '../store/event-factory.ts';
import { serveApp, type ServedApp } from '../support/serve-app.ts';
import { createFreshDatabase } from './fresh-database.ts';

/** The agent's end of a session a person ended, with its message (as session-control.ts writes it). */
function endWithMessage(s: SessionEvents, reason: 'killed' | 'revoked' | 'locked', message: string): StoredEvent {
  const plain = s.end(reason);
  const event = VigilEvent.parse({ ...plain.event, data: { ...plain.event.data, message } });
  return { event, body: encodeEvent(event) };
}

const ENGINES: Array<[string, () => Promise<{ stores: HubStores; drop(): Promise<void> }>]> = [
  ['PostgreSQL', async () => {
    const db = await createFreshDatabase(inject('postgresUrl'), 'vigil_session_list');
    const stores = await createStore({ databaseUrl: db.url, dataDir: os.tmpdir(), logger: silentLogger });
    return { stores, drop: db.drop };
  }],
  ['PGlite', async () => ({ stores: await createMemoryStore(), drop: async () => undefined })],
];

for (const [engine, open] of ENGINES) {
  describe(`the sessions list on ${engine}`, () => {
    let stores: HubStores;
    let drop: () => Promise<void>;
    let served: ServedApp;
    let token: string;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-session-list-'));

    beforeAll(async () => {
      ({ stores, drop } = await open());
      const keys = ensureSigningKey(dir);
      token = await (await TokenSigner.fromPem(keys.privateKeyPem)).apiToken('rita', 'reviewer');
      served = await serveApp(createApiApp({ stores, verifier: await TokenVerifier.fromPem(keys.publicKeyPem), logger: silentLogger }));
    });

    afterAll(async () => {
      await served?.close();
      await stores?.close();
      await drop?.();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    async function list(query: Record<string, string>): Promise<SessionListResponse> {
      const res = await fetch(`${served.url}/api/sessions?${new URLSearchParams(query)}`, { headers: { authorization: `Bearer ${token}` } });
      expect(res.status, await res.clone().text()).toBe(200);
      return (await res.json()) as SessionListResponse;
    }

    it('when part of a user or target name is given in any case, then it matches, and % _ \\ in it are only themselves', async () => {
      // One day of their own: the other tests' sessions stay out of the way.
      const day = { from: '2034-03-01T00:00:00.000Z', to: '2034-03-02T00:00:00.000Z' };
      const mk = (user: string, target: string, hour: number) => new SessionEvents({ user, target, startedAt: `2034-03-01T${String(hour).padStart(2, '0')}:00:00.000Z` });
      const sessions = {
        alice: mk('alice', 'payments', 1), malice: mk('Malice', 'PAYROLL', 2), underscore: mk('bob', 'pay_day', 3),
        percent: mk('bob', 'pay%day', 4), backslash: mk('carol', 'pay\\day', 5), plain: mk('dave', 'payXday', 6),
      };
      await stores.recordings.append(Object.values(sessions).map((s) => s.start()));
      const found = async (filter: Record<string, string>) => {
        const ids = (await list({ ...day, ...filter })).sessions.map((s) => s.id);
        return Object.entries(sessions).filter(([, s]) => ids.includes(s.sessionId)).map(([name]) => name).sort();
      };

      expect(await found({ user: 'ALI' })).toEqual(['alice', 'malice']);
      expect(await found({ target: 'pay' })).toHaveLength(6);
      expect(await found({ user: 'ali', target: 'pAy' })).toEqual(['alice', 'malice']);
      expect(await found({ target: 'pay_' })).toEqual(['underscore']);
      expect(await found({ target: '%' })).toEqual(['percent']);
      expect(await found({ target: 'y\\d' })).toEqual(['backslash']);
      expect(await found({ target: 'nothing-like-it' })).toEqual([]);
    });

    it('when a person ended a session, then the list and the session itself carry the end\'s message; ends without one carry none', async () => {
      const killed = new SessionEvents({ user: 'kim', target: 'pay-eu' });
      const quit = new SessionEvents({ user: 'kim', target: 'pay-eu' });
      await stores.recordings.append([killed.start(), killed.query(), endWithMessage(killed, 'killed', 'this session was ended by rita: INC-7'), quit.start(), quit.end()]);

      const byId = new Map((await list({ user: 'kim' })).sessions.map((s) => [s.id, s]));
      expect(byId.get(killed.sessionId)).toMatchObject({ endReason: 'killed', endMessage: 'this session was ended by rita: INC-7' });
      expect(byId.get(quit.sessionId)?.endReason).toBe('client_terminate');
      expect(byId.get(quit.sessionId)?.endMessage ?? null).toBeNull();
      const one = await fetch(`${served.url}/api/sessions/${killed.sessionId}`, { headers: { authorization: `Bearer ${token}` } });
      expect(((await one.json()) as { session: SessionSummary }).session.endMessage).toBe('this session was ended by rita: INC-7');
    });

    it('when a hub ends a session, then its message is kept; when the agent\'s events overtake that end, the message goes with it', async () => {
      const s = new SessionEvents({ user: 'hank' });
      await stores.recordings.append([s.start(), s.query()]);
      const gone = 'the agent agent-1 is gone: the hub ended this session';
      await stores.recordings.append([hubEndEvent((await stores.recordings.getSession(s.sessionId))!, { reason: 'agent_lost', message: gone })]);
      expect(await stores.recordings.getSession(s.sessionId)).toMatchObject({ endReason: 'agent_lost', endMessage: gone });

      await stores.recordings.append([s.query()]);
      const back = await stores.recordings.getSession(s.sessionId);
      expect(back).toMatchObject({ endedAt: null, endReason: null });
      expect(back?.endMessage ?? null).toBeNull();
    });

    it('when more than a page of 100 sessions match, then next pages on, each once, newest first, until none is left', async () => {
      const user = `pager-${engine.toLowerCase()}`;
      const sessions = Array.from({ length: 230 }, (_, i) => new SessionEvents({ user, startedAt: new Date(Date.UTC(2035, 0, 1) + i * 60_000).toISOString() }));
      await stores.recordings.append(sessions.map((s) => s.start()));

      const pages: string[][] = [];
      let before: string | null = null;
      do {
        const page: SessionListResponse = await list({ user, limit: '100', ...(before ? { before } : {}) });
        pages.push(page.sessions.map((s) => s.id));
        before = page.next;
      } while (before);

      expect(pages.map((p) => p.length)).toEqual([100, 100, 30]);
      expect(pages.flat()).toEqual(sessions.map((s) => s.sessionId).reverse());
    });
  });
}
