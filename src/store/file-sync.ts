/**
 * Group sync of one append-only file (the SQLite WAL, the audit journal): `fdatasync` on libuv's
 * thread pool, so the event loop goes on with other requests meanwhile (measured: same median as
 * an inline sync at concurrency 1, a third of the p99 at 16). One sync covers every write made
 * before it started; a write made while one runs waits for the next. When the owner says nothing
 * else would run meanwhile (`inline`) and this file's syncs are fast, the sync is made on the
 * event loop instead: the hand-off to the pool and back (four thread wake-ups) costs more CPU than
 * such a sync blocks (MCP endpoint at concurrency 1: ~70 µs a call less).
 */
import { closeSync, fdatasync, fdatasyncSync, openSync } from 'node:fs';

/** How long a lazily synced write may wait for a sync that another write asks for anyway. */
export const SYNC_LATER_MS = 50;

/**
 * Syncs may block the event loop only while they take less than this (a moving average of this
 * file's syncs, a hand-off's time included when on the pool): one slow sync sends the next ones
 * back to the pool until the disk is fast again.
 */
export const INLINE_SYNC_MAX_MS = 0.5;

export interface FileSyncOptions {
  /**
   * Told once when a sync fails: nothing can be acknowledged as durable from then on, so a
   * server should exit and let a restart recover from what is on disk (as PostgreSQL does).
   */
  onFatal?: (err: Error) => void;
  /**
   * Whether a sync asked for now may be made on the event loop: nothing else would run meanwhile
   * (the audit journal: the gate holds no call but the one waiting for it). Only when this file's
   * syncs are fast (`INLINE_SYNC_MAX_MS`).
   */
  inline?: () => boolean;
  /** For fault-injection tests only: stands in for `fs.fdatasync` (and, unless `fdatasyncSync` is given, rules out inline syncs). */
  fdatasync?: (fd: number, cb: (err: NodeJS.ErrnoException | null) => void) => void;
  /** For tests only: stands in for `fs.fdatasyncSync`. */
  fdatasyncSync?: (fd: number) => void;
  /** For tests only: the clock syncs are timed with (ms). */
  now?: () => number;
}

export class FileSync {
  readonly #path: string;
  /** What the file holds, in a failure's words ("the database log"). */
  readonly #what: string;
  readonly #opts: FileSyncOptions;
  #fd: number | undefined;
  #running: Promise<void> | undefined;
  #queued: Promise<void> | undefined;
  #failed: Error | undefined;
  /** The oldest lazily synced write no sync has covered yet: the `made` count then, and when. */
  readonly #later = { mark: 0, at: 0, waiting: false, timer: undefined as NodeJS.Timeout | undefined };
  /** fdatasync calls made (one may serve many `sync()` calls). */
  made = 0;
  /** Of those, made on the event loop (`inline`). */
  madeInline = 0;
  /** The moving average of syncs' durations (ms); starts at the limit, so the first goes to the pool. */
  #typicalMs = INLINE_SYNC_MAX_MS;
  readonly #now: () => number;

  constructor(path: string, what: string, opts: FileSyncOptions = {}) {
    this.#path = path;
    this.#what = what;
    this.#opts = opts;
    this.#now = opts.now ?? (() => performance.now());
  }

  /** Resolves once everything written to the file before this call is on disk. */
  sync(): Promise<void> {
    // After a failed sync the kernel may have dropped pages a later sync would not report:
    // nothing is acknowledged as durable again until the process restarts (as PostgreSQL does).
    if (this.#failed) return Promise.reject(this.#failed);
    if (!this.#running) {
      const failed = (err: Error) => {
        this.#failed = new Error(`${this.#what} could not be made durable: ${err.message}`);
        this.#opts.onFatal?.(this.#failed);
        return this.#failed;
      };
      try {
        this.#fd ??= openSync(this.#path, 'r');
      } catch (err) {
        return Promise.reject(failed(err as Error));
      }
      const fd = this.#fd;
      this.made += 1;
      const now = this.#now;
      const t0 = now();
      if (this.#mayInline()) {
        try {
          (this.#opts.fdatasyncSync ?? fdatasyncSync)(fd);
        } catch (err) {
          return Promise.reject(failed(err as Error));
        }
        this.#took(now() - t0);
        this.madeInline += 1;
        return Promise.resolve();
      }
      this.#running = new Promise<void>((resolve, reject) =>
        (this.#opts.fdatasync ?? fdatasync)(fd, (err) => {
          if (err) return reject(failed(err));
          this.#took(now() - t0);
          resolve();
        }),
      ).finally(() => {
        this.#running = undefined;
      });
      return this.#running;
    }
    this.#queued ??= this.#running.then(() => {
      this.#queued = undefined;
      return this.sync();
    });
    return this.#queued;
  }

  #mayInline(): boolean {
    const injected = this.#opts.fdatasync !== undefined && this.#opts.fdatasyncSync === undefined;
    return !injected && this.#typicalMs < INLINE_SYNC_MAX_MS && this.#opts.inline?.() === true;
  }

  #took(ms: number): void {
    this.#typicalMs = 0.8 * this.#typicalMs + 0.2 * ms;
  }

  /**
   * A sync within `SYNC_LATER_MS` of a write no one waits on, unless one that starts meanwhile
   * covers it (the usual case under load: the next waited-on write's sync). `onSync` is told
   * when it makes a sync of its own (for counting); a failure is fatal and told by `onFatal`.
   */
  syncSoon(onSync?: () => void): void {
    const later = this.#later;
    // A sync started after this point covers this write: one started before (running now) does not.
    if (!later.waiting || this.made > later.mark) {
      later.mark = this.made;
      later.at = performance.now();
      later.waiting = true;
    }
    const due = () => {
      later.timer = undefined;
      if (!later.waiting) return;
      if (this.made > later.mark) {
        later.waiting = false;
        return;
      }
      const wait = later.at + SYNC_LATER_MS - performance.now();
      // A newer write than the one the timer was set for: wait for its own deadline.
      if (wait > 1) {
        later.timer = setTimeout(due, wait);
        return;
      }
      later.waiting = false;
      onSync?.();
      this.sync().catch(() => undefined);
    };
    later.timer ??= setTimeout(due, SYNC_LATER_MS);
  }

  /** Resolves once every write `syncSoon` was told of so far is on disk (a sync only if none covers it yet). */
  settled(): Promise<void> {
    if (this.#failed) return Promise.reject(this.#failed);
    const later = this.#later;
    if (later.waiting && this.made <= later.mark) return this.sync();
    // Covered by a sync already started: the one running now, if any, started after it.
    return this.#running ?? Promise.resolve();
  }

  /** Waits for a running sync (the owner syncs what it must keep before closing). */
  async close(): Promise<void> {
    clearTimeout(this.#later.timer);
    this.#later.timer = undefined;
    this.#later.waiting = false;
    await this.#running?.catch(() => undefined);
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }
}
