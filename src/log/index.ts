/**
 * Structured logging (pino). Every record — its fields and its message — passes through the
 * redaction layer, so no code path can log a token, password or key in clear. JSON lines by
 * default; readable, coloured lines (pino-pretty, in process) when writing to a terminal or when
 * asked (`PADDOCK_LOG_FORMAT=pretty`; `json` forces JSON on a terminal too).
 */

import { type Logger, pino } from 'pino';
import PinoPretty from 'pino-pretty';
import { redact, redactString } from '../redact/index.ts';

export type { Logger };

/** The formats `PADDOCK_LOG_FORMAT` may name; unset means readable at a terminal, JSON otherwise. */
export const LOG_FORMATS = ['json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** pino's levels, quietest last: the values `PADDOCK_LOG_LEVEL` may take. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The format asked for, else pretty on a terminal and JSON for everything else (a collector). */
export function logFormat(
  env: NodeJS.ProcessEnv = process.env,
  tty = process.stderr.isTTY === true,
): LogFormat {
  const asked = env.PADDOCK_LOG_FORMAT;
  if (asked === 'json' || asked === 'pretty') return asked;
  return tty ? 'pretty' : 'json';
}

/** Fields a readable line shows in its message (a request's), not below it. */
const IN_MESSAGE = ['requestId', 'method', 'route', 'status', 'ms'];

/** One line per request (`GET /api/v1/orgs/{org} 200 3 ms [req_…]`); other lines name their request. */
function readableMessage(log: Record<string, unknown>, messageKey: string): string {
  const id = log.requestId ? ` [${String(log.requestId)}]` : '';
  if (log[messageKey] === 'request' && log.route !== undefined)
    return `${String(log.method)} ${String(log.route)} ${String(log.status)} ${String(log.ms)} ms${id}`;
  return `${String(log[messageKey] ?? '')}${id}`;
}

/** Readable lines on standard error, redacted like JSON ones (redaction runs before either). */
export function prettyDestination(destination: number | NodeJS.WritableStream = 2): pino.DestinationStream {
  return PinoPretty({
    colorize: typeof destination === 'number' ? undefined : false,
    destination,
    sync: false,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: ['pid', 'hostname', 'name', ...IN_MESSAGE].join(','),
    messageFormat: readableMessage,
  });
}

export function createLogger(
  opts: {
    level?: string;
    destination?: pino.DestinationStream;
    name?: string;
    format?: LogFormat | undefined;
  } = {},
): Logger {
  const destination =
    opts.destination ??
    ((opts.format ?? logFormat()) === 'pretty'
      ? prettyDestination()
      : pino.destination({ dest: 2, sync: false }));
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
    destination,
  );
}

/** A logger that writes nothing (tests, CLI commands that print their own output). */
export const silentLogger: Logger = pino({ level: 'silent' });
