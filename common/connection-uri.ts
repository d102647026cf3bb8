// The libpq connection URI a user pastes into psql: the Vigil token is the password, the target
// name the database, and the host and port those of the target's listener on the agent.
import type { Config, Target } from './config/schema.ts';

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

export function connectionUri(config: Config, target: Target, user: string, token: string, port?: number): string {
  const listenPort = port ?? Number(target.listen.slice(target.listen.lastIndexOf(':') + 1));
  const sslmode = target.tls ? 'require' : 'disable';
  return `postgresql://${encode(user)}:${encode(token)}@${clientHost(config, target.listen)}:${listenPort}/${encode(target.name)}?sslmode=${sslmode}`;
}
