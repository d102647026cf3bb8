// vigil verify ID | --all | --audit | --bundle FILE [--keys FILE]: whether recordings (or the audit log) are as they were
// sealed (hash chain, block digests, signed manifest). Online the hub judges what it stores; with
// --bundle the judgement runs here, on an exported bundle, with the keys it brings or, better,
// keys pinned from the hub (--keys: a saved /.well-known/vigil-recording-keys). Exit code 0 when
// everything verified, 1 when something was tampered with, 2 when something is not sealed yet.
// vigil keys ls | rotate: the manifest signing keys.
import fs from 'node:fs';
import type { Command } from 'commander';
import type { RecordingKeysResponse, VerifyReport } from '../../common/api-contract.ts';
import { parseBundle, verifyBundle } from '../../server/recordings/trust/bundle.ts';
import { CliError } from '../cli-error.ts';
import { loadCliConfig } from '../cli-config.ts';
import { HubClient } from '../hub-client.ts';

interface VerifyOptions {
  all?: boolean;
  audit?: boolean;
  bundle?: string;
  keys?: string;
  json?: boolean;
  hub?: string;
  config?: string;
}

const STATUS_WORD: Record<VerifyReport['status'], string> = { verified: 'VERIFIED', tampered: 'TAMPERED', unsealed: 'NOT SEALED', unreadable: 'UNREADABLE', purged: 'PURGED' };

export function reportLines(r: VerifyReport): string[] {
  const lines = [`${r.sessionId}  ${STATUS_WORD[r.status]}  ${r.summary}`];
  for (const p of r.problems) lines.push(`  problem: ${p}`);
  for (const n of r.notes) lines.push(`  note: ${n}`);
  return lines;
}

function exitCodeOf(reports: readonly VerifyReport[]): number {
  if (reports.some((r) => r.status === 'tampered')) return 1;
  // Purged by policy, with its tombstone holding, is as it should be.
  if (reports.some((r) => r.status !== 'verified' && r.status !== 'purged')) return 2;
  return 0;
}

function readKeys(file: string): RecordingKeysResponse['keys'] {
  let parsed: Partial<RecordingKeysResponse>;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<RecordingKeysResponse>;
  } catch (err) {
    throw new CliError(`--keys ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : 'not JSON'}`);
  }
  if (!Array.isArray(parsed.keys)) throw new CliError(`--keys ${file}: expected { "keys": [...] } as /.well-known/vigil-recording-keys serves it`);
  return parsed.keys;
}

export function registerVerify(program: Command): void {
  program
    .command('verify')
    .description('check that recordings are as they were sealed: hash chain, block digests and the signed manifest')
    .argument('[id]', 'session id')
    .option('--all', 'every session the hub has (newest first)')
    .option('--audit', 'the audit log against its signed checkpoints')
    .option('--bundle <file>', 'verify an exported bundle (`vigil export ID --format bundle`) here, without the hub')
    .option('--keys <file>', 'with --bundle: trust only these keys (a saved /.well-known/vigil-recording-keys)')
    .option('--json', 'print the reports as JSON')
    .option('--hub <url>', 'hub API base URL (default: http://hub.listen)')
    .option('--config <file>', 'config file (default: the `vigil dev` defaults)')
    .action(async (id: string | undefined, opts: VerifyOptions) => {
      if (opts.audit) {
        if (id || opts.all || opts.bundle) throw new CliError('--audit verifies the audit log: give no id, --all or --bundle');
        const report = await (await HubClient.create(loadCliConfig(opts.config, { addDemoTarget: false }), opts.hub)).verifyAudit();
        process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : [`audit log  ${report.status === 'verified' ? 'VERIFIED' : 'TAMPERED'}  ${report.summary}`, ...report.problems.map((p) => `  problem: ${p}`)].join('\n') + '\n');
        process.exitCode = report.status === 'verified' ? 0 : 1;
        return;
      }
      const reports: VerifyReport[] = [];
      if (opts.bundle) {
        if (id || opts.all) throw new CliError('--bundle verifies the bundle\'s session: give no id and no --all');
        let text: string;
        try {
          text = fs.readFileSync(opts.bundle, 'utf8');
        } catch {
          throw new CliError(`--bundle ${opts.bundle}: cannot read it`);
        }
        let bundle;
        try {
          bundle = parseBundle(text);
        } catch (err) {
          throw new CliError(`--bundle ${opts.bundle}: ${(err as Error).message}`);
        }
        const report = verifyBundle(bundle, opts.keys ? readKeys(opts.keys) : undefined);
        if (!opts.keys && report.manifest) report.notes.push(`checked with the key the bundle brings (${report.manifest.keyId}): pin your hub's keys with --keys to rule out a forged bundle`);
        reports.push(report);
      } else {
        if (opts.keys) throw new CliError('--keys goes with --bundle: online, the hub checks against its published keys');
        if (!id === !opts.all) throw new CliError('give a session id or --all');
        const client = await HubClient.create(loadCliConfig(opts.config, { addDemoTarget: false }), opts.hub);
        if (id) {
          reports.push(await client.verify(id));
        } else {
          for (let before: string | null | undefined; before !== null;) {
            const page = await client.listSessions({ limit: '200', before: before ?? undefined });
            for (const s of page.sessions) {
              const report = await client.verify(s.id);
              reports.push(report);
              if (!opts.json) process.stdout.write(`${reportLines(report).join('\n')}\n`);
            }
            before = page.next;
          }
        }
      }
      if (opts.json) process.stdout.write(`${JSON.stringify(opts.all ? reports : reports[0], null, 2)}\n`);
      else if (!opts.all) process.stdout.write(`${reportLines(reports[0]).join('\n')}\n`);
      else {
        const count = (s: VerifyReport['status']) => reports.filter((r) => r.status === s).length;
        process.stdout.write(`${reports.length} sessions: ${count('verified')} verified, ${count('tampered')} tampered, ${count('unsealed')} not sealed yet${count('purged') ? `, ${count('purged')} purged` : ''}\n`);
      }
      process.exitCode = exitCodeOf(reports);
    });

  const keys = program.command('keys').description('the keys recordings\' manifests are signed with');
  keys
    .command('ls')
    .description('list the published keys: current and retired, with when each was in use')
    .option('--json', 'print JSON as /.well-known/vigil-recording-keys serves it')
    .option('--hub <url>', 'hub API base URL (default: http://hub.listen)')
    .option('--config <file>', 'config file (default: the `vigil dev` defaults)')
    .action(async (opts: { json?: boolean; hub?: string; config?: string }) => {
      const client = await HubClient.create(loadCliConfig(opts.config, { addDemoTarget: false }), opts.hub);
      const published = await client.recordingKeys();
      if (opts.json) return void process.stdout.write(`${JSON.stringify(published, null, 2)}\n`);
      for (const k of published.keys) process.stdout.write(`${k.id}  from ${k.createdAt}  ${k.retiredAt ? `retired ${k.retiredAt}` : 'in use'}\n`);
    });
  keys
    .command('rotate')
    .description('give the hub a new signing key; the old one is retired and keeps verifying what it signed')
    .option('--hub <url>', 'hub API base URL (default: http://hub.listen)')
    .option('--config <file>', 'config file (default: the `vigil dev` defaults)')
    .action(async (opts: { hub?: string; config?: string }) => {
      const client = await HubClient.create(loadCliConfig(opts.config, { addDemoTarget: false }), opts.hub);
      const r = await client.rotateRecordingKey();
      process.stdout.write(`key ${r.retired} retired; new manifests are signed with ${r.current.id}\n`);
    });
}
