// What a limited write's CommandComplete counts, and how the client and approvers are told about
// it. The tag is the server's own count of the rows the statement wrote (`DELETE 1204332`,
// `INSERT 0 5`, `UPDATE n`, `MERGE n`, `COPY n`): the guardrail policy limits only statements whose
// tag counts every row they write.
import type { RowLimit } from '../guardrails/guardrail-policy.ts';

const VERBS: Record<string, string> = { DELETE: 'remove', UPDATE: 'change', INSERT: 'add', MERGE: 'change', COPY: 'copy' };

const WRITE_TAG = /^(INSERT \d+|DELETE|UPDATE|MERGE|COPY) (\d+)$/;

const number = new Intl.NumberFormat('en-US');

/** The hint every row-limit refusal carries. */
export const ROW_LIMIT_HINT = 'Nothing the statement wrote takes effect. Write fewer rows at a time, or ask for the limit to be raised.';

/**
 * The rows a CommandComplete tag counts for a write of `kind` ('INSERT 0 5' -> 5). Null for the
 * tag of another command: a statement name reused for something else is not counted as the write.
 */
export function countOf(tag: string, kind?: string): number | null {
  const m = WRITE_TAG.exec(tag);
  if (!m) return null;
  const command = m[1].startsWith('INSERT') ? 'INSERT' : m[1];
  if (kind !== undefined && kind in VERBS && command !== kind) return null;
  return Number(m[2]);
}

/** The tag of a CommandComplete message ('C', int32 length, the tag as a C string). */
export function commandTag(message: Buffer): string {
  const end = message.indexOf(0, 5);
  return message.toString('utf8', 5, end < 0 ? message.length : end);
}

export function formatRows(n: number): string {
  return `${number.format(n)} ${n === 1 ? 'row' : 'rows'}`;
}

function would(limit: RowLimit, rows: number): string {
  return `would ${VERBS[limit.kind] ?? 'write'} ${formatRows(rows)}`;
}

/** The client's error for a write past its limit. */
export function overLimitMessage(limit: RowLimit, rows: number): string {
  const text = `Vigil guardrail ${limit.rule}: this ${limit.kind} ${would(limit, rows)}; the limit is ${number.format(limit.maxRows)}`;
  return limit.message ? `${text}; ${limit.message}` : text;
}

/** The client's error for a write past its limit that approvers did not let through. */
export function notApprovedMessage(limit: RowLimit, rows: number, why: string): string {
  return `Vigil guardrail ${limit.rule}: this ${limit.kind} ${would(limit, rows)} (the limit is ${number.format(limit.maxRows)}) and it was not approved: ${why}`;
}

/** What approvers read: the statement (as recorded) and what it would do. */
export function approverStatement(statement: string, limit: RowLimit, rows: number, max = 10_000): string {
  const tail = ` — ${would(limit, rows)} (limit ${number.format(limit.maxRows)})`;
  const room = max - tail.length;
  return `${statement.length > room ? `${statement.slice(0, room - 1)}…` : statement}${tail}`;
}

/** An Execute with a row count cannot be counted before its first rows go to the client. */
export function partialExecuteMessage(limit: RowLimit): string {
  return `Vigil guardrail ${limit.rule}: a ${limit.kind} under a row limit (maxRows) is executed whole, not with a row count on Execute; it did not run`;
}
