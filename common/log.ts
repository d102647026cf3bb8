// One logger for every process. Secrets never reach it by construction (tokens, passwords and
// cancel keys are not passed to log calls); the redact list is the second wall.
import pino from 'pino';

export type Logger = pino.Logger;

export function createLogger(level: string = process.env.VIGIL_LOG_LEVEL ?? 'info', name = 'vigil'): Logger {
  return pino({
    name,
    level,
    redact: {
      paths: ['password', '*.password', 'token', '*.token', 'secret', '*.secret', 'authorization', '*.authorization', 'headers.authorization'],
      censor: '[REDACTED]',
    },
  }, pino.destination({ dest: 2, sync: false }));
}

/** A logger that drops everything (tests, benchmarks). */
export const silentLogger: Logger = pino({ level: 'silent' });
