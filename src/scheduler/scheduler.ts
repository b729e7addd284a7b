/**
 * The scheduler: runs each job at its interval, on one replica at a time, and records each run.
 * Each replica ticks every job at its interval (plus jitter, so replicas drift apart); a tick
 * runs the job only if it is not still running here, this replica gets the job's lock, and no
 * replica ran it within the interval (the history says). So a job runs about once per interval
 * across the cluster, and if the replica that usually runs it dies another takes over. Nothing a
 * job does (throw, hang, lose its lock) stops the other jobs or the process.
 */
import { hostname } from 'node:os';
import type { Logger } from '../log/index.ts';
import { redactString } from '../redact/index.ts';
import type { Store } from '../store/index.ts';
import { holdJob } from './hold.ts';
import type { Job } from './job.ts';
import {
  abandonRuns,
  beginRun,
  finishRun,
  type JobStatus,
  jobStatus,
  lastEndedStart,
  pruneRuns,
} from './runs.ts';

export interface SchedulerOptions {
  store: Store;
  /** The PostgreSQL URL of the store: each run's lock is held on a connection of its own. */
  databaseUrl?: string | undefined;
  jobs: Job[];
  log: Logger;
  /** Who this process is in the history (default `host#pid`). */
  replica?: string;
  /** The first tick comes this long after `start()` (default 5 s), plus jitter. */
  firstRunAfterMs?: number;
  /** Every tick waits up to this much longer, at random (default a tenth of the interval, at most 1 min). */
  jitterMs?: number;
  /** Runs kept per job (default 100). */
  keepRuns?: number;
}

/** What this replica saw of a job since it started (skips are counted here, not recorded). */
export interface LocalJobStats {
  running: boolean;
  /** Runs started here. */
  runs: number;
  failed: number;
  skipped: {
    /** Still running here from an earlier tick. */
    busy: number;
    /** Another replica holds the job's lock. */
    held: number;
    /** Some replica ran it less than an interval ago. */
    notDue: number;
  };
  /** Ticks that could not take the lock or record the run (the database did not answer). */
  errors: number;
}

/** A run is due when no run started within this share of the interval (slack for jitter and clocks). */
const DUE_SHARE = 0.9;
const MAX_ERROR_CHARS = 2_000;

export class Scheduler {
  readonly jobs: ReadonlyArray<Job>;
  readonly replica: string;
  #opts: SchedulerOptions;
  #timers = new Map<string, NodeJS.Timeout>();
  #inFlight = new Map<string, Promise<void>>();
  #stats = new Map<string, LocalJobStats>();
  #closing = new AbortController();

  constructor(opts: SchedulerOptions) {
    const names = new Set<string>();
    for (const job of opts.jobs) {
      if (names.has(job.name)) throw new Error(`two scheduled jobs are named ${job.name}`);
      if (!(job.intervalMs > 0)) throw new Error(`job ${job.name} needs a positive interval`);
      names.add(job.name);
    }
    this.#opts = opts;
    this.jobs = opts.jobs;
    this.replica = opts.replica ?? `${hostname()}#${process.pid}`;
    for (const job of opts.jobs) {
      this.#stats.set(job.name, {
        running: false,
        runs: 0,
        failed: 0,
        skipped: { busy: 0, held: 0, notDue: 0 },
        errors: 0,
      });
    }
  }

  /** Starts ticking every job; the first ticks come shortly after. */
  start(): void {
    if (this.#timers.size > 0 || this.#closing.signal.aborted) return;
    for (const job of this.jobs) this.#schedule(job, this.#opts.firstRunAfterMs ?? 5_000);
  }

  /** Each job's recorded last run and last success, with what this replica saw of it. */
  async status(): Promise<Array<JobStatus & { here: LocalJobStats }>> {
    const recorded = await jobStatus(this.#opts.store.db, this.jobs);
    return recorded.map((s) => ({ ...s, here: structuredClone(this.#stats.get(s.name)!) }));
  }

  /** Stops the timers, asks running jobs to stop (their signal) and waits for them to end. */
  async close(): Promise<void> {
    this.#closing.abort(new Error('the scheduler is closing'));
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
    await Promise.allSettled(this.#inFlight.values());
  }

  #schedule(job: Job, delayMs: number): void {
    if (this.#closing.signal.aborted) return;
    const jitter = this.#opts.jitterMs ?? Math.min(job.intervalMs / 10, 60_000);
    const timer = setTimeout(() => this.#tick(job), delayMs + Math.random() * jitter);
    timer.unref();
    this.#timers.set(job.name, timer);
  }

  /** The next tick is set at once, so a long run cannot delay the cadence, only skip ticks. */
  #tick(job: Job): void {
    this.#schedule(job, job.intervalMs);
    const stats = this.#stats.get(job.name)!;
    if (this.#inFlight.has(job.name)) {
      stats.skipped.busy += 1;
      return;
    }
    const run = this.#attempt(job, stats).finally(() => {
      this.#inFlight.delete(job.name);
      stats.running = false;
    });
    this.#inFlight.set(job.name, run);
  }

  /** Never rejects: whatever goes wrong is counted and logged. */
  async #attempt(job: Job, stats: LocalJobStats): Promise<void> {
    const { store, databaseUrl, log } = this.#opts;
    try {
      const held = await holdJob(store, databaseUrl, job.name, async (db, lost) => {
        await abandonRuns(db, job.name);
        const last = await lastEndedStart(db, job.name);
        if (last && Date.now() - Date.parse(last) < job.intervalMs * DUE_SHARE) {
          stats.skipped.notDue += 1;
          return;
        }
        if (this.#closing.signal.aborted) return;
        stats.running = true;
        stats.runs += 1;
        const seq = await beginRun(db, job.name, this.replica, new Date().toISOString());
        try {
          const counts = await job.run({ db, signal: AbortSignal.any([lost, this.#closing.signal]) });
          // Closed through the store, not the lock's connection: a run that lost it is still told.
          await finishRun(store.db, seq, { outcome: 'succeeded', endedAt: new Date().toISOString(), counts });
        } catch (err) {
          stats.failed += 1;
          log.error({ err, job: job.name }, 'scheduled job failed');
          const message = err instanceof Error ? err.message : String(err);
          await finishRun(store.db, seq, {
            outcome: 'failed',
            endedAt: new Date().toISOString(),
            error: redactString(message).slice(0, MAX_ERROR_CHARS),
          });
        }
        await pruneRuns(store.db, job.name, this.#opts.keepRuns ?? 100);
      });
      if (!held.held) stats.skipped.held += 1;
    } catch (err) {
      stats.errors += 1;
      log.error({ err, job: job.name }, 'scheduled job could not be run or recorded');
    }
  }
}
