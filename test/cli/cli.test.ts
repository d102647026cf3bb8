import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { ensureSigningKey, keyPaths, TokenVerifier } from '../../common/tokens.ts';
import { createStore, type HubStores } from '../../server/store/create-store.ts';
import type { RecordingStore } from '../../server/recordings/store/recording-store.ts';
import { freePort } from '../support/free-port.ts';
import { fakeSession } from '../hub/event-fixtures.ts';
import { createFreshDatabase } from '../hub/fresh-database.ts';
import { runVigil, startVigil, type VigilProcess } from './run-vigil.ts';

// Each case starts Node processes through tsx; on a loaded 2-core machine that takes a while.
const SPAWN_BUDGET_MS = 180_000;
vi.setConfig({ testTimeout: SPAWN_BUDGET_MS, hookTimeout: 240_000 });

const dirs: string[] = [];
const tempDir = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-cli-'));
  dirs.push(dir);
  return dir;
};

afterAll(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

describe('vigil token', () => {
  it('when asked for the demo target, then it prints one psql URI with the target listener and a token for that user', async () => {
    const dataDir = tempDir();
    const res = await runVigil(['token', '--user', 'alice', '--target', 'demo'], {
      VIGIL_DATA_DIR: dataDir,
      VIGIL__TARGETS__DEMO__LISTEN: '127.0.0.1:23456',
    });
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    const lines = res.stdout.split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toBe('');
    const uri = new URL(lines[0]);
    expect(uri.protocol).toBe('postgresql:');
    expect(uri.username).toBe('alice');
    expect(uri.host).toBe('127.0.0.1:23456');
    expect(uri.pathname).toBe('/demo');
    expect(uri.search).toBe('?sslmode=disable');
    const verifier = await TokenVerifier.fromPem(fs.readFileSync(keyPaths(dataDir).publicKey, 'utf8'));
    const claims = await verifier.verifyConnection(decodeURIComponent(uri.password));
    expect(claims).toMatchObject({ user: 'alice', target: 'demo' });
    expect(claims.expiresAt.getTime() - Date.now()).toBeLessThanOrEqual(15 * 60_000);
  });

  it('when the config names a TLS target and a public host, then the URI uses them with sslmode=require', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'vigil.yaml');
    fs.writeFileSync(file, [
      `dataDir: ${dir}`,
      'agent:',
      '  publicHost: db-gateway.example.com',
      'targets:',
      '  - name: billing',
      '    protocol: postgres',
      '    listen: 0.0.0.0:6543',
      '    tls: { certFile: /dev/null, keyFile: /dev/null }',
      '    upstream: { host: 10.0.0.5, database: billing, user: app }',
    ].join('\n'));
    const res = await runVigil(['token', '--config', file, '--user', 'o\'brien', '--target', 'billing', '--ttl', '2m'], {});
    expect(res.code).toBe(0);
    const uri = new URL(res.stdout.trim());
    expect(uri.host).toBe('db-gateway.example.com:6543');
    expect(uri.username).toBe('o%27brien');
    expect(uri.search).toBe('?sslmode=require');
  });

  it('when the documented example config is used, then it is valid and the URI uses its public host', async () => {
    const res = await runVigil(['token', '--config', 'examples/vigil.yaml', '--user', 'alice', '--target', 'billing'], { VIGIL_DATA_DIR: tempDir() });
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(new URL(res.stdout.trim()).host).toBe('db-gateway.example.com:6543');
  });

  it('when the target is unknown, then it exits 1 and lists the targets there are', async () => {
    const res = await runVigil(['token', '--user', 'alice', '--target', 'nope'], { VIGIL_DATA_DIR: tempDir() });
    expect(res.code).toBe(1);
    expect(res.stdout).toBe('');
    expect(res.stderr).toContain('unknown target "nope"');
    expect(res.stderr).toContain('demo');
  });

  it('when --ttl is not a duration, then it exits 1 naming --ttl', async () => {
    const res = await runVigil(['token', '--user', 'alice', '--target', 'demo', '--ttl', 'forever'], { VIGIL_DATA_DIR: tempDir() });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('--ttl');
  });
});

