// vigil export ID --format jsonl: the session's events, one canonical body per line, byte for byte
// as the hub stores them (each chained to the one before). --format asciicast: a terminal session
// as asciicast v2, for `asciinema play`. --format har: an HTTP session as HAR 1.2, for browsers'
// developer tools and HAR viewers. --format bundle: the recording as stored with its signed
// manifest and the published keys, for `vigil verify --bundle` away from the hub.
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import { CliError } from '../cli-error.ts';
import { loadCliConfig } from '../cli-config.ts';
import { HubClient } from '../hub-client.ts';

export function registerExport(program: Command): void {
  program
    .command('export')
    .description('print a session as JSON Lines (one event per line), as asciicast v2 (terminals), as HAR 1.2 (HTTP), or as a bundle to verify offline')
    .argument('<id>', 'session id')
    .option('--format <format>', 'output format: jsonl, asciicast, har or bundle', 'jsonl')
    .option('--hub <url>', 'hub API base URL (default: http://hub.listen)')
    .option('--config <file>', 'config file (default: the `vigil dev` defaults)')
    .action(async (id: string, opts: { format: string; hub?: string; config?: string }) => {
      if (opts.format !== 'jsonl' && opts.format !== 'asciicast' && opts.format !== 'har' && opts.format !== 'bundle') throw new CliError(`--format ${opts.format} is not supported: use jsonl, asciicast, har or bundle`);
      const config = loadCliConfig(opts.config, { addDemoTarget: false });
      const client = await HubClient.create(config, opts.hub);
      const body = opts.format === 'bundle' ? await client.bundle(id) : await client.export(id, opts.format);
      await pipeline(body, process.stdout, { end: false });
    });
}
