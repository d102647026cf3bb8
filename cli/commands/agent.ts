// vigil agent --config FILE: the recording proxy for the config's targets, publishing to Redis.
import fs from 'node:fs';
import type { Command } from 'commander';
import { checkSecrets } from '../../common/config/secrets.ts';
import type { Config } from '../../common/config/schema.ts';
import { createLogger } from '../../common/log.ts';
import { keyPaths } from '../../common/tokens.ts';
import { CliError } from '../cli-error.ts';
import { loadCliConfig } from '../cli-config.ts';
import { Resources, untilSignal } from '../lifecycle.ts';
import { registerEnroll } from './agents.ts';

export function readHubPublicKey(config: Config): string {
  const file = config.agent.hubPublicKeyFile ?? keyPaths(config.dataDir).publicKey;
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    throw new CliError(`cannot read the hub's public key at ${file}: copy it from the hub's dataDir and set agent.hubPublicKeyFile`);
  }
}

/** Listener failures as the user can fix them. */
export function describeListenError(err: unknown): Error {
  const e = err as NodeJS.ErrnoException & { address?: string; port?: number };
  if (e?.code === 'EADDRINUSE') return new CliError(`cannot listen on ${e.address}:${e.port}: the address is in use (another vigil dev or agent? change the target's listen)`);
  if (e?.code === 'EACCES' || e?.code === 'EADDRNOTAVAIL') return new CliError(`cannot listen on ${e.address}:${e.port}: ${e.code}`);
  return err as Error;
}

export function registerAgent(program: Command): void {
  const agent = program
    .command('agent')
    .description('run the proxy agent for the targets in the config')
    .option('--config <file>', 'config file (settings may also come from the environment)')
    .action(async (opts: { config?: string }) => {
      const config = loadCliConfig(opts.config, { addDemoTarget: false });
      checkSecrets(config, opts.config ?? '(defaults)', 'agent');
      if (!config.redis.url) {
        throw new CliError('vigil agent sends recordings to the hub through Redis: set redis.url in the config or REDIS_URL (the in-process bus of `vigil dev` cannot cross processes)');
      }
      if (config.targets.length === 0) throw new CliError('the config has no targets: add one under targets:');
      const missing = config.targets.filter((t) => !t.upstream).map((t) => t.name);
      if (missing.length) throw new CliError(`target ${missing.join(', ')} has no upstream (only \`vigil dev\` serves a demo database): set targets[].upstream`);
      const hubPublicKeyPem = readHubPublicKey(config);
      // Imported only for this command (see dev.ts): they take seconds to load.
      const [{ createBus }, { createRedisKeyDirectory }, { createRedisControlBus }, { startAgent }] = await Promise.all([
        import('../../common/bus/create-bus.ts'), import('../../common/ssh-key-directory.ts'),
        import('../../common/control/redis-control-bus.ts'), import('../../proxy-agent/agent.ts'),
      ]);
      const logger = createLogger(config.log.level);
      const resources = new Resources();
      try {
        const bus = await createBus(config.redis.url, logger, config.redis.keyPrefix);
        resources.add('bus', () => bus.close());
        // The SSH keys people registered in the dashboard, as the hub writes them to Redis.
        const sshKeys = config.targets.some((t) => t.protocol === 'ssh') ? await createRedisKeyDirectory(config.redis.url, config.redis.keyPrefix, logger) : undefined;
        if (sshKeys) resources.add('ssh key directory', () => sshKeys.close());
        // The hub's decisions (kill orders) reach this agent over Redis.
        const control = await createRedisControlBus(config.redis.url, config.redis.keyPrefix, logger);
        resources.add('control bus', () => control.close());
        const agent = await startAgent({ config, bus, logger, hubPublicKeyPem, sshKeys, control }).catch((err) => { throw describeListenError(err); });
        resources.add('agent', () => agent.stop());
        for (const [name, address] of agent.listeners) process.stdout.write(`vigil agent: target ${name} on ${address.address}:${address.port}\n`);
        await untilSignal(logger);
      } finally {
        await resources.closeAll(logger);
      }
    });
  registerEnroll(agent);
}
