// What a user pastes to connect: for PostgreSQL the libpq URI psql takes (the Vigil token is the
// password, the target name the database); for SSH the ssh command line (the SSH user name names
// the target; the token is the password). Host and port are those of the agent's listener.
import type { Config, HttpTarget, PostgresTarget, Target } from './config/schema.ts';

/** Host for clients: agent.publicHost when set, loopback for wildcard listeners. */
export function clientHost(config: Config, listen: string): string {
  if (config.agent.publicHost) return bracket(config.agent.publicHost);
  const host = listen.slice(0, listen.lastIndexOf(':')).replace(/^\[|\]$/g, '');
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return bracket(host);
}

function bracket(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

/** Percent-encodes also ' ( ) ! *, so the URI can be pasted inside shell quotes. */
const encode = (text: string) => encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** Where the agent listens for this target: its own port (PostgreSQL) or the agent's SSH port. */
export function listenAddress(config: Config, target: Target): string {
  return target.protocol === 'ssh' ? config.agent.ssh.listen : target.listen;
}

/** host:port as clients reach the target (port: the one actually bound, when known). */
export function clientAddress(config: Config, target: Target, port?: number): { host: string; port: number } {
  const listen = listenAddress(config, target);
  return { host: clientHost(config, listen), port: port ?? Number(listen.slice(listen.lastIndexOf(':') + 1)) };
}

export function connectionUri(config: Config, target: PostgresTarget, user: string, token: string, port?: number): string {
  const at = clientAddress(config, target, port);
  const sslmode = target.tls ? 'require' : 'disable';
  return `postgresql://${encode(user)}:${encode(token)}@${at.host}:${at.port}/${encode(target.name)}?sslmode=${sslmode}`;
}

/** The base URL clients use for an HTTP target (its publicUrl, else the agent's host and the listener's port). */
export function httpTargetUrl(config: Config, target: HttpTarget, port?: number): string {
  if (target.publicUrl) return target.publicUrl.replace(/\/$/, '');
  const at = clientAddress(config, target, port);
  return `${target.tls ? 'https' : 'http'}://${at.host}:${at.port}`;
}

/** A curl command for an HTTP target: the Vigil token as the bearer token. */
export function curlCommand(config: Config, target: HttpTarget, token: string, port?: number): string {
  return `curl -H 'Authorization: Bearer ${token}' ${httpTargetUrl(config, target, port)}/`;
}

/** The ssh command line for a target; the password it asks for is the Vigil token. */
export function sshCommand(config: Config, target: Target, port?: number): string {
  const at = clientAddress(config, target, port);
  return `ssh -p ${at.port} ${target.name}@${at.host.replace(/^\[|\]$/g, '')}`;
}
