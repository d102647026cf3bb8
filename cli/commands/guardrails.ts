// vigil guardrails test --target NAME 'SQL, command or request': what the target's guardrails
// would decide, the rule, and why (which statement in which body, which command where), read as
// the agent reads it on the data path, without connecting anywhere. The exit status says the
// decision, for policy tests in CI: 0 allowed, 2 held for approval, 3 denied.
import type { Command } from 'commander';
import { loadCliConfig } from '../cli-config.ts';
import { CliError } from '../cli-error.ts';
import { explainRequest, explainSql, type Explanation } from '../../proxy-agent/guardrails/explain.ts';
import { loadClassifier } from '../../proxy-agent/guardrails/statement-classifier.ts';
import { GuardrailPolicy } from '../../proxy-agent/guardrails/guardrail-policy.ts';
import { loadShellParser } from '../../proxy-agent/guardrails/shell-reading.ts';

const EXIT = { allow: 0, approve: 2, deny: 3 } as const;

interface TestOptions {
  target: string;
  config?: string;
}

export function registerGuardrails(program: Command): void {
  const guardrails = program.command('guardrails').description("see what a target's guardrails decide");
  guardrails
    .command('test')
    .description("print the decision for a SQL string, a command line or a request (METHOD /path), the rule, and why; exit 0 allowed, 2 held for approval, 3 denied")
    .requiredOption('--target <name>', 'the target whose rules apply')
    .option('--config <file>', 'config file (default: the `vigil dev` defaults)')
    .argument('<input>', 'SQL (PostgreSQL targets), a command line (SSH) or METHOD /path (HTTP)')
    .action(async (input: string, opts: TestOptions) => {
      const config = loadCliConfig(opts.config, { addDemoTarget: true });
      const target = config.targets.find((t) => t.name === opts.target);
      if (!target) throw new CliError(`no target named ${opts.target} (targets: ${config.targets.map((t) => t.name).join(', ') || 'none'})`);
      let explanation: Explanation;
      if (target.protocol === 'postgres') {
        await loadClassifier();
        explanation = explainSql(target.guardrails, { unknown: target.guardrailUnknown }, input);
      } else if (target.protocol === 'http') {
        explanation = explainRequest(target.guardrails, input);
      } else {
        await loadShellParser();
        explanation = new GuardrailPolicy(target.guardrails, { unknown: target.guardrailUnknown }).commands.explain(input);
      }
      process.stdout.write(`${explanation.lines.join('\n')}\n`);
      if (target.guardrails.length === 0) process.stdout.write(`(target ${target.name} has no guardrails)\n`);
      process.exitCode = EXIT[explanation.decision.action];
    });
}
