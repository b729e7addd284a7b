/**
 * Structured logging (pino). Every record — its fields and its message — passes through the
 * redaction layer, so no code path can log a token, password or key in clear.
 */
import { type Logger, pino } from 'pino';
import { redact, redactString } from '../redact/index.ts';

export type { Logger };

export function createLogger(
  opts: { level?: string; destination?: pino.DestinationStream; name?: string } = {},
): Logger {
  return pino(
    {
      name: opts.name ?? 'paddock',
      level: opts.level ?? process.env.PADDOCK_LOG_LEVEL ?? 'info',
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { log: (obj) => redact(obj) },
      serializers: { err: (e: unknown) => redact(e) },
      hooks: {
        logMethod(args, method) {
          const clean = args.map((a) => (typeof a === 'string' ? redactString(a) : a));
          return method.apply(this, clean as Parameters<typeof method>);
        },
      },
    },
    opts.destination ?? pino.destination({ dest: 2, sync: false }),
  );
}

/** A logger that writes nothing (tests, CLI commands that print their own output). */
export const silentLogger: Logger = pino({ level: 'silent' });
