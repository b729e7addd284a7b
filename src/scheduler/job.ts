/**
 * What a scheduled job is: a name, how often, and the work. Jobs are platform-level; one that
 * acts per org (retention) loops the orgs itself.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../store/index.ts';

/** What a run reports, recorded with it: e.g. `{ erased: 123 }`. */
export type JobCounts = Record<string, number>;

export interface JobContext {
  /**
   * The database to do the job's work through. On PostgreSQL this is the connection that holds
   * the job's lock: if that connection dies the lock is gone and so is every later write of
   * this run, so a replica that lost the job cannot write behind the one that took it over.
   */
  db: Kysely<Database>;
  /** Aborted when the scheduler closes or the job's lock is lost; long jobs should stop. */
  signal: AbortSignal;
}

export interface Job {
  /** Stable dotted name, `domain.what` (`audit.retention`); it keys the lock and the history. */
  name: string;
  /** How often it runs across all replicas together. */
  intervalMs: number;
  run(ctx: JobContext): Promise<JobCounts | undefined>;
}
