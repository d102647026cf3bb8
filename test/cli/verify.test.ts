// `vigil verify` and `vigil keys` against a running `vigil hub` on a real PostgreSQL store: the
// recordings it sealed verify; a bundle exported with `vigil export --format bundle` verifies
// offline against the keys pinned from /.well-known; a row edited by hand is named.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { createStore, type HubStores } from '../../server/store/create-store.ts';
import { freePort } from '../support/free-port.ts';
import { fakeSession } from '../hub/event-fixtures.ts';
import { createFreshDatabase } from '../hub/fresh-database.ts';
import { runVigil, startVigil, type VigilProcess } from './run-vigil.ts';

vi.setConfig({ testTimeout: 180_000, hookTimeout: 240_000 });

let hub: VigilProcess;
let hubUrl: string;
let dataDir: string;
let stores: HubStores;
let dbUrl: string;
let dropDatabase: () => Promise<void>;
const chained = fakeSession({ user: 'alice', target: 'demo', queries: 3, chained: true });
const older = fakeSession({ user: 'bob', target: 'demo', queries: 1 });

const env = () => ({ VIGIL_DATA_DIR: dataDir });

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-verify-'));
  const db = await createFreshDatabase(inject('postgresUrl'), 'vigil_verify');
  dropDatabase = db.drop;
  dbUrl = db.url;
  stores = await createStore({ databaseUrl: db.url, dataDir });
  await stores.recordings.append([...chained.events, ...older.events]);
  const port = await freePort();
  hubUrl = `http://127.0.0.1:${port}`;
  hub = await startVigil(['hub'], {
    VIGIL_DATA_DIR: dataDir, VIGIL__HUB__LISTEN: `127.0.0.1:${port}`, REDIS_URL: inject('redisUrl'), DATABASE_URL: db.url,
    // Its own keys on the Redis other test files share (run-vigil.ts).
    VIGIL__REDIS__KEYPREFIX: `${path.basename(dataDir)}:`,
  }, /API on http/, { timeoutMs: 200_000 });
});

