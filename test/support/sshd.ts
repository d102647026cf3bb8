// A real OpenSSH server for tests (Debian's openssh-server), on a free loopback port with its own
// config, host key and authorized client key, so tests neither need nor touch the machine's sshd.
// It logs in the user running the tests.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './free-port.ts';

export const SSHD_BIN = '/usr/sbin/sshd';

export interface Sshd {
  port: number;
  /** The account tests log in as (the one running them). */
  user: string;
  /** The server's public host key line ("ssh-ed25519 AAAA..."). */
  hostKey: string;
  /** Private key (file) the server accepts for `user`. */
  clientKeyFile: string;
  dir: string;
  stop(): Promise<void>;
}

function keygen(file: string): void {
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'vigil-test', '-f', file]);
}

/** Whether an SSH server greets on the port (within a second: something silent there is not sshd). */
function reachable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    const done = (ok: boolean) => {
      clearTimeout(timer);
      s.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), 1000);
    s.once('data', (d) => done(d.toString('latin1').startsWith('SSH-')));
    s.once('error', () => done(false));
  });
}

function writeConfig(dir: string, port: number): void {
  fs.writeFileSync(path.join(dir, 'sshd_config'), [
    `Port ${port}`,
    'ListenAddress 127.0.0.1',
    `HostKey ${path.join(dir, 'host_key')}`,
    `PidFile ${path.join(dir, 'sshd.pid')}`,
    `AuthorizedKeysFile ${path.join(dir, 'authorized_keys')}`,
    'StrictModes no',
    'UsePAM no',
    'PermitRootLogin yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'PubkeyAuthentication yes',
    'AllowTcpForwarding yes',
    'X11Forwarding no',
    'PrintMotd no',
    'PrintLastLog no',
    'AcceptEnv LANG LC_* VIGIL_TEST_*',
    'Subsystem sftp internal-sftp',
    (process.env.VIGIL_SSHD_LOG ? 'LogLevel DEBUG1' : 'LogLevel ERROR'),
    '',
  ].join('\n'));
}

export async function startSshd(): Promise<Sshd> {
  if (!fs.existsSync(SSHD_BIN)) throw new Error(`${SSHD_BIN} is missing: apt-get install openssh-server`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-sshd-'));
  keygen(path.join(dir, 'host_key'));
  keygen(path.join(dir, 'client_key'));
  fs.copyFileSync(path.join(dir, 'client_key.pub'), path.join(dir, 'authorized_keys'));
  // sshd refuses to start without its privilege separation directory.
  if (process.getuid?.() === 0) fs.mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const user = os.userInfo().username;
  // A free port can be taken by someone else before sshd binds it: then try another.
  let port = 0;
  let proc: ChildProcess | undefined;
  let stderr = '';
  for (let attempt = 1; !proc; attempt++) {
    port = await freePort();
    writeConfig(dir, port);
    stderr = '';
    const started: ChildProcess = spawn(SSHD_BIN, ['-D', '-e', '-f', path.join(dir, 'sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] });
    started.stderr!.on('data', (d) => { stderr += d; if (process.env.VIGIL_SSHD_LOG) process.stderr.write(d); });
    for (let i = 0; i <= 100 && started.exitCode === null; i++) {
      if (await reachable(port)) {
        proc = started;
        break;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    if (proc) break;
    started.kill('SIGKILL');
    if (attempt === 3) throw new Error(`sshd did not start: ${stderr}`);
  }
  const sshd = proc;
  return {
    port,
    user,
    hostKey: fs.readFileSync(path.join(dir, 'host_key.pub'), 'utf8').trim().split(' ').slice(0, 2).join(' '),
    clientKeyFile: path.join(dir, 'client_key'),
    dir,
    async stop() {
      if (sshd.exitCode === null) {
        sshd.kill('SIGTERM');
        await new Promise((r) => sshd.once('exit', r));
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
