/** JSON logs on stdout (pino), with secrets scrubbed from every message, field and error. */
import { pino, type DestinationStream, type Logger } from 'pino';
import { redact, redactDeep } from './redact.js';

export type { Logger };
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';

/** A logger writing JSON lines to `destination` (stdout by default). */
export function createLogger(level: LogLevel = 'info', destination?: NodeJS.WritableStream): Logger {
  const opts = {
    level,
    base: { service: 'traefik-sync' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
    serializers: {
      err: (err: unknown) => ({
        type: err instanceof Error ? err.name : typeof err,
        message: redact(err instanceof Error ? err.message : String(err)),
        code: (err as { code?: unknown } | null)?.code,
      }),
    },
    hooks: {
      logMethod(this: Logger, args: unknown[], method: (...a: unknown[]) => void) {
        method.apply(
          this,
          args.map((a) => (typeof a === 'string' ? redact(a) : a && typeof a === 'object' ? redactDeep(a) : a)),
        );
      },
    },
  };
  return destination ? pino(opts, destination as DestinationStream) : pino(opts);
}

/** A logger that drops everything (tests, quiet commands). */
export const silentLogger: Logger = pino({ level: 'silent' });
