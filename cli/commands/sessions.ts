// vigil sessions list | show ID | kill ID: recordings read from the hub's API, and ending a live one.
import type { Command } from 'commander';
import { CliError } from '../cli-error.ts';
import { loadCliConfig } from '../cli-config.ts';
import { eventLines, sessionHeader, sessionTable } from '../format-session.ts';
import { HubClient } from '../hub-client.ts';

interface ListOptions {
  json?: boolean;
  user?: string;
  target?: string;
  live?: boolean;
  limit?: string;
  hub?: string;
  config?: string;
}

function parseLimit(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > 500) throw new CliError('--limit expects a number from 1 to 500');
  return text;
}

export function registerSessions(program: Command): void {
  const sessions = program.command('sessions').description('recorded sessions, from the hub');

  sessions
    .command('list')
    .description('list sessions, newest first')
    .option('--json', 'print a JSON array')
    .option('--user <name>', 'users whose name contains this (any case)')
    .option('--target <name>', 'targets whose name contains this (any case)')
    .option('--live', 'only sessions still open')
    .option('--limit <n>', 'at most this many (default 50)')
    .option('--hub <url>', 'hub API base URL (default: http://hub.listen)')
    .option('--config <file>', 'config file (default: the `vigil dev` defaults)')
    .action(async (opts: ListOptions) => {
      const config = loadCliConfig(opts.config, { addDemoTarget: false });
      const limit = parseLimit(opts.limit);
      const client = await HubClient.create(config, opts.hub);
      const { sessions: found } = await client.listSessions({
        user: opts.user, target: opts.target, live: opts.live ? 'true' : undefined, limit,
      });
      process.stdout.write(opts.json ? `${JSON.stringify(found, null, 2)}\n` : `${sessionTable(found)}\n`);
    });

  sessions
    .command('show')
    .description('print a session: its summary, then every event on a line')
    .argument('<id>', 'session id (from `vigil sessions list`)')
    .option('--hub <url>', 'hub API base URL (default: http://hub.listen)')
    .option('--config <file>', 'config file (default: the `vigil dev` defaults)')
    .action(async (id: string, opts: { hub?: string; config?: string }) => {
      const config = loadCliConfig(opts.config, { addDemoTarget: false });
      const client = await HubClient.create(config, opts.hub);
      const summary = await client.getSession(id);
      const out: string[] = [sessionHeader(summary), ''];
      let from: number | null = 1;
      while (from !== null) {
        const page = await client.events(summary.id, from);
        for (const event of page.events) out.push(...eventLines(event));
        from = page.next;
        // Flush per page: a long recording starts printing before it is all read.
        process.stdout.write(`${out.splice(0).join('\n')}\n`);
      }
    });

  sessions
    .command('kill')
    .description('end a live session now; its user is told it was ended by the operator, and why')
    .argument('<id>', 'session id (from `vigil sessions list --live`)')
    .option('--reason <text>', 'why (shown to the session\'s user and recorded)')
    .option('--hub <url>', 'hub API base URL (default: http://hub.listen)')
    .option('--config <file>', 'config file (default: the `vigil dev` defaults)')
    .action(async (id: string, opts: { reason?: string; hub?: string; config?: string }) => {
      const config = loadCliConfig(opts.config, { addDemoTarget: false });
      const client = await HubClient.create(config, opts.hub);
      await client.killSession(id, opts.reason);
      process.stdout.write(`session ${id}: kill order sent\n`);
    });
}
