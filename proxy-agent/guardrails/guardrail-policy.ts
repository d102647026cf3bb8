// A target's guardrails applied to what a client sends: the decision for a SQL string or an SSH
// command line, and which rule made it (for the client's error and the recording).
import type { Guardrail, GuardrailAction } from '../../common/guardrails.ts';
import { classify, type ClassifiedStatement } from './statement-classifier.ts';

export interface GuardrailDecision {
  action: GuardrailAction;
  /** The rule that decided (none: no rule matched, allowed). */
  rule?: string;
  message?: string;
  /** The statement that drew the decision. */
  statement?: string;
}

const SEVERITY: Record<GuardrailAction, number> = { allow: 0, approve: 1, deny: 2 };
const ALLOWED: GuardrailDecision = Object.freeze({ action: 'allow' });

interface CompiledRule {
  rule: Guardrail;
  sql?: RegExp;
  command?: RegExp;
}

export class GuardrailPolicy {
  private readonly rules: CompiledRule[];

  constructor(rules: readonly Guardrail[]) {
    this.rules = rules.map((rule) => ({
      rule,
      sql: rule.sql ? new RegExp(rule.sql, 'i') : undefined,
      command: rule.command ? new RegExp(rule.command, 'i') : undefined,
    }));
  }

  get empty(): boolean {
    return this.rules.length === 0;
  }

  /** The strictest of the statements' decisions. loadClassifier() must have resolved. */
  checkSql(sql: string): GuardrailDecision {
    if (!this.rules.some((r) => r.rule.statements || r.sql)) return ALLOWED;
    let decision = ALLOWED;
    for (const statement of classify(sql)) {
      // Rules read SQL as UTF-8: another client_encoding would let the server read other text.
      if (statement.setsClientEncoding) return { action: 'deny', rule: 'utf8-only', message: 'client_encoding cannot be changed on a target with guardrails', statement: statement.text };
      const d = this.decideStatement(statement);
      // Stricter wins; at the same level, a rule's decision says more than the default.
      if (SEVERITY[d.action] > SEVERITY[decision.action] || (SEVERITY[d.action] === SEVERITY[decision.action] && !decision.rule && d.rule)) decision = d;
    }
    return decision;
  }

  /**
   * The fastpath FunctionCall message (a function by OID, no SQL): it is a CALL, and matches
   * rules on CALL or OTHER statements. Regular expressions have no text to read.
   */
  checkFunctionCall(functionOid: number): GuardrailDecision {
    const statement: ClassifiedStatement = { kinds: new Set(['CALL', 'OTHER']), text: `(fastpath call of function ${functionOid})` };
    for (const { rule } of this.rules) {
      if (rule.statements?.some((k) => statement.kinds.has(k))) return decide(rule, statement.text);
    }
    return ALLOWED;
  }

  checkCommand(command: string): GuardrailDecision {
    for (const { rule, command: re } of this.rules) {
      if (re?.test(command)) return decide(rule, command);
    }
    return ALLOWED;
  }

  private decideStatement(statement: ClassifiedStatement): GuardrailDecision {
    for (const { rule, sql } of this.rules) {
      const byKind = rule.statements?.some((k) => statement.kinds.has(k)) ?? false;
      const byText = sql?.test(statement.text) ?? false;
      if (byKind || byText) return decide(rule, statement.text);
    }
    return ALLOWED;
  }
}

function decide(rule: Guardrail, statement: string): GuardrailDecision {
  return { action: rule.action, rule: rule.name, statement, ...(rule.message ? { message: rule.message } : {}) };
}