describe('bad configuration', () => {
  it('when the config file has a bad field, then every command names the field and exits 1 without a stack trace', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'bad.yaml');
    fs.writeFileSync(file, 'targets:\n  - name: demo\n    protocol: postgres\n    listen: nowhere\n');
    const commands = [['token', '--user', 'a', '--target', 'demo'], ['sessions', 'list'], ['hub'], ['agent'], ['dev']];
    const results = await Promise.all(commands.map((args) => runVigil([...args, '--config', file], {})));
    for (const [i, res] of results.entries()) {
      expect(res.code, commands[i].join(' ')).toBe(1);
      expect(res.stderr).toContain('targets.0.listen');
      expect(res.stderr).toContain('expected host:port');
      expect(res.stderr).not.toMatch(/\n\s+at /);
    }
  }, SPAWN_BUDGET_MS);

  it('when an environment override is malformed, then the message names the setting', async () => {
    const res = await runVigil(['token', '--user', 'a', '--target', 'demo'], { VIGIL_DATA_DIR: tempDir(), VIGIL__HUB__LISTEN: 'everywhere' });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('hub.listen');
  });

  it('when the config file does not exist, then it says which file', async () => {
    const res = await runVigil(['sessions', 'list', '--config', '/nonexistent/vigil.yaml'], {});
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('/nonexistent/vigil.yaml');
  });

  it('when vigil agent runs without Redis, then it explains that the agent needs Redis', async () => {
    const res = await runVigil(['agent'], { VIGIL_DATA_DIR: tempDir() });
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/REDIS_URL/);
  });
});

