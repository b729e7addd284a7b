/**
 * Bounds on what a server may push to an agent unasked: a server is not trusted to keep its log
 * lines, progress messages or notification rates sane, so each is cut or dropped here, and the
 * caller records that it was.
 */
import type { LoggingLevel } from '@modelcontextprotocol/sdk/types.js';

/** A log line's data, as JSON, kept up to this many characters (a stack trace fits; a dump does not). */
export const MAX_LOG_CHARS = 8 * 1024;
/** A progress message, kept up to this many characters (a status line). */
export const MAX_PROGRESS_CHARS = 500;
/** Notifications a session may push per second before the rest of that second is dropped. */
export const MAX_PER_SECOND = 50;
/** A URI in a resource update, at most this long (a resource grant's URI is at most 2,000). */
export const MAX_URI_CHARS = 2048;

/** A server's requests of the agent (sampling, elicitation) waiting at once per session; more are refused. */
export const MAX_ASKS_WAITING = 4;

/** Resources one client session may be subscribed to at once (each is held here and at the server). */
export const MAX_SUBSCRIPTIONS_PER_SESSION = 100;

/** Syslog's order (RFC 5424), as MCP's logging levels use it: a lower index is less severe. */
export const LEVELS: readonly LoggingLevel[] = [
  'debug',
  'info',
  'notice',
  'warning',
  'error',
  'critical',
  'alert',
  'emergency',
];

/** The most verbose of the levels chosen (what a server shared by several clients is told), or none. */
export function mostVerbose(levels: Iterable<LoggingLevel>): LoggingLevel | undefined {
  let most: LoggingLevel | undefined;
  for (const l of levels) if (most === undefined || LEVELS.indexOf(l) < LEVELS.indexOf(most)) most = l;
  return most;
}

/** Whether a message at `level` passes a client's chosen `minimum` (none chosen: everything passes). */
export function atLeast(level: LoggingLevel, minimum: LoggingLevel | undefined): boolean {
  return minimum === undefined || LEVELS.indexOf(level) >= LEVELS.indexOf(minimum);
}

/** A log line's data, cut to size: the data itself when small, else its JSON's start and how much was cut. */
export function boundedData(data: unknown): { data: unknown; cutChars: number } {
  const text = typeof data === 'string' ? data : (JSON.stringify(data) ?? 'null');
  if (text.length <= MAX_LOG_CHARS) return { data, cutChars: 0 };
  const cut = text.length - MAX_LOG_CHARS;
  return { data: `${text.slice(0, MAX_LOG_CHARS)}… [${cut} characters cut by Paddock]`, cutChars: cut };
}

/** A progress message, cut to size. */
export function boundedMessage(message: string | undefined): string | undefined {
  if (message === undefined || message.length <= MAX_PROGRESS_CHARS) return message;
  return `${message.slice(0, MAX_PROGRESS_CHARS)}…`;
}

/** Counts a session's notifications per second: past the limit, the rest of that second is dropped. */
export class RateBound {
  #second = 0;
  #count = 0;
  /** How many were dropped in all. */
  dropped = 0;
  /** How many were dropped in the current second (1: the first drop of a burst). */
  droppedThisSecond = 0;

  /** Whether one more may pass now. */
  allow(now = Date.now()): boolean {
    const second = Math.floor(now / 1000);
    if (second !== this.#second) {
      this.#second = second;
      this.#count = 0;
      this.droppedThisSecond = 0;
    }
    if (++this.#count <= MAX_PER_SECOND) return true;
    this.dropped++;
    this.droppedThisSecond++;
    return false;
  }
}
