// A target's guardrails applied to what a client sends: the decision for a SQL string or an SSH
// command line, and which rule made it (for the client's error and the recording).
import type { Guardrail, GuardrailAction, StatementKind } from '../../common/guardrails.ts';
import { CommandRules } from './command-rules.ts';
import { SEVERITY, stricter, strictestRule } from './decision-order.ts';
import { StatementPrefilter } from './statement-prefilter.ts';
import { classify, type ClassifiedStatement, type DefinedRoutine, type InnerStatement, type KnownRoutine, type KnownRoutines } from './statement-classifier.ts';

export interface GuardrailDecision {
  action: GuardrailAction;
  /** The rule that decided (none: no rule matched, allowed). */
  rule?: string;
  message?: string;
  /** The statement that drew the decision. */
  statement?: string;
  /**
   * A write a `maxRows` rule limits (action `allow`): it may run, inside a savepoint, and its
   * CommandComplete count decides (under the limit the client gets its result; past it the
   * savepoint is rolled back and `rowLimit.action` applies).
   */
  rowLimit?: RowLimit;
  /** What drew the decision and where, when not the statement itself (`DELETE without WHERE, in the DO block`). */
  via?: string;
  /** Only where it stood (`in the DO block`, `in sudo > sh -c`): the form a refused write took, for the recording. */
  form?: string;
  /** SSH: the line is not complete (an open quote, a `do` without `done`): the shell asks for more. */
  incomplete?: boolean;
}

export interface RowLimit {
  rule: string;
  maxRows: number;
  action: 'deny' | 'approve';
  message?: string;
  /** What the statement is, for the client's error: DELETE, UPDATE, INSERT, MERGE, COPY. */
  kind: string;
}

/** Decisions remembered by statement text, at most, and the longest text remembered. */
const MAX_CACHED_DECISIONS = 2000;
const MAX_CACHED_TEXT = 4096;

/** Routines remembered per target, at most (the oldest forgotten first: then a CALL is unknown again). */
const MAX_KNOWN_ROUTINES = 10_000;

const ALLOWED: GuardrailDecision = Object.freeze({ action: 'allow' });

interface CompiledRule {
  rule: Guardrail;
  sql?: RegExp;
}

export interface PolicyOptions {
  /** What statements and commands the guardrails cannot read get (default: the strictest rule's action). */
  unknown?: GuardrailAction;
}

export class GuardrailPolicy {
  private readonly rules: CompiledRule[];
  /** For what the guardrails cannot read: the action, and the rule it is told as. */
  private readonly unknown: { action: GuardrailAction; rule: string };
  /** Routines created through this target, with what their bodies do: a call runs its body. */
  private readonly routines = new KnownRoutineBook();
  /** SSH: the rules on commands. */
  readonly commands: CommandRules;
  private readonly hasSqlRules: boolean;
  /** Skips the parser for statements that cannot matter (null: every statement is parsed). */
  private readonly prefilter: StatementPrefilter | null;
  /**
   * Decisions by statement text: clients send the same statements again and again (prepared, ORM,
   * pgbench), and a decision depends only on the text, the rules and the routines known.
   */
  private readonly decided = new Map<string, GuardrailDecision>();
  private readonly isKnownRoutine = (name: string) => this.routines.lookup(name) !== undefined;

  constructor(rules: readonly Guardrail[], options: PolicyOptions = {}) {
    this.rules = rules.map((rule) => ({
      rule,
      sql: rule.sql ? new RegExp(rule.sql, 'i') : undefined,
    }));
    this.commands = new CommandRules(rules, { configured: options.unknown });
    this.unknown = unknownAction(rules, options.unknown);
    this.hasSqlRules = rules.some((r) => r.statements || r.sql);
    // A regular expression may match any text: with one, every statement is read.
    this.prefilter = rules.some((r) => r.sql) ? null : StatementPrefilter.forKinds(rules.flatMap((r) => r.statements ?? []));
  }

  get empty(): boolean {
    return this.rules.length === 0;
  }

