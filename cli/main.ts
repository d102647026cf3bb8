// The `vigil` command. Command output goes to stdout, logs (pino) to stderr. Errors the user can
// act on (a bad config, an unknown target, a hub that is not running) print one message and exit 1.
import { Command } from 'commander';
import { describeFailure } from './cli-error.ts';
import { registerAgent } from './commands/agent.ts';
import { registerConfig } from './commands/config.ts';
import { registerDev } from './commands/dev.ts';
import { registerExport } from './commands/export.ts';
import { registerGuardrails } from './commands/guardrails.ts';
import { registerHub } from './commands/hub.ts';
import { registerSessions } from './commands/sessions.ts';
import { registerLock } from './commands/lock.ts';
import { registerToken } from './commands/token.ts';
import { registerRequest } from './commands/request.ts';
import { registerVerify } from './commands/verify.ts';
import { registerRetention } from './commands/retention.ts';
import { registerAgents } from './commands/agents.ts';

const program = new Command('vigil')
  .description('Records privileged sessions: a PostgreSQL proxy that masks and records, and a hub that keeps the recordings.')
  .showHelpAfterError();

registerDev(program);
registerHub(program);
registerAgent(program);
registerToken(program);
registerRequest(program);
registerSessions(program);
registerLock(program);
registerExport(program);
registerVerify(program);
registerRetention(program);
registerAgents(program);
registerConfig(program);
registerGuardrails(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  const { message, expected } = describeFailure(err);
  process.stderr.write(`vigil: ${message}\n`);
  if (!expected && process.env.VIGIL_DEBUG) process.stderr.write(`${(err as Error).stack}\n`);
  process.exitCode = 1;
}
