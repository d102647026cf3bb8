// Request input checked at the edge: a zod schema per route's params and query; a failure is a
// 400 naming the parameter (values are not echoed back).
import { z } from 'zod';
import { AppError } from './errors.ts';

/**
 * A name or id taken from a path or query (session ids, target names): 1..max characters, none of
 * them a control character. Checked here so that a NUL, which PostgreSQL's text refuses, or an
 * escape sequence never gets past the edge to fail deeper as a 500 or reach a log or a terminal.
 */
export const edgeText = (max: number) =>
  z.string().min(1).max(max).regex(/^[^\u0000-\u001f\u007f-\u009f]*$/, 'no control characters');

export function parseInput<S extends z.ZodType>(schema: S, input: unknown, what: 'query parameter' | 'path parameter' | 'body field'): z.output<S> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  if (issue?.code === 'unrecognized_keys') {
    throw AppError.badRequest(`unknown ${what}${issue.keys.length > 1 ? 's' : ''}: ${issue.keys.join(', ')}`);
  }
  // A rule over the whole input (a refine: "name a user, a target or a token") names no field.
  if (!issue?.path.length) throw AppError.badRequest(`invalid ${what}s: ${issue?.message ?? 'invalid value'}`);
  throw AppError.badRequest(`invalid ${what} "${String(issue.path[0])}": ${issue.message}`);
}
