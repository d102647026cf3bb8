import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DEMO_API_SECRET } from '../../proxy-agent/demo/demo-http-api.ts';
import { DEMO_CUSTOMERS } from '../../proxy-agent/demo/demo-seed.ts';
import { freePort } from '../support/free-port.ts';
import { apiAs, browserLike, loginThroughProvider } from '../support/oidc-login-client.ts';
import { cleanEnv, REPO, runVigil, startVigil, type VigilProcess } from './run-vigil.ts';

const run = promisify(execFile);
// Every step starts a Node process through tsx; on a loaded 2-core machine that takes a while.
vi.setConfig({ testTimeout: 240_000, hookTimeout: 300_000 });
let dev: VigilProcess;
let dir: string;
let env: Record<string, string>;
let demoPort: number;
let sshPort: number;
let paymentsPort: number;
let apiPort: number;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-dev-'));
  demoPort = await freePort();
  sshPort = await freePort();
  paymentsPort = await freePort();
  apiPort = await freePort();
  env = {
    // The target is addressed by its name, hyphen and all (`env 'VIGIL__TARGETS__DEMO-API__LISTEN=...'` in a shell).
    'VIGIL__TARGETS__DEMO-API__LISTEN': `127.0.0.1:${apiPort}`,
    VIGIL__TARGETS__PAYMENTS__LISTEN: `127.0.0.1:${paymentsPort}`,
    VIGIL__AGENT__SSH__LISTEN: `127.0.0.1:${sshPort}`,
    VIGIL_DATA_DIR: path.join(dir, 'data'),
    VIGIL__HUB__LISTEN: `127.0.0.1:${await freePort()}`,
    VIGIL__TARGETS__DEMO__LISTEN: `127.0.0.1:${demoPort}`,
  };
  dev = await startVigil(['dev'], env, /vigil dev is ready/, { cwd: dir, timeoutMs: 240_000 });
});