  /** The strictest of the statements' decisions. loadClassifier() must have resolved. */
  checkSql(sql: string): GuardrailDecision {
    if (!this.hasSqlRules) return ALLOWED;
    if (this.prefilter && !this.prefilter.mayMatter(sql, this.isKnownRoutine)) return ALLOWED;
    const cacheable = sql.length <= MAX_CACHED_TEXT;
    const known = cacheable ? this.decided.get(sql) : undefined;
    if (known) return known;
    const { decision, defines } = this.decide(sql);
    // A routine that may be created is remembered with its body, so that calling it is judged by
    // what it does. (Remembered before the server confirms: a failed CREATE only makes calls of
    // that name stricter.) Decisions made before may change with it: they are forgotten.
    if (decision.action !== 'deny' && defines.length) {
      for (const r of defines) this.routines.define(r);
      this.decided.clear();
    } else if (cacheable) {
      if (this.decided.size >= MAX_CACHED_DECISIONS) this.decided.delete(this.decided.keys().next().value!);
      this.decided.set(sql, decision);
    }
    return decision;
  }

  private decide(sql: string): { decision: GuardrailDecision; defines: DefinedRoutine[] } {
    let decision = ALLOWED;
    const statements = classify(sql, this.routines);
    for (const statement of statements) {
      // Rules read SQL as UTF-8: another client_encoding would let the server read other text.
      if (statement.setsClientEncoding) return { decision: { action: 'deny', rule: 'utf8-only', message: 'client_encoding cannot be changed on a target with guardrails', statement: statement.text }, defines: [] };
      const d = this.decideStatement(statement);
      if (d.rowLimit && statements.length > 1) {
        // The count read is one statement's: a limited write is sent on its own.
        return { decision: { action: 'deny', rule: d.rowLimit.rule, message: `a ${d.rowLimit.kind} under a row limit (maxRows) is sent as a statement of its own, not in a string of several`, statement: statement.text }, defines: [] };
      }
      if (stricter(d, decision)) decision = d;
    }
    return { decision, defines: statements.flatMap((s) => s.defines ?? []) };
  }

  /**
   * The fastpath FunctionCall message (a function by OID, no SQL): it is a CALL, and matches
   * rules on CALL or OTHER statements. Regular expressions have no text to read.
   */
  checkFunctionCall(functionOid: number): GuardrailDecision {
    if (!this.hasSqlRules) return ALLOWED;
    const text = `(fastpath call of function ${functionOid})`;
    return this.decideStatement({ kinds: new Set(['CALL', 'OTHER']), text, unknown: [`a fastpath call of function ${functionOid}, whose body Vigil has not seen`] });
  }

  /** Every command the line would run, against the command rules. loadShellParser() must have resolved. */
  checkCommand(line: string): Promise<GuardrailDecision> {
    return this.commands.check(line);
  }

  /** The first matching rule's decision, or what the unreadable gets, whichever is stricter. */
  private decideStatement(statement: ClassifiedStatement): GuardrailDecision {
    const byRule = this.ruleFor(statement);
    const reasons = statement.unknown ?? [];
    if (reasons.length === 0 || SEVERITY[this.unknown.action] <= SEVERITY[byRule.action]) return byRule;
    return {
      action: this.unknown.action,
      rule: this.unknown.rule,
      message: `it runs what the guardrails cannot read: ${reasons[0]}`,
      statement: statement.text,
    };
  }

  /**
   * The first matching rule decides for the statement, and for each statement inside its bodies
   * on its own; the strictest of those decisions stands (a DO block holding a TRUNCATE an approve
   * rule matches and a DELETE a deny rule matches is denied, as the DELETE alone would be).
   */
  private ruleFor(statement: ClassifiedStatement): GuardrailDecision {
    const [top, rule] = this.firstRule(statement.kinds, statement.text, statement);
    // Said where it stood when the rule's kind came from a body (the innermost: nested bodies come after).
    const source = rule?.statements ? [...(statement.inner ?? [])].reverse().find((i) => rule.statements!.some((k) => i.kinds.has(k))) : undefined;
    let decision = source ? { ...top, ...where(rule!, source) } : top;
    for (const inner of statement.inner ?? []) {
      const [d, r] = this.firstRule(inner.kinds, inner.text);
      if (SEVERITY[d.action] > SEVERITY[decision.action]) decision = { ...d, statement: statement.text, ...where(r!, inner) };
    }
    return decision;
  }

