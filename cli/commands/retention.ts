// vigil purge [ID]: purge one ended session's recording now, or everything past its retention.
// vigil hold create --session ID | --user NAME | --target NAME --reason TEXT | ls [--all] | rm ID:
// legal holds, which keep recordings whatever their retention says.
import type { Command } from 'commander';
import type { HoldView } from '../../common/api-contract.ts';
import { CliError } from '../cli-error.ts';
import { loadCliConfig } from '../cli-config.ts';
import { HubClient } from '../hub-client.ts';

interface HubOptions {
  hub?: string;
  config?: string;
}

const client = (opts: HubOptions) => HubClient.create(loadCliConfig(opts.config, { addDemoTarget: false }), opts.hub);

function holdLine(h: HoldView): string {
  const what = [h.sessionId && `session ${h.sessionId}`, h.user && `user ${h.user}`, h.target && `target ${h.target}`].filter(Boolean).join(', ');
  const state = h.releasedAt ? `released by ${h.releasedBy} ${h.releasedAt}` : `by ${h.createdBy} ${h.createdAt}`;
  return `${h.id}  ${what}  ${state}: ${h.reason}`;
}

export function registerRetention(program: Command): void {
  program
    .command('purge')
    .description('purge a session\'s recording now (admins), or with no id everything past its retention; a signed tombstone stays')
    .argument('[id]', 'session id')
    .option('--hub <url>', 'hub API base URL (default: http://hub.listen)')
    .option('--config <file>', 'config file (default: the `vigil dev` defaults)')
    .action(async (id: string | undefined, opts: HubOptions) => {
      const result = await (await client(opts)).purge(id);
      for (const s of result.purged) process.stdout.write(`purged ${s}\n`);
      for (const s of result.held) process.stdout.write(`kept ${s} (legal hold)\n`);
      if (!result.purged.length && !result.held.length) process.stdout.write('nothing is past its retention\n');
    });

  const hold = program.command('hold').description('legal holds: recordings kept whatever their retention says');
  hold
    .command('create')
    .description('hold a session, or every session of a user or a target')
    .option('--session <id>', 'one session')
    .option('--user <name>', 'every session of this user')
    .option('--target <name>', 'every session on this target')
    .requiredOption('--reason <text>', 'why (a case or ticket)')
    .option('--hub <url>', 'hub API base URL (default: http://hub.listen)')
    .option('--config <file>', 'config file (default: the `vigil dev` defaults)')
    .action(async (opts: HubOptions & { session?: string; user?: string; target?: string; reason: string }) => {
      if (!opts.session && !opts.user && !opts.target) throw new CliError('a hold needs --session, --user or --target');
      const made = await (await client(opts)).createHold({ sessionId: opts.session, user: opts.user, target: opts.target, reason: opts.reason });
      process.stdout.write(`${holdLine(made)}\n`);
    });
  hold
    .command('ls')
    .description('list holds in force')
    .option('--all', 'released ones too')
    .option('--json', 'print JSON')
    .option('--hub <url>', 'hub API base URL (default: http://hub.listen)')
    .option('--config <file>', 'config file (default: the `vigil dev` defaults)')
    .action(async (opts: HubOptions & { all?: boolean; json?: boolean }) => {
      const holds = await (await client(opts)).listHolds(!!opts.all);
      process.stdout.write(opts.json ? `${JSON.stringify(holds, null, 2)}\n` : holds.map((h) => `${holdLine(h)}\n`).join(''));
    });
  hold
    .command('rm')
    .description('release a hold')
    .argument('<id>', 'hold id (H-...)')
    .option('--hub <url>', 'hub API base URL (default: http://hub.listen)')
    .option('--config <file>', 'config file (default: the `vigil dev` defaults)')
    .action(async (id: string, opts: HubOptions) => {
      process.stdout.write(`${holdLine(await (await client(opts)).releaseHold(id))}\n`);
    });
}
