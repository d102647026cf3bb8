// A private tmux server per test file (its own socket name), for real terminals: the OpenSSH
// client runs inside it as a person's would. Killed with the file's other fixtures.
import crypto from 'node:crypto';
import { execFileSync } from 'node:child_process';

export interface TmuxServer {
  /** A tmux command on this server, with the environment the client needs (its answer as text). */
  command(env: NodeJS.ProcessEnv): (...args: string[]) => string;
  kill(): void;
}

export function tmuxServer(): TmuxServer {
  const socket = `vigil-test-${crypto.randomBytes(4).toString('hex')}`;
  return {
    command: (env) => (...args) => execFileSync('tmux', ['-L', socket, ...args], { env, encoding: 'utf8' }),
    kill() {
      try {
        execFileSync('tmux', ['-L', socket, 'kill-server'], { stdio: 'ignore' });
      } catch {
        // no server left
      }
    },
  };
}
