// vigil config check FILE: the validation `vigil hub` and `vigil agent` run at start (the schema,
// the environment's overrides, every regular expression compiled, the secrets read from the
// environment), without opening a port or a connection. Problems go to stderr, one a line.
import { Option, type Command } from 'commander';
import { loadConfig } from '../../common/config/load-config.ts';
import type { Config } from '../../common/config/schema.ts';
import { checkSecrets, type EnvSecret } from '../../common/config/secrets.ts';

/** What a config that passed sets up, in one line. */
function summary(config: Config, secrets: readonly EnvSecret[]): string {
  const targets = config.targets.map((t) => `${t.name}: ${t.protocol} on ${t.protocol === 'ssh' ? config.agent.ssh.listen : t.listen}`);
  const count = `${targets.length} target${targets.length === 1 ? '' : 's'}${targets.length ? ` (${targets.join(', ')})` : ''}`;
  const read = secrets.filter((s) => process.env[s.variable] !== undefined).map((s) => s.variable);
  return `${count}, hub on ${config.hub.listen}${read.length ? `, secrets from ${read.join(', ')}` : ''}`;
}

export function registerConfig(program: Command): void {
  const config = program.command('config').description('work with the config file');
  config
    .command('check')
    .description('validate a config file as hub and agent do at start, environment overrides and secrets included; starts nothing')
    .argument('<file>', 'the config file')
    .addOption(new Option('--role <role>', 'check only the secrets this process reads (default: both)').choices(['hub', 'agent']))
    .action((file: string, opts: { role?: EnvSecret['role'] }) => {
      const loaded = loadConfig(file);
      const secrets = checkSecrets(loaded, file, opts.role);
      process.stdout.write(`ok: ${summary(loaded, secrets)}\n`);
    });
}
