/**
 * Waiting in tests: poll until something has happened, never sleep a fixed time and then expect
 * it. A loaded machine is slow, not wrong, so the deadline is generous and only bounds a hang.
 *
 * @example
 *   const entry = await until(() => findEntry(db, 'tool.call.allowed'), { what: 'the allowed call' });
 */
import { setTimeout as sleep } from 'node:timers/promises';

export interface UntilOptions {
  /** Give up after this long (default 15 s). */
  timeoutMs?: number;
  /** Pause between checks (default 20 ms). */
  intervalMs?: number;
  /** What is awaited, for the failure message. */
  what?: string;
}

type Done<T> = Exclude<T, undefined | null | false>;

/**
 * Calls `check` until it returns something other than `undefined`, `null` or `false`, and returns
 * that. A `check` that throws (an assertion not yet true) is retried; past the deadline the wait
 * fails with what it awaited and the last error.
 */
export async function until<T>(check: () => T | Promise<T>, opts: UntilOptions = {}): Promise<Done<T>> {
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== null && value !== false) return value as Done<T>;
      last = undefined;
    } catch (err) {
      last = err;
    }
    if (Date.now() >= deadline) {
      const why = last instanceof Error ? `: ${last.message}` : '';
      throw new Error(`waited ${timeoutMs} ms for ${opts.what ?? 'a condition'}${why}`, { cause: last });
    }
    await sleep(opts.intervalMs ?? 20);
  }
}

/**
 * Reads until `ok` holds of what was read, and returns it; past the deadline the wait fails with
 * what it awaited and the last value it saw (a page or a list that updates after a request).
 */
export async function untilRead<T>(
  read: () => Promise<T>,
  ok: (value: T) => boolean,
  what: string,
  timeoutMs = 15_000,
): Promise<T> {
  let last: T | undefined;
  try {
    const done = await until(
      async () => {
        last = await read();
        return ok(last) ? { value: last } : false;
      },
      { what, timeoutMs, intervalMs: 100 },
    );
    return done.value;
  } catch (err) {
    throw new Error(`${(err as Error).message}; last saw ${JSON.stringify(last)}`, { cause: err });
  }
}