afterAll(async () => {
  if (dev) {
    const code = await dev.stop();
    expect(code, dev.stderr()).toBe(0);
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

type Listed = { id: string; target: string; protocol: string; endedAt: string | null; endReason: string | null; queryCount: number };
/** The sessions vigil dev recorded by itself at start (the first test waits for them). */
const demoSessions = new Set<string>();

/** The sessions stored, less the demo sessions vigil dev recorded by itself. */
async function storedSessions(opts: { withDemo?: boolean } = {}): Promise<Listed[]> {
  const res = await runVigil(['sessions', 'list', '--json'], env, { cwd: dir });
  expect(res.code, res.stderr).toBe(0);
  return (JSON.parse(res.stdout) as Listed[]).filter((s) => opts.withDemo || !demoSessions.has(s.id));
}

/** The live session on the demo target, once the store has it. */
async function liveDemoSession(): Promise<{ id: string }> {
  let live: { id: string } | undefined;
  await expect.poll(async () => {
    const res = await runVigil(['sessions', 'list', '--live', '--json'], env, { cwd: dir });
    live = (JSON.parse(res.stdout) as Array<{ id: string; target: string }>).find((s) => s.target === 'demo' && !demoSessions.has(s.id));
    return live !== undefined;
  }, { timeout: 60_000, interval: 500 }).toBe(true);
  return live!;
}

describe('vigil dev, end to end with psql', () => {
  it('when vigil dev is ready, then it says what runs and prints a psql command for alice', () => {
    expect(dev.stdout()).toContain(`demo  127.0.0.1:${demoPort}`);
    expect(dev.stdout()).toMatch(/psql 'postgresql:\/\/alice:[^@']+@127\.0\.0\.1:\d+\/demo\?sslmode=disable'/);
  });

  it('when vigil dev starts on a fresh store, then it records a psql and a shell session of its own, which the player can replay', async () => {
    let found: Listed[] = [];
    await expect.poll(async () => {
      found = (await storedSessions({ withDemo: true })).filter((s) => s.endedAt !== null);
      return found.map((s) => s.protocol).sort();
    }, { timeout: 120_000, interval: 1000 }).toEqual(['postgres', 'ssh']);
    for (const s of found) demoSessions.add(s.id);
    const pgSession = found.find((s) => s.protocol === 'postgres')!;
    expect(pgSession.queryCount).toBeGreaterThanOrEqual(5);
    const shown = await runVigil(['sessions', 'show', pgSession.id], env, { cwd: dir });
    expect(shown.stdout).toContain('masked EMAIL×5 SECRET_COLUMN×10');
    const shell = await runVigil(['export', found.find((s) => s.protocol === 'ssh')!.id, '--format', 'asciicast'], env, { cwd: dir });
    expect(shell.stdout).toContain('after a full-screen clear');
  });

  it('when curl runs the command vigil dev printed for demo-api, then the demo API answers through the agent with the key only the agent holds, and the recording is masked', async () => {
    const printed = dev.stdout();
    const cert = path.join(env.VIGIL_DATA_DIR, 'demo-api-tls', 'cert.pem');
    const base = `https://127.0.0.1:${apiPort}`;
    expect(printed).toMatch(new RegExp(`demo-api  127\\.0\\.0\\.1:${apiPort}  ->  demo API \\(http://127\\.0\\.0\\.1:\\d+, `));
    const line = /^ {2}(curl --cacert .+)$/m.exec(printed)?.[1] ?? '';
    const printedToken = /Bearer ([^']+)'/.exec(line)?.[1];
    expect(line).toBe(`curl --cacert ${cert} -H 'Authorization: Bearer ${printedToken}' ${base}/api/v1/namespaces/default/secrets/db-credentials`);

    // As pasted, by the shell, with Debian's curl: the certificate vigil dev made is the one to trust.
    const { stdout: secret } = await run('/bin/sh', ['-c', `${line} --silent --show-error --fail-with-body`]);
    expect(JSON.parse(secret)).toMatchObject({ kind: 'Secret', data: DEMO_API_SECRET });

    // A fresh token from vigil token: the same target over https; the API saw its own key.
    const token = await runVigil(['token', '--user', 'alice', '--target', 'demo-api'], env, { cwd: dir });
    expect(token.code, token.stderr).toBe(0);
    expect(token.stdout).toMatch(new RegExp(`^curl -H 'Authorization: Bearer [^']+' ${base}/\n$`));
    const bearer = /Bearer ([^']+)'/.exec(token.stdout)![1];
    const curl = async (...args: string[]) => {
      const { stdout } = await run('/usr/bin/curl', ['--silent', '--show-error', '--cacert', cert, '-H', `Authorization: Bearer ${bearer}`, '-w', '\n%{http_code}', ...args]);
      const at = stdout.lastIndexOf('\n');
      return { status: Number(stdout.slice(at + 1)), body: stdout.slice(0, at) };
    };
    const whoami = await curl(`${base}/api/v1/whoami`);
    expect(whoami.status, whoami.body).toBe(200);
    expect(JSON.parse(whoami.body)).toMatchObject({ keyMatched: true });
    const written = 'Written-Secret-Pw-31415';
    const created = await curl('-H', 'content-type: application/json', '-d', JSON.stringify({ name: 'New Hire', email: 'new.hire@example.com', password: written }), `${base}/api/v1/users`);
    expect(created.status, created.body).toBe(201);
    expect(JSON.parse(created.body)).toMatchObject({ email: 'new.hire@example.com', password: written });
    const events = await curl('--no-buffer', `${base}/events`);
    expect(events.body.match(/^event: /gm)).toHaveLength(4);
    const deleted = await curl('-X', 'DELETE', `${base}/admin/users/1`);
    expect(deleted.status).toBe(403);
    expect(deleted.body).toContain('deleting through the admin API needs a change ticket');

    // Straight to the demo API, a Vigil token is worth nothing: only the agent holds the API's key.
    const direct = /demo API \((http:\/\/127\.0\.0\.1:\d+),/.exec(printed)![1];
    const { stdout: refused } = await run('/usr/bin/curl', ['--silent', '-o', '/dev/null', '-w', '%{http_code}', '-H', `Authorization: Bearer ${bearer}`, `${direct}/api/v1/whoami`]);
    expect(refused).toBe('401');

    // Two sessions (one per token: 1 request and 4), live until they idle; the recording masks what went by.
    let live: Listed[] = [];
    await expect.poll(async () => {
      const res = await runVigil(['sessions', 'list', '--live', '--json'], env, { cwd: dir });
      live = (JSON.parse(res.stdout) as Listed[]).filter((s) => s.target === 'demo-api');
      return live.map((s) => s.queryCount).sort();
    }, { timeout: 60_000, interval: 500 }).toEqual([1, 4]);
    const exported = (await Promise.all(live.map((s) => runVigil(['export', s.id, '--format', 'jsonl'], env, { cwd: dir })))).map((r) => r.stdout).join('');
    expect(exported).toContain('/api/v1/namespaces/default/secrets/db-credentials');
    expect(exported).toContain('"type":"guardrail.hit"');
    expect(exported).toContain('[SECRET_COLUMN]');
    for (const hidden of [DEMO_API_SECRET.password, DEMO_API_SECRET.token, written, bearer, printedToken!, 'new.hire@example.com']) expect(exported).not.toContain(hidden);
  });

  it('when someone logs in to the hub, then the dev identity provider lets each demo user in with their role', async () => {
    const hubUrl = `http://${env.VIGIL__HUB__LISTEN}`;
    expect(dev.stdout()).toContain(`login    ${hubUrl}/auth/login   via the dev identity provider http://127.0.0.1:`);
    for (const [user, roles] of [['alice', ['engineer']], ['rita', ['reviewer']], ['ada', ['admin']]] as const) {
      const browser = browserLike();
      const { response, visited } = await loginThroughProvider(browser, hubUrl, user);
      expect(response.status, visited.join(' -> ')).toBe(303);
      const me = await browser.fetch(`${hubUrl}/api/me`);
      expect(await me.json()).toMatchObject({ user, roles });
    }
  });

  it('when psql queries the demo target with a token from vigil token, then it gets real rows and the recording is masked', async () => {
    const token = await runVigil(['token', '--user', 'alice', '--target', 'demo'], env, { cwd: dir });
    expect(token.code, token.stderr).toBe(0);
    const uri = token.stdout.trim();
    expect(uri).toContain(`@127.0.0.1:${demoPort}/demo`);

    const sql = 'select email from customers order by id limit 3';
    const { stdout } = await run('psql', ['-X', '-At', uri, '-c', sql], { env: { ...process.env, PGPASSWORD: '' } });
    const emails = DEMO_CUSTOMERS.slice(0, 3).map((c) => c.email);
    expect(stdout).toBe(`${emails.join('\n')}\n`);

    // The persister stores the session shortly after psql ends it.
    let session: { id: string; endedAt: string | null } | undefined;
    await expect.poll(async () => {
      session = (await storedSessions()).find((s) => s.endedAt !== null && s.queryCount >= 1);
      return session !== undefined;
    }, { timeout: 90_000, interval: 500 }).toBe(true);

    const shown = await runVigil(['sessions', 'show', session!.id], env, { cwd: dir });
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toContain(sql);
    expect(shown.stdout).toContain('[EMAIL]');
    for (const email of emails) expect(shown.stdout).not.toContain(email);

    const exported = await runVigil(['export', session!.id, '--format', 'jsonl'], env, { cwd: dir });
    expect(exported.code, exported.stderr).toBe(0);
    const lines = exported.stdout.trimEnd().split('\n');
    const events = lines.map((line) => JSON.parse(line));
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(events[0].type).toBe('session.start');
    expect(events.at(-1).type).toBe('session.end');
    expect(events.some((e) => e.type === 'db.query' && e.data.sql === sql)).toBe(true);
    for (const email of emails) expect(exported.stdout).not.toContain(email);
  });

  it('when a token is not valid, then psql is refused with a message and nothing reaches the demo data', async () => {
    const bad = `postgresql://alice:not-a-token@127.0.0.1:${demoPort}/demo?sslmode=disable`;
    await expect(run('psql', ['-X', '-At', bad, '-c', 'select 1'])).rejects.toThrow(/token/i);
  });

  it('when ssh logs in to demo-shell with the token vigil dev printed, then the command runs in the demo shell and is recorded', async () => {
    const printed = dev.stdout();
    expect(printed).toContain(`ssh -p ${sshPort} demo-shell@127.0.0.1`);
    const token = /demo-shell@127\.0\.0\.1\n\s+(\S+)/.exec(printed)?.[1];
    expect(token).toBeTruthy();
    const askpass = path.join(dir, 'askpass.sh');
    fs.writeFileSync(askpass, `#!/bin/sh\necho '${token}'\n`, { mode: 0o700 });
    const { stdout } = await run('ssh', [
      '-F', '/dev/null', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR',
      '-o', 'PubkeyAuthentication=no', '-p', String(sshPort), 'demo-shell@127.0.0.1', 'echo "in $PWD"',
    ], { env: { ...process.env, SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: 'force', DISPLAY: ':0' } });
    expect(stdout.trim()).toBe(`in ${path.join(env.VIGIL_DATA_DIR, 'demo-shell-home')}`);
    let session: { id: string; target: string; endedAt: string | null } | undefined;
    await expect.poll(async () => {
      session = (await storedSessions()).find((s) => s.target === 'demo-shell' && s.endedAt !== null);
      return session !== undefined;
    }, { timeout: 60_000, interval: 500 }).toBe(true);

    // The same session as asciicast v2, as `asciinema play` takes it.
    const cast = await runVigil(['export', session!.id, '--format', 'asciicast'], env, { cwd: dir });
    expect(cast.code, cast.stderr).toBe(0);
    const [header, ...frames] = cast.stdout.trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(header).toMatchObject({ version: 2, width: 80, height: 24 });
    expect(frames.filter((f) => f[1] === 'o').map((f) => f[2]).join('')).toContain('in ');
    for (const [t] of frames) expect(t).toBeGreaterThanOrEqual(0);
  });

  it('when alice asks for the payments target with vigil request and aaron approves on the dashboard, then she connects; his revoke cuts her off', async () => {
    expect(dev.stdout()).toContain('request payments --for 30m');
    const token = await runVigil(['token', '--user', 'alice', '--target', 'payments'], env, { cwd: dir });
    const uri = token.stdout.trim();
    // Without a grant: refused, naming the request it opened.
    await expect(run('psql', ['-X', '-At', uri, '-c', 'select 1'])).rejects.toThrow(/request #\d+ is waiting for an approver/);

    const { spawn } = await import('node:child_process');
    const asking = spawn(process.execPath, [path.join(REPO, 'bin/vigil.mjs'), 'request', 'payments', '--for', '30m', '--reason', 'INC-1: check refunds', '--wait'], { cwd: dir, env: cleanEnv(env) });
    let said = '';
    asking.stdout.on('data', (d) => (said += d));
    const decided = new Promise<number>((resolve) => asking.on('close', (code) => resolve(code ?? -1)));
    await expect.poll(() => said, { timeout: 60_000 }).toMatch(/request #\d+ for payments: pending/);
    const id = Number(/request #(\d+)/.exec(said)![1]);

    const aaron = await apiAs(`http://${env.VIGIL__HUB__LISTEN}`, 'aaron');
    const approved = await aaron('POST', `/api/access-requests/${id}/approve`, {});
    expect(approved.status, JSON.stringify(approved.body)).toBe(200);
    expect(await decided).toBe(0);
    expect(said).toContain(`request #${id} for payments: granted`);

    // An open psql (the demo database serves one statement at a time: nothing long-running here).
    const psql = spawn('psql', ['-X', '-At', uri]);
    let stdout = '';
    let stderr = '';
    psql.stdout.on('data', (d) => (stdout += d));
    psql.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<void>((resolve) => psql.on('close', () => resolve()));
    psql.stdin.write('select 40 + 2;\n');
    await expect.poll(() => stdout || stderr, { timeout: 60_000 }).toBe('42\n');
    expect((await aaron('POST', `/api/access-requests/${id}/revoke`, { reason: 'refunds checked' })).status).toBe(200);
    // psql reads the server's last words when it next talks to it.
    await new Promise((r) => setTimeout(r, 1000));
    psql.stdin.end('select 1;\n');
    await exited;
    expect(stderr).toContain(`access grant #${id} was revoked by aaron: refunds checked`);
  });
  it('when vigil dev is killed with SIGKILL while a client is connected and started again, then that session ends with a reason and what the client saw is recorded', async () => {
    const token = await runVigil(['token', '--user', 'alice', '--target', 'demo'], env, { cwd: dir });
    // A client that has seen its answer and waits for more. The demo database has one backend,
    // which the previous test's psql may hold for a moment yet.
    let client!: pg.Client;
    await expect.poll(async () => {
      client = new pg.Client({ connectionString: token.stdout.trim() });
      client.on('error', () => undefined);
      return client.connect().then(() => true, () => false);
    }, { timeout: 120_000, interval: 1000 }).toBe(true);
    expect((await client.query("select 'before the crash' as v")).rows).toEqual([{ v: 'before the crash' }]);
    const live = await liveDemoSession();

    await new Promise<void>((resolve) => {
      dev.child.once('exit', () => resolve());
      dev.child.kill('SIGKILL');
    });
    await client.end().catch(() => undefined);
    dev = await startVigil(['dev'], env, /vigil dev is ready/, { cwd: dir, timeoutMs: 240_000 });

    let ended: { endedAt: string | null; endReason: string | null } | undefined;
    await expect.poll(async () => {
      ended = (await storedSessions()).find((s) => s.id === live.id);
      return ended?.endedAt ?? null;
    }, { timeout: 30_000, interval: 500 }).not.toBeNull();
    expect(ended!.endReason).toBe('agent_restarted');
    const shown = await runVigil(['sessions', 'show', live.id], env, { cwd: dir });
    expect(shown.stdout).toContain("select 'before the crash'");
  });

  // Last: the demo database has one backend, and the pg_sleep(60) goes on holding it after psql
  // is cut off. Earlier, the next test's client would wait most of that minute for it.
  it('when the operator kills a live session with vigil sessions kill, then psql is cut off with the reason', async () => {
    const token = await runVigil(['token', '--user', 'alice', '--target', 'demo'], env, { cwd: dir });
    const { spawn } = await import('node:child_process');
    const psql = spawn('psql', ['-X', '-c', 'select pg_sleep(60)', token.stdout.trim()]);
    let stderr = '';
    psql.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<void>((resolve) => psql.on('close', () => resolve()));
    const live = await liveDemoSession();
    const killed = await runVigil(['sessions', 'kill', live.id, '--reason', 'fire drill'], env, { cwd: dir });
    expect(killed.code, killed.stderr).toBe(0);
    await exited;
    expect(stderr).toContain('this session was ended by vigil-cli: fire drill');
  });
});
