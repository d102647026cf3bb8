// The agent's login to the target host: the target's key or password from the config, never the
// user's; the host key pinned (pinned-host-key.ts).
import fs from 'node:fs';
import ssh2, { type Client as SshClient } from 'ssh2';
import type { SshTarget } from '../../common/config/schema.ts';
import { readSecret, upstreamPassword } from '../../common/config/secrets.ts';
import { fingerprintOf } from '../../common/ssh-public-key.ts';
import { pinnedHostKey, type PinnedHostKey } from './pinned-host-key.ts';

const { Client } = ssh2;

export interface SshUpstreamSettings {
  host: string;
  port: number;
  user: string;
  privateKey?: string;
  password?: string;
  hostKey: PinnedHostKey;
}

export function resolveSshUpstream(target: SshTarget, env: NodeJS.ProcessEnv = process.env): SshUpstreamSettings {
  const u = target.upstream;
  if (!u) throw new Error(`target ${target.name} has no upstream`);
  const fromEnv = upstreamPassword(target);
  const password = fromEnv && readSecret(fromEnv, env);
  let privateKey: string | undefined;
  if (u.privateKeyFile) {
    try {
      privateKey = fs.readFileSync(u.privateKeyFile, 'utf8');
    } catch (err) {
      throw new Error(`target ${target.name}: cannot read upstream.privateKeyFile ${u.privateKeyFile}: ${(err as Error).message}`);
    }
  }
  return { host: u.host, port: u.port, user: u.user, privateKey, password, hostKey: pinnedHostKey(u.hostKey) };
}

/** Why an upstream login failed, in words fit for the user's terminal. */
export class UpstreamSshError extends Error {}

export function connectUpstream(settings: SshUpstreamSettings, timeoutMs = 10_000): Promise<SshClient> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    let shown: string | undefined;
    const fail = (message: string) => {
      client.removeAllListeners('ready');
      client.on('error', () => undefined);
      client.end();
      reject(new UpstreamSshError(message));
    };
    client.once('ready', () => {
      client.removeAllListeners('error');
      resolve(client);
    });
    client.on('error', (err: Error & { level?: string }) => {
      if (shown) fail(`the host ${settings.host}:${settings.port} showed host key ${shown}, not the one pinned for it (${settings.hostKey.fingerprint}): refused`);
      else if (err.level === 'client-authentication') fail(`the agent could not log in to ${settings.host}:${settings.port} as ${settings.user}`);
      else fail(`cannot reach ${settings.host}:${settings.port}: ${err.message}`);
    });
    client.connect({
      host: settings.host,
      port: settings.port,
      username: settings.user,
      privateKey: settings.privateKey,
      password: settings.password,
      readyTimeout: timeoutMs,
      keepaliveInterval: 15_000,
      hostVerifier: (key: Buffer) => {
        if (settings.hostKey.matches(key)) return true;
        shown = fingerprintOf(key);
        return false;
      },
    });
  });
}
