/**
 * Periodic platform work (retention, later evidence collection, token refresh, drills): each
 * named job runs at its interval on one replica at a time, and its runs are recorded.
 *
 * @example
 *   const scheduler = new Scheduler({ store, databaseUrl, log, jobs: [
 *     { name: 'audit.retention', intervalMs: 3_600_000, run: async ({ db }) => ({ erased: await applyRetention(db) }) },
 *   ] });
 *   scheduler.start();
 *   await scheduler.close(); // stops the timers, waits for running jobs
 */
export { JobLockLost } from './hold.ts';
export type { Job, JobContext, JobCounts } from './job.ts';
export { type JobRun, type JobStatus, jobStatus, type RunOutcome, recentRuns } from './runs.ts';
export { type LocalJobStats, Scheduler, type SchedulerOptions } from './scheduler.ts';
