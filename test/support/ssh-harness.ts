// The SSH data path for integration tests, from real parts: a private OpenSSH server (sshd.ts)
// and, when asked, the demo shell of `vigil dev`,
// the agent's SSH port on a free port, the in-process bus, the persister and a store. Tests drive
// it with the real OpenSSH client (ssh, scp), which gets its Vigil token through SSH_ASKPASS.
import { spawn } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseConfig } from '../../common/config/load-config.ts';
import type { Config } from '../../common/config/schema.ts';
import type { EventBus } from '../../common/bus/event-bus.ts';
import type { SshKeyDirectory } from '../../common/ssh-key-directory.ts';
import type { ControlBus } from '../../common/control/control-bus.ts';
import { createInProcessBus } from '../../common/bus/in-process-bus.ts';
import { createLogger, silentLogger } from '../../common/log.ts';
import { ensureSigningKey, TokenSigner } from '../../common/tokens.ts';
import { startAgent, type Agent } from '../../proxy-agent/agent.ts';
import { startDemoShell } from '../../proxy-agent/demo/demo-shell.ts';
import { Persister } from '../../server/recordings/ingest/persister.ts';
import { createMemoryStore, type HubStores } from '../../server/store/create-store.ts';
import type { RecordingStore } from '../../server/recordings/store/recording-store.ts';
import { recordings, type Recordings } from './recordings.ts';
import { startSshd, type Sshd } from './sshd.ts';
import ssh2, { type ClientChannel } from 'ssh2';

const logger = process.env.VIGIL_TEST_LOG ? createLogger(process.env.VIGIL_TEST_LOG) : silentLogger;

export interface SshResult {
  stdout: string;
  stderr: string;
  code: number;
}

export interface SshRunOptions {
  user?: string;
  /** The password given (default: a valid token for user and target). */
  password?: string;
  input?: string | Buffer;
  /** ssh options before the destination. */
  options?: string[];
}

export interface SshHarness extends Recordings {
  sshd: Sshd;
  agent: Agent;
  bus: EventBus;
  /** The hub's database (recordings, access, SSH keys). */
  stores: HubStores;
  /** stores.recordings */
  store: RecordingStore;
  config: Config;
  /** The agent's SSH port. */
  port: number;
  dir: string;
  token(user?: string, target?: string, ttlMs?: number): Promise<string>;
  /** `ssh` (or `scp`) arguments and environment that log in through the agent as user. */
  client(target: string, opts?: SshRunOptions): Promise<{ args: string[]; env: NodeJS.ProcessEnv; destination: string }>;
  /** Runs the real ssh through the agent: `ssh ... target@agent command...`. */
  ssh(target: string, command: string[], opts?: SshRunOptions): Promise<SshResult>;
  /** Runs the real scp through the agent (paths: `REMOTE:path` becomes target@agent:path). */
  scp(target: string, args: string[], opts?: SshRunOptions): Promise<SshResult>;
  stop(): Promise<void>;
}

export function runProcess(cmd: string, args: string[], env: NodeJS.ProcessEnv, input?: string | Buffer): Promise<SshResult> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ stdout, stderr, code: code ?? -1 }));
    child.stdin.on('error', () => undefined);
    child.stdin.end(input ?? '');
  });
}

export interface SshHarnessOptions {
  targets?: Record<string, unknown>[];
  /** The demo shell as a target (true, or its extra settings). */
  demoShell?: boolean | Record<string, unknown>;
  sshKeys?: SshKeyDirectory;
  control?: ControlBus;
  /** The agent's spool limits (small ones to test a full or throttling spool). */
  spool?: { maxEvents: number; maxBytes: number };
}

