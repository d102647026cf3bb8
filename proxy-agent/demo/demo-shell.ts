// The demo SSH target of `vigil dev` when the config names no real host: an embedded SSH server on
// 127.0.0.1 that runs the developer's own shell in a real pseudo-terminal (node-pty), so the agent
// reaches it as it reaches any sshd. For the demo only: it accepts nobody but the agent (a random
// password made at each start), listens on loopback only, and runs in a folder of its own.
// It honours what an sshd does for a session: pty, env, window changes, signals, exit status.
import { spawn as spawnProcess, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import type net from 'node:net';
import os from 'node:os';
import pty, { type IPty } from 'node-pty';
import ssh2, { type Connection, type PseudoTtyInfo, type ServerChannel, type Session } from 'ssh2';
import type { Logger } from '../../common/log.ts';
import { generateEd25519KeyPair } from '../../common/ssh-public-key.ts';
import { pinnedHostKey } from '../ssh/pinned-host-key.ts';
import type { SshUpstreamSettings } from '../ssh/upstream-ssh.ts';

const { Server } = ssh2;
const HOST = '127.0.0.1';
const DEMO_USER = 'demo';
/** A running program: a pty's shell or a child process. */
type Killable = { kill(signal?: NodeJS.Signals): unknown };

export interface DemoShellOptions {
  /** The shell's working folder (made when missing); the shell's HOME too. */
  home: string;
  port?: number;
  logger: Logger;
}

export interface DemoShell {
  port: number;
  /** How the agent logs in (the password and host key made at this start). */
  settings: SshUpstreamSettings;
  stop(): Promise<void>;
}

export async function startDemoShell(opts: DemoShellOptions): Promise<DemoShell> {
  fs.mkdirSync(opts.home, { recursive: true });
  const keys = generateEd25519KeyPair();
  const password = crypto.randomBytes(24).toString('base64url');
  const expected = Buffer.from(password);
  const running = new Set<Killable>();

  const server = new Server({ hostKeys: [keys.private] }, (client: Connection) => {
    client.on('error', (err: Error) => opts.logger.debug({ err: err.message }, 'demo shell: client error'));
    client.on('authentication', (ctx) => {
      const given = ctx.method === 'password' ? Buffer.from(ctx.password) : Buffer.alloc(0);
      if (ctx.username === DEMO_USER && given.length === expected.length && crypto.timingSafeEqual(given, expected)) ctx.accept();
      else ctx.reject(['password']);
    });
    client.on('ready', () => client.on('session', (accept) => serveSession(accept(), opts, running)));
  });
  const address = await new Promise<net.AddressInfo>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, HOST, () => resolve(server.address() as net.AddressInfo));
  });
  const publicKey = keys.public.split(' ').slice(0, 2).join(' ');
  return {
    port: address.port,
    settings: { host: HOST, port: address.port, user: DEMO_USER, password, hostKey: pinnedHostKey(publicKey) },
    async stop() {
      for (const p of running) p.kill('SIGHUP');
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function shellPath(): string {
  const candidates = [process.env.SHELL, '/bin/bash', '/bin/sh'];
  return candidates.find((s): s is string => !!s && fs.existsSync(s)) ?? '/bin/sh';
}

function serveSession(session: Session, opts: DemoShellOptions, running: Set<Killable>): void {
  let term: PseudoTtyInfo | undefined;
  const env: Record<string, string> = {};
  let program: IPty | ChildProcess | undefined;
  const ok = (fn: (() => void) | undefined) => typeof fn === 'function' && fn();

  session.on('pty', (accept, _reject, info) => {
    term = info;
    ok(accept);
  });
  session.on('env', (accept, _reject, info) => {
    if (/^(LANG|LC_[A-Z]+|TERM|COLORTERM)$/.test(info.key)) env[info.key] = info.val;
    ok(accept);
  });
  session.on('window-change', (accept, _reject, info) => {
    if (program && 'resize' in program) program.resize(Math.max(1, info.cols), Math.max(1, info.rows));
    ok(accept);
  });
  session.on('signal', (accept, _reject, info) => {
    program?.kill(`SIG${info.name}` as NodeJS.Signals);
    ok(accept);
  });
  session.on('shell', (accept) => {
    // --norc: the machine's bashrc would set its own prompt; the demo says where you are.
    program = run(accept(), shellPath().endsWith('bash') ? ['--norc', '-i'] : ['-i'], term, env, opts, running);
  });
  session.on('exec', (accept, _reject, info) => {
    program = run(accept(), ['-c', info.command], term, env, opts, running);
  });
  session.on('subsystem', (_accept, reject) => ok(reject));
}

function run(
  channel: ServerChannel, args: string[], term: PseudoTtyInfo | undefined, extraEnv: Record<string, string>,
  opts: DemoShellOptions, running: Set<Killable>,
): IPty | ChildProcess {
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: opts.home, USER: DEMO_USER, LOGNAME: DEMO_USER, SHELL: shellPath(),
    LANG: process.env.LANG ?? 'C.UTF-8', PS1: 'demo-shell:\\w$ ', ...extraEnv,
  };
  const finish = (code: number | null, signal: string | null) => {
    if (signal) channel.exit(signal.replace(/^SIG/, ''), false, '');
    else channel.exit(code ?? 0);
    channel.end();
  };
  if (term) {
    const p = pty.spawn(shellPath(), args, { name: term.term || 'xterm-256color', cols: Math.max(1, term.cols), rows: Math.max(1, term.rows), cwd: opts.home, env: { ...env, TERM: term.term || 'xterm-256color' } });
    running.add(p);
    p.onData((d) => channel.write(d));
    channel.on('data', (d: Buffer) => p.write(d.toString('utf8')));
    channel.on('close', () => p.kill('SIGHUP'));
    p.onExit(({ exitCode, signal }) => {
      running.delete(p);
      finish(exitCode, signal ? signalName(signal) : null);
    });
    return p;
  }
  const child = spawnProcess(shellPath(), args, { cwd: opts.home, env, stdio: 'pipe' });
  running.add(child);
  child.stdout.pipe(channel, { end: false });
  child.stderr.pipe(channel.stderr, { end: false });
  channel.pipe(child.stdin);
  child.stdin.on('error', () => undefined);
  channel.on('close', () => child.kill('SIGHUP'));
  child.on('error', (err) => {
    channel.stderr.write(`${err.message}\n`);
    finish(127, null);
  });
  child.on('close', (code, signal) => {
    running.delete(child);
    finish(code, signal);
  });
  return child;
}

/** node-pty reports a signal by number; SSH names it. */
function signalName(n: number): string | null {
  const entry = Object.entries(os.constants.signals).find(([, v]) => v === n);
  return entry ? entry[0] : null;
}
