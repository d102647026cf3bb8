// Failures the user can act on: printed as one message on stderr, exit code 1, no stack trace.
import { ConfigError } from '../common/config/load-config.ts';

export class CliError extends Error {
  override name = 'CliError';
}

/** The message to print for an error, and whether it is one we expected (no stack needed). */
export function describeFailure(err: unknown): { message: string; expected: boolean } {
  if (err instanceof CliError || err instanceof ConfigError) return { message: err.message, expected: true };
  if (err instanceof Error) return { message: err.message, expected: false };
  return { message: String(err), expected: false };
}
