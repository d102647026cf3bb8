// vigil export ID --format jsonl: the session's events, one canonical body per line, byte for byte
// as the hub stores them (what a later hash chain signs). --format asciicast: a terminal session
// as asciicast v2, for `asciinema play`.
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import { CliError } from '../cli-error.ts';
import { loadCliConfig } from '../cli-config.ts';
import { HubClient } from '../hub-client.ts';

export function registerExport(program: Command): void {
  program
    .command('export')
    .description('print a session as JSON Lines (one event per line) or, for a terminal, as asciicast v2')
    .argument('<id>', 'session id')
    .option('--format <format>', 'output format: jsonl or asciicast', 'jsonl')
    .option('--hub <url>', 'hub API base URL (default: http://hub.listen)')
    .option('--config <file>', 'config file (default: the `vigil dev` defaults)')
    .action(async (id: string, opts: { format: string; hub?: string; config?: string }) => {
      if (opts.format !== 'jsonl' && opts.format !== 'asciicast') throw new CliError(`--format ${opts.format} is not supported: use jsonl or asciicast`);
      const config = loadCliConfig(opts.config, { addDemoTarget: false });
      const client = await HubClient.create(config, opts.hub);
      await pipeline(await client.export(id, opts.format), process.stdout, { end: false });
    });
}