export async function startSshHarness(opts: SshHarnessOptions = {}): Promise<SshHarness> {
  const sshd = await startSshd();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-ssh-harness-'));
  const keys = ensureSigningKey(dir);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, 'other_host_key')]);
  const otherHostKey = fs.readFileSync(path.join(dir, 'other_host_key.pub'), 'utf8').split(' ').slice(0, 2).join(' ');
  const upstream = { host: '127.0.0.1', port: sshd.port, user: sshd.user, privateKeyFile: sshd.clientKeyFile, hostKey: sshd.hostKey };
  const config = parseConfig({
    dataDir: dir,
    agent: { ssh: { listen: '127.0.0.1:0' }, ...(opts.spool ? { spool: opts.spool } : {}) },
    targets: [
      { name: 'box', protocol: 'ssh', upstream },
      { name: 'evil-box', protocol: 'ssh', upstream: { ...upstream, hostKey: otherHostKey } },
      { name: 'open-box', protocol: 'ssh', upstream, allowPortForwarding: true },
      { name: 'masked-box', protocol: 'ssh', upstream, maskOutput: true },
      ...(opts.demoShell ? [{ name: 'demo-shell', protocol: 'ssh', ...(opts.demoShell === true ? {} : opts.demoShell) }] : []),
      ...(opts.targets ?? []),
    ],
  });
  const shell = opts.demoShell ? await startDemoShell({ home: path.join(dir, 'demo-home'), logger }) : null;
  const sshUpstreams = new Map(shell ? [['demo-shell', shell.settings]] : []);
  const bus = createInProcessBus();
  const stores = await createMemoryStore();
  const store = stores.recordings;
  const persister = new Persister({ bus, store, logger, blockMs: 200 });
  persister.start();
  const agent = await startAgent({ config, bus, logger, hubPublicKeyPem: keys.publicKeyPem, sshUpstreams, sshKeys: opts.sshKeys, control: opts.control });
  const port = agent.listeners.get('box')!.port;
  const signer = await TokenSigner.fromPem(keys.privateKeyPem);
  const token = (user = 'alice', target = 'box', ttlMs = 60_000) => signer.connectionToken(user, target, ttlMs);
  const askpass = path.join(dir, 'askpass.sh');
  fs.writeFileSync(askpass, '#!/bin/sh\nprintf \'%s\\n\' "$VIGIL_TEST_PASSWORD"\n', { mode: 0o755 });

  const client: SshHarness['client'] = async (target, o = {}) => ({
    destination: `${target}@127.0.0.1`,
    args: [
      '-F', '/dev/null',
      '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR',
      '-o', 'PubkeyAuthentication=no', '-o', 'PreferredAuthentications=password', '-o', 'NumberOfPasswordPrompts=1',
      ...(o.options ?? []),
    ],
    env: {
      ...process.env,
      SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: 'force', DISPLAY: ':0',
      VIGIL_TEST_PASSWORD: o.password ?? (await token(o.user, target.split('+').pop())),
    },
  });

  return {
    sshd, agent, bus, stores, store, config, port, dir, token, client,
    ...recordings(store),
    async ssh(target, command, o = {}) {
      const c = await client(target, o);
      return runProcess('ssh', [...c.args, '-p', String(port), c.destination, ...command], c.env, o.input);
    },
    async scp(target, args, o = {}) {
      const c = await client(target, o);
      return runProcess('scp', [...c.args, '-P', String(port), ...args.map((a) => a.replace(/^REMOTE:/, `${c.destination}:`))], c.env, o.input);
    },
    async stop() {
      await agent.stop();
      await persister.stop();
      await bus.close();
      await stores.close();
      await shell?.stop();
      await sshd.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A shell opened through the agent with ssh2 (a pty), and everything it showed (stdout and stderr). */
export interface ShellThroughAgent {
  conn: ssh2.Client;
  stream: ClientChannel;
  /** Resolves when the connection closes. */
  closed: Promise<void>;
  shown(): string;
}

export async function openShellThroughAgent(h: SshHarness, user: string, target: string, pty = { term: 'xterm', cols: 80, rows: 24 }): Promise<ShellThroughAgent> {
  const conn = new ssh2.Client();
  const password = await h.token(user, target);
  await new Promise<void>((resolve, reject) => {
    conn.once('ready', () => resolve()).once('error', reject);
    conn.connect({ host: '127.0.0.1', port: h.port, username: target, password });
  });
  const closed = new Promise<void>((resolve) => conn.once('close', () => resolve()));
  const stream = await new Promise<ClientChannel>((resolve, reject) => conn.shell(pty, (err, s) => (err ? reject(err) : resolve(s))));
  let shown = '';
  stream.on('data', (d: Buffer) => (shown += d));
  stream.stderr.on('data', (d: Buffer) => (shown += d));
  return { conn, stream, closed, shown: () => shown };
}