  private firstRule(kinds: ReadonlySet<StatementKind>, text: string, top?: ClassifiedStatement): [GuardrailDecision, Guardrail?] {
    for (const { rule, sql } of this.rules) {
      const byKind = rule.statements?.some((k) => kinds.has(k)) ?? false;
      if (!byKind && !(sql?.test(text) ?? false)) continue;
      // A row limit is about rows written: a statement that writes none (COPY TO) is not its business.
      if (rule.maxRows !== undefined && top?.writesNoRows && !top.inner && !top.unknown) continue;
      // Only a statement the client sent can be counted; one inside a body cannot.
      return [rule.maxRows === undefined ? decide(rule, text) : limit(rule, rule.maxRows, top ?? { kinds: new Set(kinds), text }), rule];
    }
    return [ALLOWED];
  }
}

/**
 * Where a body's statement that drew a rule stood, in words without its text: the client's error
 * is recorded, and a body's literals are not masked by where they go as a statement's are.
 */
function where(rule: Guardrail, inner: InnerStatement): Pick<GuardrailDecision, 'via' | 'form'> {
  const kind = rule.statements?.find((k) => inner.kinds.has(k));
  const what = kind ? kind.replace('_WITHOUT_WHERE', ' without WHERE') : 'a statement';
  return { via: `${what}, ${inner.where}`, form: inner.where };
}

/** What the unreadable gets: as configured, else the strictest action of the rules (the first such rule names it). */
function unknownAction(rules: readonly Guardrail[], configured: GuardrailAction | undefined): { action: GuardrailAction; rule: string } {
  if (configured) return { action: configured, rule: 'guardrail-unknown' };
  const strictest = strictestRule(rules);
  return strictest ? { action: strictest.action, rule: strictest.name } : { action: 'allow', rule: 'guardrail-unknown' };
}

/** Routines created through the target, by unqualified name (overloads share one entry: the union). */
class KnownRoutineBook implements KnownRoutines {
  private readonly byName = new Map<string, KnownRoutine>();

  lookup(name: string): KnownRoutine | undefined {
    return this.byName.get(name);
  }

  define(routine: DefinedRoutine): void {
    const known = this.byName.get(routine.name);
    if (!known && this.byName.size >= MAX_KNOWN_ROUTINES) this.byName.delete(this.byName.keys().next().value!);
    // Kept as the union of every body seen under the name: a replaced body may still be an overload.
    this.byName.set(routine.name, {
      kinds: new Set([...(known?.kinds ?? []), ...routine.kinds]),
      unknown: (known?.unknown ?? false) || routine.unknown === true,
    });
  }
}

function decide(rule: Guardrail, statement: string): GuardrailDecision {
  return { action: rule.action, rule: rule.name, statement, ...(rule.message ? { message: rule.message } : {}) };
}

/** A write under `maxRows`: allowed and counted when its CommandComplete can count it, else the rule's action. */
function limit(rule: Guardrail, maxRows: number, statement: ClassifiedStatement): GuardrailDecision {
  const action = rule.action === 'approve' ? 'approve' : 'deny';
  if (!statement.counted) {
    return { ...decide(rule, statement.text), message: `${rule.message ? `${rule.message}; ` : ''}the rows this statement writes cannot be counted (the limit is ${maxRows})` };
  }
  const kind = ['DELETE', 'UPDATE', 'INSERT', 'MERGE', 'COPY'].find((k) => statement.kinds.has(k as StatementKind)) ?? 'write';
  return { action: 'allow', rule: rule.name, statement: statement.text, rowLimit: { rule: rule.name, maxRows, action, kind, ...(rule.message ? { message: rule.message } : {}) } };
}
