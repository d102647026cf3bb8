// Guardrails as the config states them: statement rules per target, each with an action. A rule
// matches SQL by what the statements do (kinds read by the PostgreSQL parser) or by a regular
// expression on a statement's text, or an SSH command line by a regular expression.
//   allow: let it through (an exception before broader rules)
//   deny: the client gets an error, the session goes on
//   approve: held until an approver decides (issue 5's approvals)
// Rules are read in order; for each statement the first rule that matches decides, and a string of
// several statements gets the strictest of their decisions (deny > approve > allow).
import { z } from 'zod';
import { regexError } from './config/regex.ts';
import { CommandPattern } from './command-pattern.ts';

function commandPatternError(text: string): string | null {
  try {
    CommandPattern.parse(text);
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

export const STATEMENT_KINDS = [
  'SELECT', 'INSERT', 'UPDATE', 'DELETE', 'UPDATE_WITHOUT_WHERE', 'DELETE_WITHOUT_WHERE', 'MERGE',
  'TRUNCATE', 'DROP', 'ALTER', 'CREATE', 'GRANT', 'REVOKE', 'COPY', 'DO', 'CALL', 'ROLE', 'OTHER',
  'UNPARSEABLE',
] as const;
export type StatementKind = (typeof STATEMENT_KINDS)[number];

/** Statement kinds whose CommandComplete counts the rows they wrote (what `maxRows` limits). */
export const COUNTED_WRITES: ReadonlySet<StatementKind> = new Set(['INSERT', 'UPDATE', 'DELETE', 'UPDATE_WITHOUT_WHERE', 'DELETE_WITHOUT_WHERE', 'MERGE', 'COPY']);

// Compiled as guardrail-policy.ts compiles them (case-insensitive).
const regex = z.string().min(1).max(1000).superRefine((s, ctx) => {
  const error = regexError(s, 'i');
  if (error) ctx.addIssue({ code: 'custom', message: `not a valid regular expression: ${error}` });
});

/** `METHOD[,METHOD...] /path-glob` (or `*` for any method). */
export const REQUEST_PATTERN = /^(\*|[A-Z]+(,[A-Z]+)*) (\/\S*)$/;

export const Guardrail = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'rule names are lower-case letters, digits, - and _'),
    /** Statements that do any of these (PostgreSQL targets). */
    statements: z.array(z.enum(STATEMENT_KINDS)).min(1).optional(),
    /** A regular expression (case-insensitive) on a statement's text (PostgreSQL targets). */
    sql: regex.optional(),
    /**
     * SSH targets: a command and the arguments that make it the one the rule is about, as words:
     * `rm -r -f`, `kubectl delete`, `systemctl stop|disable`, `shutdown|reboot|poweroff`, `mkfs*`.
     * Matched against every command a line would run, wherever it stands (pipelines, lists,
     * subshells, `sh -c` strings, after sudo, env, xargs...): options in any order or combined
     * (`-rf`, `-fr`, `-r -f`), operands in order.
     */
    command: z.string().min(1).max(1000).superRefine((s, ctx) => {
      const error = commandPatternError(s);
      if (error) ctx.addIssue({ code: 'custom', message: error });
    }).optional(),
    /**
     * HTTP targets: methods and a path pattern, `DELETE /admin/**`, `POST,PUT /v1/users/*` or
     * `* /internal/**` (glob: `*` one path segment, `**` any number; matched on the decoded,
     * normalised path, case-sensitive as paths are).
     */
    request: z.string().regex(REQUEST_PATTERN, 'expected METHODS /path/pattern, e.g. DELETE /admin/** or POST,PUT /v1/*').max(1000).optional(),
    action: z.enum(['allow', 'deny', 'approve']),
    /**
     * PostgreSQL write rules: the action applies only to a write that changes more rows than this.
     * The agent runs it inside a savepoint and reads its count; past the limit it is rolled back.
     */
    maxRows: z.number().int().positive().max(1e12).optional(),
    /** Shown to the client when the rule denies. */
    message: z.string().max(500).optional(),
  })
  .strict()
  .refine((g) => g.statements || g.sql || g.command || g.request, { message: 'a rule needs statements, sql, command or request to match' })
  .refine((g) => g.maxRows === undefined || g.action !== 'allow', { message: 'maxRows limits a deny or approve rule', path: ['maxRows'] })
  .refine((g) => g.maxRows === undefined || g.statements?.some((k) => COUNTED_WRITES.has(k)), {
    message: 'maxRows needs statements that write rows: INSERT, UPDATE, DELETE, MERGE, COPY (or the *_WITHOUT_WHERE kinds)',
    path: ['maxRows'],
  });
export type Guardrail = z.infer<typeof Guardrail>;

export type GuardrailAction = Guardrail['action'];
