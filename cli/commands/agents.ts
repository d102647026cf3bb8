// vigil agent enroll --hub URL [--token T]: run on the agent's host, once; makes the agent's key
// (dataDir/agent-keys/<id>.pem) and asks the hub to trust it: at once with a one-time token from
// an admin, or when an admin approves it (`vigil agents approve ID`, or the dashboard).
// vigil agents ls | token [--ttl 1h] | approve ID | revoke ID --reason TEXT: the hub's side.
import type { Command } from 'commander';
import type { AgentIdentityView } from '../../common/api-contract.ts';
import { ensureAgentKey, keyFingerprint, publicKeyPem } from '../../common/agent-identity.ts';
import { CliError } from '../cli-error.ts';
import { loadCliConfig } from '../cli-config.ts';
import { HubClient } from '../hub-client.ts';

interface HubOptions {
  hub?: string;
  config?: string;
}

const client = (opts: HubOptions) => HubClient.create(loadCliConfig(opts.config, { addDemoTarget: false }), opts.hub);

function agentLine(a: AgentIdentityView): string {
  const state = a.status === 'enrolled' ? `enrolled ${a.enrolledAt} by ${a.enrolledBy}`
    : a.status === 'revoked' ? `revoked ${a.revokedAt} by ${a.revokedBy}: ${a.revokeReason}`
      : `waiting for approval since ${a.requestedAt}${a.requestedFrom ? ` (from ${a.requestedFrom})` : ''}`;
  return `${a.id}  ${a.fingerprint}  ${state}`;
}

export function registerEnroll(agentCommand: Command): void {
  agentCommand
    .command('enroll')
    .description('make this agent\'s key and ask the hub to trust it (with --token at once, else when an admin approves)')
    .requiredOption('--hub <url>', 'the hub\'s URL, e.g. https://vigil.example.com')
    .option('--token <token>', 'a one-time enrollment token (`vigil agents token` on the hub)')
    .option('--config <file>', 'the agent\'s config file (its agent.id and dataDir)')
    .action(async (opts: { hub: string; token?: string; config?: string }) => {
      const config = loadCliConfig(opts.config, { addDemoTarget: false });
      const base = opts.hub.replace(/\/+$/, '');
      if (!/^https?:\/\/[^/]+$/.test(base)) throw new CliError(`--hub expects a URL such as https://vigil.example.com, got ${opts.hub}`);
      const key = ensureAgentKey(config.dataDir, config.agent.id);
      let res: Response;
      try {
        res = await fetch(`${base}/api/agents/enroll`, {
          method: 'POST', headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ id: config.agent.id, publicKey: publicKeyPem(key), ...(opts.token ? { token: opts.token } : {}) }),
        });
      } catch (err) {
        throw new CliError(`cannot reach the hub at ${base}: ${(err as Error).message}`);
      }
      const body = await res.json().catch(() => ({})) as { agent?: AgentIdentityView; error?: { message?: string } };
      if (!res.ok || !body.agent) throw new CliError(`the hub refused the enrollment: ${body.error?.message ?? `HTTP ${res.status}`}`);
      const fingerprint = keyFingerprint(publicKeyPem(key));
      process.stdout.write(body.agent.status === 'enrolled'
        ? `agent ${config.agent.id} is enrolled (key ${fingerprint})\n`
        : `agent ${config.agent.id} asked to be enrolled (key ${fingerprint}): an admin approves it with \`vigil agents approve ${config.agent.id}\` after comparing the key\n`);
    });
}

export function registerAgents(program: Command): void {
  const agents = program.command('agents').description('the agents the hub trusts: list, enrollment tokens, approval, revocation');
  const common = (c: Command) => c.option('--hub <url>', 'hub API base URL (default: http://hub.listen)').option('--config <file>', 'config file (default: the `vigil dev` defaults)');
  common(agents.command('ls').description('list agents with their key fingerprints and state').option('--json', 'print JSON'))
    .action(async (opts: HubOptions & { json?: boolean }) => {
      const list = await (await client(opts)).listAgents();
      process.stdout.write(opts.json ? `${JSON.stringify(list, null, 2)}\n` : list.map((a) => `${agentLine(a)}\n`).join(''));
    });
  common(agents.command('token').description('a one-time token for `vigil agent enroll --token`').option('--ttl <duration>', 'how long it is valid (30m, 24h)', '1h'))
    .action(async (opts: HubOptions & { ttl: string }) => {
      const made = await (await client(opts)).enrollmentToken(opts.ttl);
      process.stdout.write(`${made.token}\n(valid until ${made.expiresAt}, once)\n`);
    });
  common(agents.command('approve').description('trust an agent that asked to be enrolled').argument('<id>', 'agent id'))
    .action(async (id: string, opts: HubOptions) => {
      process.stdout.write(`${agentLine(await (await client(opts)).approveAgent(id))}\n`);
    });
  common(agents.command('revoke').description('stop trusting an agent: its entries are refused, its sessions end').argument('<id>', 'agent id').requiredOption('--reason <text>', 'why'))
    .action(async (id: string, opts: HubOptions & { reason: string }) => {
      process.stdout.write(`${agentLine(await (await client(opts)).revokeAgent(id, opts.reason))}\n`);
    });
}
