// vigil token --user NAME --target NAME [--ttl 15m]: one line, a libpq URI psql accepts as is,
// with a connection token signed by the hub's key from dataDir as the password; for an SSH
// target the token alone (ssh asks for it as the password).
import type { Command } from 'commander';
import { parseDuration } from '../../common/config/schema.ts';
import { ensureSigningKey, TokenSigner } from '../../common/tokens.ts';
import { CliError } from '../cli-error.ts';
import { loadCliConfig } from '../cli-config.ts';
import type { Target } from '../../common/config/schema.ts';
import { connectionUri, curlCommand, sshCommand } from '../../common/connection-uri.ts';
import { DEMO_USER } from '../dev-defaults.ts';

export function parseTtl(text: string): number {
  if (!/^\d+(ms|s|m|h)$/.test(text)) throw new CliError(`--ttl expects a duration such as 30s, 15m or 1h, got "${text}"`);
  const ms = parseDuration(text);
  if (ms < 1000 || ms > 24 * 3_600_000) throw new CliError('--ttl must be between 1s and 24h');
  return ms;
}

export function checkUserName(user: string): string {
  if (user.length === 0 || user.length > 256 || /[\u0000-\u001f\u007f]/.test(user)) {
    throw new CliError('--user must be 1 to 256 printable characters');
  }
  return user;
}

function findTarget(config: ReturnType<typeof loadCliConfig>, name: string): Target {
  const target = config.targets.find((t) => t.name === name);
  if (target) return target;
  const known = config.targets.map((t) => t.name);
  throw new CliError(`unknown target "${name}"; ${known.length ? `targets in this config: ${known.join(', ')}` : 'this config has no targets'}`);
}

/**
 * Signs a connection token and returns what to paste (also used by `vigil dev` for its demo user):
 * for PostgreSQL the URI, for SSH the token itself (ssh's password).
 */
export async function issueConnectionUri(opts: { config: ReturnType<typeof loadCliConfig>; user: string; target: string; ttlMs: number; port?: number }): Promise<string> {
  const target = findTarget(opts.config, opts.target);
  const signer = await TokenSigner.fromPem(ensureSigningKey(opts.config.dataDir).privateKeyPem);
  const token = await signer.connectionToken(opts.user, target.name, opts.ttlMs);
  if (target.protocol === 'ssh') return token;
  if (target.protocol === 'http') return curlCommand(opts.config, target, token, opts.port);
  return connectionUri(opts.config, target, opts.user, token, opts.port);
}

export function registerToken(program: Command): void {
  program
    .command('token')
    .description('print a psql connection URI (or, for SSH, the password) with a short-lived Vigil token')
    .requiredOption('--user <name>', `user the token is issued to (e.g. ${DEMO_USER})`)
    .requiredOption('--target <name>', 'target to connect to (e.g. demo)')
    .option('--ttl <duration>', 'token lifetime, e.g. 15m (default: hub.tokenTtl)')
    .option('--config <file>', 'config file (default: the `vigil dev` defaults)')
    .action(async (opts: { user: string; target: string; ttl?: string; config?: string }) => {
      const config = loadCliConfig(opts.config, { addDemoTarget: true });
      const ttlMs = parseTtl(opts.ttl ?? config.hub.tokenTtl);
      const uri = await issueConnectionUri({ config, user: checkUserName(opts.user), target: opts.target, ttlMs });
      const target = findTarget(config, opts.target);
      // stdout stays one line (scripts read it); the hint goes to stderr.
      if (target.protocol === 'ssh') process.stderr.write(`give this token at the password prompt of: ${sshCommand(config, target)}\n`);
      process.stdout.write(`${uri}\n`);
    });
}
