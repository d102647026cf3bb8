// vigil lock create | ls | rm: locks through the hub's API (common/locks.ts). A lock ends every
// live session it matches and keeps new ones out until it expires or is lifted.
import type { Command } from 'commander';
import type { LockView } from '../../common/api-contract.ts';
import { loadCliConfig } from '../cli-config.ts';
import { CliError } from '../cli-error.ts';
import { HubClient } from '../hub-client.ts';

interface HubOptions {
  hub?: string;
  config?: string;
}

interface CreateOptions extends HubOptions {
  user?: string;
  target?: string;
  token?: string;
  ttl?: string;
  reason?: string;
}

const client = (opts: HubOptions) => HubClient.create(loadCliConfig(opts.config, { addDemoTarget: false }), opts.hub);

/** One line per lock: id, what it locks, until when, by whom and why. */
export function lockTable(locks: readonly LockView[]): string {
  if (locks.length === 0) return 'no locks';
  const what = (l: LockView) => [l.user && `user ${l.user}`, l.target && `target ${l.target}`, l.token && `token ${l.token}`].filter(Boolean).join(', ');
  const until = (l: LockView) => (l.state === 'lifted' ? `lifted by ${l.liftedBy} at ${l.liftedAt}` : l.state === 'expired' ? `expired at ${l.expiresAt}` : l.expiresAt ? `until ${l.expiresAt}` : 'until lifted');
  return locks.map((l) => `${l.id}  ${what(l)}  ${until(l)}  by ${l.by}: ${l.reason}`).join('\n');
}

export function registerLock(program: Command): void {
  const lock = program.command('lock').description('keep a user, a user on a target, a target or a connection token out');
  const withHub = (c: Command) => c
    .option('--hub <url>', 'hub API base URL (default: http://hub.listen)')
    .option('--config <file>', 'config file (default: the `vigil dev` defaults)');

  withHub(lock
    .command('create')
    .description('lock now: matching live sessions end, new ones are refused with the reason')
    .option('--user <name>', 'the person locked out')
    .option('--target <name>', 'the target (with --user: only there)')
    .option('--token <jti>', 'one connection token, by its jti')
    .option('--ttl <duration>', 'for how long, such as 30m, 2h or 7d (default: until lifted)')
    .requiredOption('--reason <text>', 'why (shown to whoever is locked out, and audited)'))
    .action(async (opts: CreateOptions) => {
      if (!opts.user && !opts.target && !opts.token) throw new CliError('a lock needs --user, --target or --token');
      const made = await (await client(opts)).createLock({
        ...(opts.user ? { user: opts.user } : {}), ...(opts.target ? { target: opts.target } : {}), ...(opts.token ? { token: opts.token } : {}),
        ...(opts.ttl ? { ttl: opts.ttl } : {}), reason: opts.reason!,
      });
      process.stdout.write(`${lockTable([made])}\n`);
    });

  withHub(lock
    .command('ls')
    .description('the locks in force (--all: lifted and expired ones too), newest first')
    .option('--all', 'also the lifted and expired ones')
    .option('--json', 'print a JSON array'))
    .action(async (opts: HubOptions & { all?: boolean; json?: boolean }) => {
      const locks = await (await client(opts)).listLocks(opts.all === true);
      process.stdout.write(opts.json ? `${JSON.stringify(locks, null, 2)}\n` : `${lockTable(locks)}\n`);
    });

  withHub(lock
    .command('rm')
    .description('lift a lock: who it kept out may connect again')
    .argument('<id>', 'lock id (from `vigil lock ls`)'))
    .action(async (id: string, opts: HubOptions) => {
      const lifted = await (await client(opts)).liftLock(id);
      process.stdout.write(`${lockTable([lifted])}\n`);
    });
}