describe('vigil sessions and export against a running hub', () => {
  let hub: VigilProcess;
  let hubUrl: string;
  let dataDir: string;
  let stores: HubStores;
  let store: RecordingStore;
  let dropDatabase: () => Promise<void>;
  const recorded = fakeSession({ user: 'alice', target: 'demo', queries: 2, cells: ['[EMAIL]', '[EMAIL]'] });
  const hostile = fakeSession({ user: 'mallory', target: 'demo' });
  // A recorded query that tries to drive the reviewer's terminal.
  (hostile.events[1].event as { data: { sql: string } }).data.sql = 'select 1 -- \u001b]0;owned\u0007\u001b[2J';

  beforeAll(async () => {
    dataDir = tempDir();
    const db = await createFreshDatabase(inject('postgresUrl'), 'vigil_cli');
    dropDatabase = db.drop;
    stores = await createStore({ databaseUrl: db.url, dataDir, logger: undefined });
    store = stores.recordings;
    const { encodeEvent } = await import('../../common/events/index.ts');
    hostile.events[1].body = encodeEvent(hostile.events[1].event);
    await store.append([...recorded.events, ...hostile.events]);
    const port = await freePort();
    hubUrl = `http://127.0.0.1:${port}`;
    hub = await startVigil(['hub'], {
      VIGIL_DATA_DIR: dataDir,
      VIGIL__HUB__LISTEN: `127.0.0.1:${port}`,
      REDIS_URL: inject('redisUrl'),
      // Its own keys on the Redis other test files share (run-vigil.ts).
      VIGIL__REDIS__KEYPREFIX: `${path.basename(dataDir)}:`,
      DATABASE_URL: db.url,
    }, /API on http/, { timeoutMs: 200_000 });
  });

  afterAll(async () => {
    if (hub) expect(await hub.stop()).toBe(0);
    await stores?.close();
    await dropDatabase?.();
  });

  it('when sessions are listed with --json, then stdout is a JSON array of the recorded sessions', async () => {
    const res = await runVigil(['sessions', 'list', '--json'], { VIGIL_DATA_DIR: dataDir, VIGIL__HUB__LISTEN: new URL(hubUrl).host });
    expect(res.code).toBe(0);
    const list = JSON.parse(res.stdout);
    expect(Array.isArray(list)).toBe(true);
    expect(list.map((s: { id: string }) => s.id).sort()).toEqual([recorded.sessionId, hostile.sessionId].sort());
    expect(list.find((s: { id: string }) => s.id === recorded.sessionId)).toMatchObject({ user: 'alice', target: 'demo', queryCount: 2 });
  });

  it('when sessions are listed for humans with a filter, then a table shows the matching session', async () => {
    const res = await runVigil(['sessions', 'list', '--user', 'alice', '--hub', hubUrl], { VIGIL_DATA_DIR: dataDir });
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/^ID\s+USER\s+TARGET/);
    expect(res.stdout).toContain(recorded.sessionId);
    expect(res.stdout).not.toContain(hostile.sessionId);
  });

  it('when a session is shown, then each event is a line with the SQL, the columns and the masked rows', async () => {
    const res = await runVigil(['sessions', 'show', recorded.sessionId, '--hub', hubUrl], { VIGIL_DATA_DIR: dataDir });
    expect(res.code).toBe(0);
    expect(res.stdout).toContain(`Session ${recorded.sessionId}`);
    expect(res.stdout).toMatch(/\s2 \d\d:\d\d:\d\d\.\d{3} db\.query\s+select email from customers limit 1/);
    expect(res.stdout).toMatch(/db\.result\s+SELECT 2\s+2 rows/);
    expect(res.stdout).toContain('masked EMAIL×1');
    expect(res.stdout).toContain('[EMAIL]');
    expect(res.stdout).toMatch(/session\.end\s+client_terminate/);
  });

  it('when a recorded query holds terminal escape sequences, then show prints them inert', async () => {
    const res = await runVigil(['sessions', 'show', hostile.sessionId, '--hub', hubUrl], { VIGIL_DATA_DIR: dataDir });
    expect(res.code).toBe(0);
    expect(res.stdout).not.toContain('\u001b');
    expect(res.stdout).not.toContain('\u0007');
    expect(res.stdout).toContain('\\x1b]0;owned\\x07');
  });

  it('when a session is exported as jsonl, then stdout is exactly the stored bodies, one per line', async () => {
    const res = await runVigil(['export', recorded.sessionId, '--format', 'jsonl', '--hub', hubUrl], { VIGIL_DATA_DIR: dataDir });
    expect(res.code).toBe(0);
    expect(res.stdout).toBe(recorded.events.map((e) => `${e.body}\n`).join(''));
  });

  it('when an operator locks a user with vigil lock, then ls lists it, rm lifts it, and ls --all keeps it as lifted', async () => {
    const env = { VIGIL_DATA_DIR: dataDir };
    const made = await runVigil(['lock', 'create', '--user', 'bob', '--target', 'demo', '--ttl', '2h', '--reason', 'INC-9: token in a ticket', '--hub', hubUrl], env);
    expect(made.code, made.stderr).toBe(0);
    const id = /^(L-[A-Za-z0-9_-]+)\s/.exec(made.stdout)?.[1];
    expect(made.stdout).toMatch(/user bob, target demo {2}until \S+ {2}by vigil-cli: INC-9: token in a ticket/);
    const listed = await runVigil(['lock', 'ls', '--json', '--hub', hubUrl], env);
    expect(JSON.parse(listed.stdout).map((l: { id: string }) => l.id)).toContain(id);
    const lifted = await runVigil(['lock', 'rm', id!, '--hub', hubUrl], env);
    expect(lifted.code, lifted.stderr).toBe(0);
    expect(lifted.stdout).toContain(`${id}  user bob, target demo  lifted by vigil-cli`);
    expect((await runVigil(['lock', 'ls', '--hub', hubUrl], env)).stdout).not.toContain(id);
    expect((await runVigil(['lock', 'ls', '--all', '--hub', hubUrl], env)).stdout).toContain(`${id}  user bob`);
    const again = await runVigil(['lock', 'rm', id!, '--hub', hubUrl], env);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('no longer in force (lifted)');
    const nothing = await runVigil(['lock', 'create', '--reason', 'who?', '--hub', hubUrl], env);
    expect(nothing.code).toBe(1);
    expect(nothing.stderr).toContain('a lock needs --user, --target or --token');
  });

  it('when the session does not exist, then show exits 1 with the hub\'s message', async () => {
    const res = await runVigil(['sessions', 'show', 'no-such-session', '--hub', hubUrl], { VIGIL_DATA_DIR: dataDir });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('no session no-such-session');
  });

  it('when the CLI holds another hub\'s key, then it says the hub refused the token', async () => {
    const otherDataDir = tempDir();
    ensureSigningKey(otherDataDir);
    const res = await runVigil(['sessions', 'list', '--hub', hubUrl], { VIGIL_DATA_DIR: otherDataDir });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('refused the API token');
  });

  it('when the data directory holds no hub key, then it says where it looked', async () => {
    const empty = tempDir();
    const res = await runVigil(['sessions', 'list', '--hub', hubUrl], { VIGIL_DATA_DIR: empty });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(`no hub key at ${empty}`);
  });

  it('when no hub is running at the address, then it says so and exits 1', async () => {
    const port = await freePort();
    const res = await runVigil(['sessions', 'list', '--hub', `http://127.0.0.1:${port}`], { VIGIL_DATA_DIR: dataDir });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(`cannot reach the hub at http://127.0.0.1:${port}`);
    expect(res.stderr).not.toMatch(/\n\s+at /);
  });
});
