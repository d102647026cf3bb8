// vigil request TARGET --for 30m --reason "..." [--user NAME] [--wait]: asks for just-in-time
// access to a `jit` target (with --recordings [--session ID]: to read the target's recordings, or
// one session's, for a while instead), as NAME (signed with the hub's key from dataDir, like `vigil token`),
// prints the request's number, and with --wait follows it until approvers decide: exit 0 when
// granted, 1 when denied or expired.
import type { Command } from 'commander';
import type { AccessRequestView } from '../../common/api-contract.ts';
import { CliError } from '../cli-error.ts';
import { loadCliConfig } from '../cli-config.ts';
import { DEMO_USER } from '../dev-defaults.ts';
import { HubClient } from '../hub-client.ts';
import { checkUserName } from './token.ts';

const WAIT_POLL_MS = 1000;

function describe(r: AccessRequestView): string {
  const by = r.decisions.map((d) => `${d.decision === 'approve' ? 'approved' : 'denied'} by ${d.approver}${d.comment ? ` (${d.comment})` : ''}`).join(', ');
  const until = r.status === 'granted' && r.expiresAt ? ` until ${new Date(r.expiresAt).toLocaleTimeString()}` : '';
  return `request #${r.id} for ${r.target}: ${r.status}${until}${by ? `; ${by}` : ''}${r.status === 'revoked' ? `; revoked by ${r.endedBy}` : ''}`;
}

export function registerRequest(program: Command): void {
  program
    .command('request')
    .description('ask for just-in-time access to a target; approvers decide on the dashboard')
    .argument('<target>', 'a target with access: jit (e.g. payments)')
    .option('--for <duration>', 'how long, e.g. 30m or 2h (default: the target\'s defaultDuration)')
    .option('--reason <text>', 'why (approvers read it; most targets require one)', '')
    .option('--user <name>', `who asks (default: ${DEMO_USER}, the demo engineer)`, DEMO_USER)
    .option('--recordings', 'ask to read the target\'s recordings (not to connect)')
    .option('--session <id>', 'with --recordings: only this session\'s recording')
    .option('--wait', 'wait until it is decided (exit 0 when granted)')
    .option('--hub <url>', 'hub API base URL (default: http://hub.listen)')
    .option('--config <file>', 'config file (default: the `vigil dev` defaults)')
    .action(async (target: string, opts: { for?: string; reason: string; user: string; recordings?: boolean; session?: string; wait?: boolean; hub?: string; config?: string }) => {
      if (opts.session && !opts.recordings) throw new CliError('--session goes with --recordings');
      if (opts.for !== undefined && !/^\d{1,6}(s|m|h)$/.test(opts.for)) throw new CliError(`--for expects a duration such as 30m or 2h, got "${opts.for}"`);
      const config = loadCliConfig(opts.config, { addDemoTarget: true });
      const client = await HubClient.create(config, opts.hub, { user: checkUserName(opts.user), role: 'engineer' });
      let request = await client.requestAccess(target, opts.reason, opts.for, opts.recordings ? { scope: 'recording', ...(opts.session ? { sessionId: opts.session } : {}) } : undefined);
      process.stdout.write(`${describe(request)}\n`);
      if (!opts.wait) {
        if (request.status === 'pending') process.stderr.write('an approver decides on the dashboard (Access); --wait follows it here\n');
        return;
      }
      while (request.status === 'pending') {
        await new Promise((r) => setTimeout(r, WAIT_POLL_MS));
        const next = await client.accessRequest(request.id);
        if (next.decisions.length !== request.decisions.length || next.status !== request.status) process.stdout.write(`${describe(next)}\n`);
        request = next;
      }
      if (request.status !== 'granted') process.exitCode = 1;
    });
}
