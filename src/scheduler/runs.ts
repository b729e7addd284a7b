/**
 * The history of job runs (`job_runs`). A run is written when it starts (so a run cut short
 * still shows) and closed when it ends; each job keeps a bounded number of runs. Skipped ticks
 * are not written: every replica skips most ticks, and they would push the real runs out of the
 * history. The scheduler counts them instead (`Scheduler.status`).
 */
import type { Db } from '../store/index.ts';
import type { Job, JobCounts } from './job.ts';

export type RunOutcome = 'running' | 'succeeded' | 'failed' | 'abandoned';

export interface JobRun {
  job: string;
  replica: string;
  startedAt: string;
  endedAt: string | null;
  outcome: RunOutcome;
  /** A failed run's error message, redacted. */
  error: string | null;
  counts: JobCounts | null;
}

export interface JobStatus {
  name: string;
  intervalMs: number;
  /** The newest run, whatever its outcome (null: never ran). */
  lastRun: JobRun | null;
  /** When the newest successful run started (for "is it stale?"). */
  lastSucceededAt: string | null;
}

/** What a run found when it took the lock of a run that never ended (see `abandonRuns`). */
export const ABANDONED = 'its replica stopped or lost the lock before the run ended';

export async function beginRun(db: Db, job: string, replica: string, startedAt: string): Promise<number> {
  const row = await db
    .insertInto('job_runs')
    .values({ job, replica, started_at: startedAt, outcome: 'running' })
    .returning('seq')
    .executeTakeFirstOrThrow();
  return Number(row.seq);
}

/** Closes a run, unless another replica already found it abandoned. */
export async function finishRun(
  db: Db,
  seq: number,
  end: { outcome: 'succeeded' | 'failed'; endedAt: string; counts?: JobCounts | undefined; error?: string },
): Promise<void> {
  await db
    .updateTable('job_runs')
    .set({
      outcome: end.outcome,
      ended_at: end.endedAt,
      counts: end.counts ? JSON.stringify(end.counts) : null,
      error: end.error ?? null,
    })
    .where('seq', '=', seq)
    .where('outcome', '=', 'running')
    .execute();
}

/**
 * Called holding the job's lock: any run still `running` has no holder left (it died or lost
 * its connection), so it is marked abandoned.
 */
export async function abandonRuns(db: Db, job: string): Promise<void> {
  await db
    .updateTable('job_runs')
    .set({ outcome: 'abandoned', error: ABANDONED })
    .where('job', '=', job)
    .where('outcome', '=', 'running')
    .execute();
}

/** When the newest run that ended (succeeded or failed) started, on any replica. */
export async function lastEndedStart(db: Db, job: string): Promise<string | null> {
  const row = await db
    .selectFrom('job_runs')
    .select('started_at')
    .where('job', '=', job)
    .where('outcome', 'in', ['succeeded', 'failed'])
    .orderBy('seq', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row?.started_at ?? null;
}

/** Keeps the newest `keep` runs of a job. */
export async function pruneRuns(db: Db, job: string, keep: number): Promise<void> {
  await db
    .deleteFrom('job_runs')
    .where('job', '=', job)
    .where('seq', '<=', (eb) =>
      eb
        .selectFrom('job_runs')
        .select('seq')
        .where('job', '=', job)
        .orderBy('seq', 'desc')
        .limit(1)
        .offset(keep),
    )
    .execute();
}

/**
 * The newest runs of a job, newest first.
 *
 * @example
 *   const [last] = await recentRuns(db, 'audit.retention', 1);
 */
export async function recentRuns(db: Db, job: string, limit: number): Promise<JobRun[]> {
  const rows = await db
    .selectFrom('job_runs')
    .selectAll()
    .where('job', '=', job)
    .orderBy('seq', 'desc')
    .limit(limit)
    .execute();
  return rows.map((r) => ({
    job: r.job,
    replica: r.replica,
    startedAt: r.started_at,
    endedAt: r.ended_at,
    outcome: r.outcome as RunOutcome,
    error: r.error,
    counts: r.counts ? (JSON.parse(r.counts) as JobCounts) : null,
  }));
}

/**
 * Each job's last run and last success, as every replica recorded them: what `paddock jobs`
 * prints and what metrics read.
 */
export async function jobStatus(
  db: Db,
  jobs: ReadonlyArray<Pick<Job, 'name' | 'intervalMs'>>,
): Promise<JobStatus[]> {
  return Promise.all(
    jobs.map(async (job) => {
      const [lastRun] = await recentRuns(db, job.name, 1);
      const ok = await db
        .selectFrom('job_runs')
        .select('started_at')
        .where('job', '=', job.name)
        .where('outcome', '=', 'succeeded')
        .orderBy('seq', 'desc')
        .limit(1)
        .executeTakeFirst();
      return {
        name: job.name,
        intervalMs: job.intervalMs,
        lastRun: lastRun ?? null,
        lastSucceededAt: ok?.started_at ?? null,
      };
    }),
  );
}