afterAll(async () => {
  if (hub) expect(await hub.stop()).toBe(0);
  await stores?.close();
  await dropDatabase?.();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('vigil verify', () => {
  it('when the hub has sealed its ended sessions, then verify says VERIFIED and --all counts them', async () => {
    await vi.waitFor(async () => {
      const res = await runVigil(['verify', chained.sessionId, '--hub', hubUrl], env());
      expect(res.stdout).toContain('VERIFIED');
    }, { timeout: 60_000, interval: 1000 });
    const one = await runVigil(['verify', chained.sessionId, '--hub', hubUrl], env());
    expect(one.code, one.stderr).toBe(0);
    expect(one.stdout).toMatch(new RegExp(`^${chained.sessionId}  VERIFIED  verified: 8 events`));
    // Recorded before chaining: verified by its manifest, with the links it could not check said.
    const all = await runVigil(['verify', '--all', '--hub', hubUrl], env());
    expect(all.code, all.stdout).toBe(0);
    expect(all.stdout).toContain('2 sessions: 2 verified, 0 tampered, 0 not sealed yet');
    expect(all.stdout).toContain('note: 3 link(s) could not be checked');
  });

  it('when a bundle is exported, then it verifies offline against the keys pinned from the hub, and not against a stranger\'s', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-bundle-'));
    try {
      const bundle = path.join(dir, 'session.bundle.json');
      const exported = await runVigil(['export', chained.sessionId, '--format', 'bundle', '--hub', hubUrl], env());
      expect(exported.code, exported.stderr).toBe(0);
      fs.writeFileSync(bundle, exported.stdout);
      const keys = path.join(dir, 'keys.json');
      fs.writeFileSync(keys, await (await fetch(`${hubUrl}/.well-known/vigil-recording-keys`)).text());

      const offline = await runVigil(['verify', '--bundle', bundle, '--keys', keys], {});
      expect(offline.code, offline.stderr).toBe(0);
      expect(offline.stdout).toContain('VERIFIED');

      const stranger = path.join(dir, 'stranger.json');
      fs.writeFileSync(stranger, JSON.stringify({ keys: [] }));
      const refused = await runVigil(['verify', '--bundle', bundle, '--keys', stranger], {});
      expect(refused.code).toBe(1);
      expect(refused.stdout).toMatch(/problem: the manifest is signed with key [0-9a-f]{16}, which is not a published key/);

      // An edited bundle is named like an edited store.
      fs.writeFileSync(bundle, exported.stdout.replace('limit 2', 'limit 7'));
      const edited = await runVigil(['verify', '--bundle', bundle, '--keys', keys], {});
      expect(edited.code).toBe(1);
      expect(edited.stdout).toContain('problem: event 4 was changed');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('when a row of the store is edited by hand, then verify names the event and exits 1', async () => {
    const sql = new pg.Client({ connectionString: dbUrl });
    await sql.connect();
    try {
      await sql.query(`UPDATE segments SET body = replace(body, 'limit 3', 'limit 300') WHERE session_id = $1`, [chained.sessionId]);
    } finally {
      await sql.end();
    }
    const res = await runVigil(['verify', chained.sessionId, '--hub', hubUrl], env());
    expect(res.code).toBe(1);
    expect(res.stdout).toContain(`${chained.sessionId}  TAMPERED`);
    expect(res.stdout).toContain('problem: event 6 was changed: its hash no longer matches the chain');
  });

  it('when the key is rotated, then keys ls shows the old one retired and the new one in use', async () => {
    const rotated = await runVigil(['keys', 'rotate', '--hub', hubUrl], env());
    expect(rotated.code, rotated.stderr).toBe(0);
    const [, retired, current] = /^key ([0-9a-f]{16}) retired; new manifests are signed with ([0-9a-f]{16})\n$/.exec(rotated.stdout) ?? [];
    expect(retired).toBeDefined();
    const ls = await runVigil(['keys', 'ls', '--hub', hubUrl], env());
    expect(ls.stdout).toMatch(new RegExp(`${retired}  from \\S+  retired \\S+`));
    expect(ls.stdout).toMatch(new RegExp(`${current}  from \\S+  in use`));
  });

  it('when a held session is purged on demand, then it is refused until the hold is released, then purged and verified as purged', async () => {
    const made = await runVigil(['hold', 'create', '--session', older.sessionId, '--reason', 'LEGAL-4: preserve', '--hub', hubUrl], env());
    expect(made.code, made.stderr).toBe(0);
    const holdId = /^(H-[A-Za-z0-9_-]+)\s/.exec(made.stdout)?.[1];
    expect(made.stdout).toContain(`session ${older.sessionId}  by vigil-cli`);
    const refused = await runVigil(['purge', older.sessionId, '--hub', hubUrl], env());
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('is under a legal hold: release the hold first');
    expect((await runVigil(['hold', 'rm', holdId!, '--hub', hubUrl], env())).stdout).toContain('released by vigil-cli');
    const purged = await runVigil(['purge', older.sessionId, '--hub', hubUrl], env());
    expect(purged.stdout).toBe(`purged ${older.sessionId}\n`);
    const verified = await runVigil(['verify', older.sessionId, '--hub', hubUrl], env());
    expect(verified.code).toBe(0);
    expect(verified.stdout).toMatch(new RegExp(`^${older.sessionId}  PURGED  purged at \\S+ by vigil-cli`));
  });

  it('when the audit log is verified, then what its checkpoints cover verifies', async () => {
    // The hub checkpoints rows that settled 30 s ago: this fresh hub may have none yet, which verifies too.
    const res = await runVigil(['verify', '--audit', '--hub', hubUrl], env());
    expect(res.code, res.stdout + res.stderr).toBe(0);
    expect(res.stdout).toMatch(/^audit log {2}VERIFIED {2}verified: \d+ signed checkpoints cover the audit log up to row \d+\n$/);
  });

  it('when verify is given nonsense, then it says what is wrong', async () => {
    const both = await runVigil(['verify', 'x', '--all', '--hub', hubUrl], env());
    expect(both.code).toBe(1);
    expect(both.stderr).toContain('give a session id or --all');
    const notBundle = await runVigil(['verify', '--bundle', '/etc/hostname'], {});
    expect(notBundle.code).toBe(1);
    expect(notBundle.stderr).toContain('not a Vigil recording bundle');
  });
});
